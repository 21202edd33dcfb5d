"""Themes from sources: TF-IDF over terms, k-means with k chosen by silhouette, readable
names from each cluster's distinctive terms, and lines of work inside each theme.

Everything is seeded and tie-broken by input order, so the same sources always give
the same outline.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

from graph.engines.base import Group, NotedSource, Outline, Theme
from graph.engines.text import (
    COMMON_VERBS,
    GENERIC_WORDS,
    SurfaceForms,
    clean_latex,
    content_stems,
    join_list,
    looks_adjective,
    phrases,
    third_person_verb,
    title_case,
)

Term = tuple[str, ...]
SEED = 0
GROUP_MAX = 8
GROUP_TARGET = 5


@dataclass
class TermSpace:
    """Documents as TF-IDF rows over stemmed terms of one to three words.

    `present` marks which document uses which term. `labels` marks the terms fit to
    name something: mostly used as a whole noun phrase (never a fragment such as
    "limits control" or "statistical process" that usually continues), not only topic
    words. `weights` favour multi-word terms, which read as names.
    """

    terms: list[Term]
    matrix: sparse.csr_matrix
    present: sparse.csr_matrix
    forms: SurfaceForms
    labels: np.ndarray
    weights: np.ndarray

    @classmethod
    def of_sources(cls, sources: Sequence[NotedSource], topic: str = "") -> TermSpace:
        """Sources by their title, abstract and key terms (the lowercased key terms count
        as terms but say nothing about how a term is capitalised)."""
        texts = [clean_latex(f"{s.title}. {s.abstract}.") for s in sources]
        extras = [". ".join(s.notes.keywords) for s in sources]
        return cls.build(texts, topic, extras)

    @classmethod
    def build(
        cls, texts: Sequence[str], topic: str = "", extras: Sequence[str] | None = None
    ) -> TermSpace:
        topic_stems = set(content_stems(topic))
        forms = SurfaceForms()
        index: dict[Term, int] = {}
        starts: Counter[Term] = Counter()
        nouns: Counter[Term] = Counter()
        uses: Counter[Term] = Counter()
        rows: list[Counter[int]] = []
        for i, text in enumerate(texts):
            counts: Counter[int] = Counter()
            own = list(phrases(text, max_len=3))
            extra = list(phrases(extras[i], max_len=3)) if extras else []
            for n, phrase in enumerate([*own, *extra]):
                column = index.setdefault(phrase.stems, len(index))
                counts[column] += 1
                starts[phrase.stems] += phrase.start
                nouns[phrase.stems] += phrase.noun
                uses[phrase.stems] += 1
                forms.add(phrase, cased=n < len(own))
            rows.append(counts)
        terms = list(index)
        data, indices, indptr = [], [], [0]
        for counts in rows:
            for column in sorted(counts):
                indices.append(column)
                data.append(1.0 + math.log(counts[column]))
            indptr.append(len(indices))
        tf = sparse.csr_matrix((data, indices, indptr), shape=(len(texts), len(terms)))
        present = tf.copy()
        present.data[:] = 1.0
        df = np.asarray(present.sum(axis=0)).ravel()
        n = max(len(texts), 1)
        keep = df >= (2 if n >= 10 else 1)
        idf = np.log((1 + n) / (1 + df)) + 1.0
        idf[~keep] = 0.0
        matrix = normalize(tf @ sparse.diags(idf))
        labels = np.array(
            [
                keep[i]
                and 3 * nouns[t] >= uses[t]
                and (len(t) == 1 or 3 * starts[t] >= uses[t])
                and not set(t) <= topic_stems
                and all(len(w) > 2 for w in t)
                and nameable(forms.best(t))
                for i, t in enumerate(terms)
            ],
            dtype=bool,
        )
        weights = np.array([{1: 1.0, 2: 1.8}.get(words_in(t), 2.0) for t in terms])
        return cls(terms, matrix.tocsr(), present.tocsr(), forms, labels, weights)

    def shown(self, term: Term) -> str:
        return self.forms.best(term)


def words_in(term: Term) -> int:
    """How many words a term counts as: a hyphenated compound ("re-ranking") counts two."""
    return len(term) + (len(term) == 1 and "-" in term[0])


WEAK_NOUNS = frozenset(
    """
    analysis approach area average behavior behaviour case change changes characteristic
    characteristics comparison component components condition conditions construct data
    design detection distribution error errors estimate estimates estimation evaluation
    extend extension fit framework function functions information learning level location
    means measure measures missing model models note observation observations parameter
    parameters pattern patterns performance practice prediction presence procedure process
    processes property properties quality rate rates sample samples sequence setting
    settings shift shifts state states statistic statistics structure support system
    systems test tests time times tool tools trend value values variable variables variety
    algorithm algorithms bound bounds bridge close closer group groups importance interest
    success production safety feature features magnitude magnitudes rule rules phase phases
    limit limits environment environments defect defects range ranges method methods
    implementation implementations effectiveness accuracy training years year field fields
    task tasks aid basis amount amounts degree degrees point points stage stages step steps
    industry industries applicability operating size sizes moving monitoring control
    connection connections simulation simulations mechanism mechanisms output outputs
    in-control out-of-control univariate multivariate nonparametric parametric superior
    inferior robust novel similar different challenge challenges formula formulas moment
    moments embedding text texts corpus corpora context contexts sentence sentences draft
    drafts cost costs candidate candidates collection collections filter filters evidence
    pair pairs window windows list lists dataset datasets benchmark benchmarks document
    documents query queries answer answers token tokens index indexes indices prompt prompts
    agent agents citation citations dimension dimensions domain domains node nodes relation
    relations summary summaries passage passages database databases trillions billions
    encoder encoders decoder decoders short long last first decade decades period periods
    class classes power mean matrix matrices length lengths
    millions position positions content contents input inputs item items user users
    """.split()
)
"""Nouns too broad to name a theme on their own (fine inside a longer term)."""


_PLURALS = frozenset(
    "models results needs uses tests samples controls charts designs limits measures "
    "answers signals forms links returns supports studies targets updates views changes "
    "conditions effects reports searches features scales ranks matches".split()
)
"""-s forms that, at the end of a term, are plural nouns rather than verbs."""
_PARTICIPLES = frozenset(
    "written given taken known shown seen done made chosen drawn grown driven broken built "
    "found held kept led left lost met paid put read run set sent spent told thought won".split()
)
"""Irregular participles: a term never ends on one ("challenge dataset and written")."""


def nameable(shown: str) -> bool:
    """Whether a term can name a theme: a noun phrase, not a lone adjective or broad noun."""
    tokens = shown.split()
    last = tokens[-1]
    if last.lower().endswith("ed") and not last.isupper() or last.lower() in _PARTICIPLES:
        return False
    if len(tokens) == 2 and looks_adjective(tokens[0].lower()) and last.lower() in WEAK_NOUNS:
        return False
    if len(tokens) > 1 and third_person_verb(last.lower()) and last.lower() not in _PLURALS:
        return False
    if len(tokens) > 1:
        return True
    word = tokens[0]
    if sum(c.isupper() for c in word) >= 2:
        return True
    lower = word.lower()
    if lower in WEAK_NOUNS or lower in GENERIC_WORDS or lower in COMMON_VERBS:
        return False
    if lower.endswith("ing") and word[:1].isupper():
        return False
    return not looks_adjective(lower) and not third_person_verb(lower)


def distinctive_terms(
    space: TermSpace,
    members: Sequence[int],
    others: Sequence[int],
    limit: int = 8,
    floor: float | None = None,
) -> list[Term]:
    """Terms that mark `members` against `others`: frequent inside, rare outside.

    The score is the share of members using a term times the log-ratio of that share
    to the share among the others (a smoothed lift), with two-word terms favoured
    because they read as names.
    """
    if not members:
        return []
    inside = np.asarray(space.present[list(members)].sum(axis=0)).ravel()
    p_in = inside / len(members)
    if others:
        outside = np.asarray(space.present[list(others)].sum(axis=0)).ravel()
        p_out = outside / len(others)
    else:
        p_out = np.zeros_like(p_in)
    lift = np.log((p_in + 0.02) / (p_out + 0.02))
    score = p_in * np.maximum(lift, 0) * space.weights
    if floor is None:
        floor = 1.5 / len(members) if len(members) > 1 else 0.0
    usable = space.labels & (p_in >= floor) & (score > 0)
    candidates = [i for i in np.flatnonzero(usable)]
    candidates.sort(key=lambda i: (-score[i], space.terms[i]))
    chosen: list[Term] = []
    for i in candidates:
        term = space.terms[i]
        if any(overlaps(term, c) for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) >= limit:
            break
    return chosen


def overlaps(a: Term, b: Term) -> bool:
    """Whether two terms share a word, counting words of one family ("summar", "summari")
    as one: stems that begin alike over five letters or more."""
    return any(
        x == y or min(len(x), len(y)) >= 5 and (x.startswith(y) or y.startswith(x))
        for x in a
        for y in b
    )


def name_for(space: TermSpace, terms: list[Term], taken: set[str]) -> str:
    """A heading from the best two terms ("Phase II Monitoring and Profile Data"),
    different from the headings already `taken`. Multi-word terms lead: they read as
    names, where a lone word ("Network") is kept for the second place."""
    ordered = [t for t in terms if words_in(t) > 1] + [t for t in terms if words_in(t) == 1]
    shown = [space.shown(t) for t in ordered]
    pairs = [(a, b) for i, a in enumerate(shown) for b in shown[i + 1 : i + 3]]
    for a, b in pairs:
        title = title_case(f"{a} and {b}")
        if title.lower() not in taken:
            return title
    for a in shown:
        if title_case(a).lower() not in taken:
            return title_case(a)
    return ""


def cluster_count_range(n: int, max_themes: int, min_size: int) -> range:
    upper = min(max_themes, n // min_size)
    return range(min(3, upper), upper + 1) if upper >= 2 else range(1, 2)


def kmeans(points: np.ndarray, k: int, n_init: int = 4, iterations: int = 100) -> np.ndarray:
    """Cluster labels by Lloyd's k-means with seeded k-means++ starts; the run with the
    least inertia wins. Plain numpy: small inputs stay fast and single-threaded."""
    rng = np.random.default_rng(SEED)
    norms = (points**2).sum(axis=1)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(n_init):
        centers = _plus_plus(points, norms, k, rng)
        labels = np.zeros(len(points), dtype=int)
        for step in range(iterations):
            distance = norms[:, None] - 2 * points @ centers.T + (centers**2).sum(axis=1)[None, :]
            updated = distance.argmin(axis=1)
            if step and np.array_equal(updated, labels):
                break
            labels = updated
            for c in range(k):
                if np.any(labels == c):
                    centers[c] = points[labels == c].mean(axis=0)
        inertia = float(distance[np.arange(len(points)), labels].sum())
        if best is None or inertia < best[0] - 1e-9:
            best = (inertia, labels.copy())
    assert best is not None
    return best[1]


def _plus_plus(
    points: np.ndarray, norms: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """k-means++ seeding: each next center drawn with probability ~ squared distance."""
    centers = [points[int(rng.integers(len(points)))]]
    closest = norms - 2 * points @ centers[0] + centers[0] @ centers[0]
    for _ in range(1, k):
        weights = np.clip(closest, 0, None)
        total = weights.sum()
        if total <= 0:
            index = int(rng.integers(len(points)))
        else:
            index = int(rng.choice(len(points), p=weights / total))
        centers.append(points[index])
        closest = np.minimum(
            closest, norms - 2 * points @ points[index] + points[index] @ points[index]
        )
    return np.array(centers, dtype=float)


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with cosine distance (points are unit rows)."""
    distance = 1.0 - points @ points.T
    clusters = sorted(set(labels.tolist()))
    means = np.zeros((len(points), len(clusters)))
    sizes = np.array([np.sum(labels == c) for c in clusters])
    for j, c in enumerate(clusters):
        means[:, j] = distance[:, labels == c].sum(axis=1)
    own = np.searchsorted(clusters, labels)
    rows = np.arange(len(points))
    own_size = sizes[own]
    a = np.where(own_size > 1, means[rows, own] / np.maximum(own_size - 1, 1), 0.0)
    others = means / sizes[None, :]
    others[rows, own] = np.inf
    b = others.min(axis=1)
    score = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(score.mean())


