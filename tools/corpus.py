"""The local corpus: the user's files read once, merged by identity and searched with BM25.

Parsed documents and the index are cached on disk under `cache_dir/<fingerprint>/`.
The fingerprint hashes every file's resolved path, size and modification time, so a
file added, removed or modified gives a new fingerprint and a fresh build; a cache is
written to a temporary folder and renamed into place, so concurrent processes never
read half of one. `load_corpus` shares one loaded corpus per fingerprint across the
process, so many parallel agents search one index.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter

from graph.errors import SwarmError
from tools.index import SearchIndex
from tools.readers import DOCUMENT_SUFFIXES, UnreadableDocument, read_document
from tools.records import RECORDS_SUFFIXES, read_records
from tools.source import Source

log = logging.getLogger(__name__)

CACHE_FORMAT = "3"
"""Part of the fingerprint: bump it when reading or indexing changes what a cache holds."""

SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES | RECORDS_SUFFIXES
_KINDS = (
    "add PDF, DOCX, HTML, Markdown or text files, "
    "or a records file (JSON Lines, CSV, BibTeX, CSL-JSON)"
)
_SOURCES = TypeAdapter(list[Source])
_WARNED_SKIPS = 20

CorpusPaths = str | Path | Sequence[str | Path]


class CorpusStats(BaseModel):
    """What loading found: files read, documents kept, duplicates merged, what was skipped."""

    files_seen: int = 0
    documents: int = 0
    merged: int = Field(0, description="records folded into another with the same identity")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="file or record locator -> why it was skipped"
    )


class Corpus:
    """The user's documents and records as Sources with full text, searchable with BM25."""

    stats: CorpusStats
    fingerprint: str
    cached: bool  # read from the on-disk cache rather than built from the files

    def __init__(
        self,
        sources: list[Source],
        texts: list[str],
        stats: CorpusStats,
        fingerprint: str,
        index: SearchIndex,
        *,
        cached: bool = False,
    ) -> None:
        self._sources = sources
        self._texts = texts
        self._positions = {source.identity: i for i, source in enumerate(sources)}
        self._index = index
        self.stats = stats
        self.fingerprint = fingerprint
        self.cached = cached

    @classmethod
    def load(cls, paths: CorpusPaths, cache_dir: Path | None = None) -> Corpus:
        """Read folders (recursively) and files, reusing the cache when nothing changed."""
        files = find_corpus_files(paths)
        return cls._open(files, fingerprint(files), _describe(paths), cache_dir)

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, identity: object) -> bool:
        return identity in self._positions

    def __repr__(self) -> str:
        return f"Corpus({len(self)} documents, fingerprint={self.fingerprint})"

    @property
    def documents(self) -> list[Source]:
        return list(self._sources)

    def get(self, identity: str) -> Source:
        """The Source with this identity; KeyError when the corpus has none."""
        return self._sources[self._position(identity)]

    def text(self, identity: str) -> str:
        """The full text of the document with this identity."""
        return self._texts[self._position(identity)]

    def search(self, query: str, k: int = 10) -> list[tuple[Source, float]]:
        """The `k` best matches for `query` by BM25, best first; only scores above zero."""
        return [(self._sources[i], score) for i, score in self._index.search(query, k)]

    def _position(self, identity: str) -> int:
        try:
            return self._positions[identity]
        except KeyError:
            raise KeyError(f"no document {identity!r} in the corpus") from None

    @classmethod
    def _open(
        cls, files: list[Path], fingerprint: str, described: str, cache_dir: Path | None
    ) -> Corpus:
        directory = (cache_dir or default_cache_dir()) / fingerprint
        damaged = False
        if directory.is_dir():
            try:
                corpus = cls._read_cache(directory, fingerprint)
            except (OSError, EOFError, ValueError, KeyError) as exc:
                log.warning("corpus cache %s is damaged (%s); rebuilding it", directory, exc)
                damaged = True
            else:
                _warn_skipped(corpus.stats)
                return corpus
        corpus = cls._build(files, fingerprint, described)
        _warn_skipped(corpus.stats)
        corpus._write_cache(directory, replace=damaged)
        return corpus

    @classmethod
    def _build(cls, files: list[Path], fingerprint: str, described: str) -> Corpus:
        stats = CorpusStats(files_seen=len(files))
        sources: list[Source] = []
        texts: list[str] = []
        positions: dict[str, int] = {}
        for file in files:
            try:
                if file.suffix.lower() in RECORDS_SUFFIXES:
                    entries, skipped = read_records(file)
                    stats.skipped.update(skipped)
                else:
                    entries = [read_document(file)]
            except UnreadableDocument as exc:
                stats.skipped[exc.path] = exc.reason
                continue
            for source, text in entries:
                identity = source.identity
                if (at := positions.get(identity)) is None:
                    positions[identity] = len(sources)
                    sources.append(source)
                    texts.append(text)
                else:
                    sources[at], texts[at] = _merge((sources[at], texts[at]), (source, text))
                    stats.merged += 1
        if not sources:
            unread = f" ({len(stats.skipped)} could not be read, see warnings)"
            _warn_skipped(stats)
            raise SwarmError(
                f"no sources found in {described}{unread if stats.skipped else ''}: {_KINDS}"
            )
        stats.documents = len(sources)
        # The title is indexed with every text: front matter and metadata titles are not in the
        # body, and counting a record's title twice weighs titles alike for every kind of file.
        index = SearchIndex.build(
            [f"{s.title}\n\n{t}" for s, t in zip(sources, texts, strict=True)]
        )
        return cls(sources, texts, stats, fingerprint, index)

    @classmethod
    def _read_cache(cls, directory: Path, fingerprint: str) -> Corpus:
        sources = _SOURCES.validate_json((directory / "sources.json").read_bytes())
        texts = json.loads((directory / "texts.json").read_text(encoding="utf-8"))
        stats = CorpusStats.model_validate_json((directory / "stats.json").read_bytes())
        if len(texts) != len(sources):
            raise ValueError("sources and texts differ in length")
        index = SearchIndex.load(directory / "index")
        return cls(sources, texts, stats, fingerprint, index, cached=True)

    def _write_cache(self, directory: Path, *, replace: bool) -> None:
        """Write into a temporary folder, then rename it into place in one step."""
        try:
            directory.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        except OSError as exc:
            log.warning("could not cache the corpus in %s: %s", directory.parent, exc)
            return
        try:
            (staging / "sources.json").write_bytes(_SOURCES.dump_json(self._sources))
            (staging / "texts.json").write_text(json.dumps(self._texts), encoding="utf-8")
            (staging / "stats.json").write_text(self.stats.model_dump_json(), encoding="utf-8")
            self._index.save(staging / "index")
            if replace:
                shutil.rmtree(directory, ignore_errors=True)
            os.rename(staging, directory)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if not directory.is_dir():  # else another process has just written the same cache
                log.warning("could not cache the corpus in %s: %s", directory, exc)


_LOADED: dict[str, Corpus] = {}
_LOADING = threading.Lock()


def load_corpus(paths: CorpusPaths, cache_dir: Path | None = None) -> Corpus:
    """The one Corpus of this process for these files: loaded once, shared by every caller."""
    files = find_corpus_files(paths)
    key = fingerprint(files)
    with _LOADING:
        if (corpus := _LOADED.get(key)) is None:
            corpus = _LOADED[key] = Corpus._open(files, key, _describe(paths), cache_dir)
            # The index lives as long as the process: move it, and everything loaded so far,
            # out of the collector's reach, or each full collection walks it again.
            gc.freeze()
    return corpus


def default_cache_dir() -> Path:
    """`$SWARM_CACHE_DIR`, else `~/.cache/agent-swarm`."""
    configured = os.environ.get("SWARM_CACHE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "agent-swarm"


def find_corpus_files(paths: CorpusPaths) -> list[Path]:
    """Every supported file under the given folders (recursively, hidden ones skipped) and files.

    Raises SwarmError for a path that does not exist, a file of an unsupported type,
    or when no supported file is found at all.
    """
    given = _as_list(paths)
    if not given:
        raise SwarmError(f"no corpus path given: pass a folder or file of sources, {_KINDS}")
    found: dict[Path, None] = {}
    for raw in given:
        path = Path(raw).expanduser()
        if not path.exists():
            raise SwarmError(
                f"corpus path {raw} does not exist: check the path, or pass a folder or file "
                "of sources"
            )
        if path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise SwarmError(
                    f"corpus file {raw} has an unsupported type ({path.suffix or 'no suffix'}): "
                    f"{_KINDS}"
                )
            found[path.resolve()] = None
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                    found[(Path(folder) / name).resolve()] = None
    if not found:
        raise SwarmError(f"no sources found in {_describe(paths)}: {_KINDS}")
    return list(found)


def fingerprint(files: Sequence[Path]) -> str:
    """A hash of each file's resolved path, size and modification time, and the cache format."""
    digest = hashlib.sha256(f"agent-swarm corpus {CACHE_FORMAT}\n".encode())
    for file in sorted(files):
        status = file.stat()
        digest.update(f"{file}\t{status.st_size}\t{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def _merge(first: tuple[Source, str], second: tuple[Source, str]) -> tuple[Source, str]:
    """One work read twice: the richer metadata, gaps filled from the other, the longer text."""
    (a, a_text), (b, b_text) = first, second
    rich, poor = (a, b) if _richness(a) >= _richness(b) else (b, a)
    fields = rich.model_dump()
    for name, value in poor.model_dump().items():
        if value and not fields[name]:
            fields[name] = value
    text_source, text = (a, a_text) if len(a_text) >= len(b_text) else (b, b_text)
    fields["origin"] = text_source.origin
    return Source(**fields), text


def _richness(source: Source) -> tuple[int, int]:
    filled = (source.authors, source.year, source.venue, source.doi, source.arxiv_id, source.url)
    return sum(bool(value) for value in filled) + bool(source.abstract), len(source.abstract)


def _warn_skipped(stats: CorpusStats) -> None:
    """One warning per skipped file or record, up to a limit, then a count of the rest."""
    for origin, reason in list(stats.skipped.items())[:_WARNED_SKIPS]:
        log.warning("skipped %s: %s", origin, reason)
    if (rest := len(stats.skipped) - _WARNED_SKIPS) > 0:
        log.warning("skipped %d more files or records (see Corpus.stats.skipped)", rest)


def _as_list(paths: CorpusPaths) -> list[str | Path]:
    return [paths] if isinstance(paths, str | Path) else list(paths)


def _describe(paths: CorpusPaths) -> str:
    return ", ".join(str(path) for path in _as_list(paths))