def merge_small(points: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """Clusters smaller than min_size dissolved, members moved to the closest other centroid."""
    labels = labels.copy()
    while True:
        sizes = Counter(labels.tolist())
        if len(sizes) <= 1:
            return labels
        small = sorted((size, c) for c, size in sizes.items() if size < min_size)
        if not small:
            return labels
        _, victim = small[0]
        kept = sorted(c for c in sizes if c != victim)
        centroids = normalize(np.vstack([points[labels == c].mean(axis=0) for c in kept]))
        for i in np.flatnonzero(labels == victim):
            labels[i] = kept[int(np.argmax(centroids @ points[i]))]


def relabel_by_size(labels: np.ndarray) -> list[list[int]]:
    """Clusters as member lists, largest first, ties by first member."""
    clusters: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        clusters.setdefault(label, []).append(i)
    return sorted(clusters.values(), key=lambda members: (-len(members), members[0]))


def lsa(matrix: sparse.csr_matrix, components: int = 100) -> np.ndarray:
    """Rows reduced to their main latent directions (LSA), for steadier clusters.

    Up to a few thousand rows the small Gram matrix is decomposed exactly (fast and
    seed-free); beyond that, a seeded randomized SVD.
    """
    n, v = matrix.shape
    components = min(components, n - 1, v - 1)
    if components < 2:
        return matrix.toarray()
    if n <= 2000:
        gram = (matrix @ matrix.T).toarray()
        values, vectors = linalg.eigh(gram, subset_by_index=[n - components, n - 1])
        reduced = vectors[:, ::-1] * np.sqrt(np.clip(values[::-1], 0, None))
    else:
        reduced = TruncatedSVD(n_components=components, random_state=SEED).fit_transform(matrix)
    return normalize(reduced)


def choose_clusters(points: np.ndarray, max_themes: int, min_size: int) -> list[list[int]]:
    """K-means for each k in range, tiny clusters merged; the best silhouette wins."""
    n = points.shape[0]
    best: tuple[float, list[list[int]]] | None = None
    for k in cluster_count_range(n, max_themes, min_size):
        if k < 2 or not np.any(points):
            return [list(range(n))]
        labels = merge_small(points, kmeans(points, k), min_size)
        if len(set(labels.tolist())) < 2:
            score = -1.0
        else:
            score = silhouette(points, labels)
        if best is None or score > best[0] + 1e-9:
            best = (score, relabel_by_size(labels))
    assert best is not None
    return best[1]


def lines_of_work(points: np.ndarray, members: list[int]) -> list[list[int]]:
    """Members split into groups of 2 to GROUP_MAX similar sources (capacity-bound k-means)."""
    n = len(members)
    if n <= GROUP_MAX:
        return [members]
    rows = points[members]
    k = math.ceil(n / GROUP_TARGET)
    labels = kmeans(rows, k, n_init=3)
    centroids = normalize(np.vstack([rows[labels == c].mean(axis=0) for c in range(k)]))
    similarity = rows @ centroids.T
    assignment = [-1] * n
    room = [GROUP_MAX] * k
    for i in sorted(range(n), key=lambda i: (-similarity[i].max(), i)):
        for c in sorted(range(k), key=lambda c: (-similarity[i, c], c)):
            if room[c]:
                assignment[i] = c
                room[c] -= 1
                break
    sizes = Counter(assignment)
    for i in range(n):
        c = assignment[i]
        if sizes[c] == 1:
            options = [d for d in range(k) if d != c and 0 < sizes[d] < GROUP_MAX]
            if options:
                target = max(options, key=lambda d: (similarity[i, d], -d))
                sizes[c] -= 1
                sizes[target] += 1
                assignment[i] = target
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(assignment):
        groups.setdefault(c, []).append(members[i])
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def rising_terms(
    space: TermSpace,
    members: Sequence[int],
    years: Sequence[int | None],
    limit: int = 3,
    exclude: Sequence[Term] = (),
) -> tuple[list[Term], int | None]:
    """Terms used more in the later half of the members' years than in the earlier half,
    with the first year of the later half."""
    dated = [(years[i], i) for i in members if years[i] is not None]
    distinct = sorted({y for y, _ in dated})
    if len(distinct) < 2 or len(dated) < 4:
        return [], None
    ordered = sorted(y for y, _ in dated)
    median = ordered[len(ordered) // 2]
    later = [i for y, i in dated if y >= median]
    earlier = [i for y, i in dated if y < median]
    if not earlier:
        later = [i for y, i in dated if y > median]
        earlier = [i for y, i in dated if y <= median]
    if len(later) < 2 or not earlier:
        return [], None
    late = np.asarray(space.present[later].sum(axis=0)).ravel()
    early = np.asarray(space.present[earlier].sum(axis=0)).ravel()
    p_late, p_early = late / len(later), early / len(earlier)
    score = (p_late - p_early) * np.log((p_late + 0.05) / (p_early + 0.05)) * space.weights
    usable = space.labels & (late >= 2) & (p_late >= 2 * p_early) & (p_late > p_early)
    candidates = sorted(np.flatnonzero(usable), key=lambda i: (-score[i], space.terms[i]))
    chosen: list[Term] = []
    for i in candidates:
        term = space.terms[i]
        if not any(overlaps(term, c) for c in [*chosen, *exclude]):
            chosen.append(term)
        if len(chosen) >= limit:
            break
    first_late = min(years[i] for i in later)
    return chosen, first_late


def outline(topic: str, sources: list[NotedSource], max_themes: int) -> Outline:
    """Sources clustered into at most max_themes themes, each split into lines of work."""
    unique = list({s.key: s for s in reversed(sources)}.values())[::-1]
    if not unique:
        return Outline(themes=[])
    space = TermSpace.of_sources(unique, topic)
    n = len(unique)
    min_size = max(3, n // 40)
    points = lsa(space.matrix)
    clusters = choose_clusters(points, max(1, max_themes), min_size)
    years = [s.year for s in unique]

    themes: list[Theme] = []
    taken: set[str] = set()
    for number, members in enumerate(clusters, start=1):
        inside = set(members)
        others = [i for i in range(n) if i not in inside]
        terms = distinctive_terms(space, members, others, limit=8)
        title = name_for(space, terms, taken) or title_case(topic) or f"Theme {number}"
        taken.add(title.lower())
        keywords = [space.shown(t) for t in terms[:6]]
        groups = _groups(space, points, members, unique, title)
        themes.append(
            Theme(
                id=f"t{number}",
                title=title,
                summary=theme_summary(space, members, years, terms),
                keywords=keywords,
                keys=[unique[i].key for i in members],
                groups=groups,
            )
        )
    return Outline(themes=themes)


def _groups(
    space: TermSpace,
    points: np.ndarray,
    members: list[int],
    sources: list[NotedSource],
    theme_title: str,
) -> list[Group]:
    lines = lines_of_work(points, members)
    groups: list[Group] = []
    taken = {theme_title.lower()}
    for line in lines:
        in_line = set(line)
        rest = [i for i in members if i not in in_line]
        terms = distinctive_terms(space, line, rest, limit=4)
        if sum(len(t) > 1 for t in terms) < 2:
            terms += [
                t
                for t in distinctive_terms(space, line, rest, limit=6, floor=1 / len(line))
                if len(t) > 1 and not any(set(t) & set(c) for c in terms)
            ]
        label = name_for(space, terms, taken) if len(lines) > 1 else theme_title
        label = label or f"{theme_title}: further work"
        taken.add(label.lower())
        groups.append(Group(label=label, keys=[sources[i].key for i in line]))
    return groups


def theme_summary(
    space: TermSpace, members: list[int], years: Sequence[int | None], terms: list[Term]
) -> str:
    """One sentence: how many sources, which years, the key terms, and what is rising."""
    dated = sorted(y for i in members if (y := years[i]) is not None)
    span = f", {dated[0]}–{dated[-1]}" if dated and dated[0] != dated[-1] else ""
    span = span or (f", {dated[0]}" if dated else "")
    count = f"{len(members)} source{'s' if len(members) != 1 else ''}"
    keywords = [space.shown(t) for t in terms[:4]]
    summary = f"Work on {join_list(keywords) or 'related questions'} ({count}{span})"
    rising, since = rising_terms(space, members, years, exclude=terms[:4])
    if rising:
        shown = join_list([space.shown(t) for t in rising[:2]])
        summary += f"; since {since}, recent work turns to {shown}"
    return summary + "."
