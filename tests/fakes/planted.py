"""A generated corpus with known answers: six planted themes, eight documents each.

Every document uses its theme's vocabulary and holds one planted fact: a sentence
naming a trial site that no other document names. A review of it should give each
theme a section and never cite a document for a fact it does not state. Shared by
the tests and `bench/quality.py`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

PROMPT = (
    "Urban water systems: leak detection in pipe networks, water demand forecasting, "
    "desalination membranes, groundwater recharge, stormwater green infrastructure and "
    "drinking water quality sensing"
)

THEMES: dict[str, dict[str, list[str]]] = {
    "leaks": {
        "title": ["Leak detection in pipe networks"],
        "subjects": ["acoustic leak detection", "pressure transient analysis", "hydrophone arrays"],
        "objects": ["buried pipe leaks", "water main bursts", "pipe network leakage"],
        "sentences": [
            "Acoustic sensors mounted on hydrants listen for the hiss of {object}.",
            "{Subject} locates {object} by correlating signals between two hydrophones.",
            "Pressure transients travel along the pipe and reflect at each leak.",
            "Night flow monitoring in district metered areas reveals {object}.",
            "Correlation of hydrophone signals narrows the leak position to a few metres.",
            "Ageing cast iron mains lose a large share of treated water through leaks.",
        ],
    },
    "demand": {
        "title": ["Water demand forecasting"],
        "subjects": ["seasonal demand models", "household consumption forecasting"],
        "objects": ["daily water demand", "household consumption", "peak hourly demand"],
        "sentences": [
            "{Subject} predicts {object} from temperature, rainfall and holidays.",
            "Smart meter readings give hourly series of {object}.",
            "Seasonal patterns dominate {object} in summer heat waves.",
            "Recurrent networks and gradient boosting forecast {object} a day ahead.",
            "Forecast errors of consumption grow during drought restrictions.",
            "Utilities schedule pumping from the demand forecast to save energy.",
        ],
    },
    "desalination": {
        "title": ["Desalination membranes"],
        "subjects": ["reverse osmosis desalination", "membrane distillation"],
        "objects": ["seawater salinity", "membrane fouling", "brine discharge"],
        "sentences": [
            "{Subject} removes salt from seawater by pushing it through a membrane.",
            "Membrane fouling by organic matter raises the energy cost of desalination.",
            "Brine discharge returns concentrated salt to the coastal sea.",
            "Energy recovery devices cut the pressure energy of reverse osmosis plants.",
            "Pretreatment with ultrafiltration limits {object} on the membranes.",
            "Thin film composite membranes reject most dissolved salt ions.",
        ],
    },
    "groundwater": {
        "title": ["Groundwater recharge"],
        "subjects": ["managed aquifer recharge", "infiltration basins"],
        "objects": ["the water table", "aquifer storage", "recharge rates"],
        "sentences": [
            "{Subject} raises {object} by infiltrating treated water into the aquifer.",
            "Infiltration basins spread water over sandy soils above the aquifer.",
            "Clogging of the basin floor reduces infiltration over the recharge season.",
            "Tracer tests measure the travel time of recharged water in the aquifer.",
            "Groundwater models estimate {object} from well observations.",
            "Aquifer storage and recovery banks winter water for summer use.",
        ],
    },
    "stormwater": {
        "title": ["Stormwater green infrastructure"],
        "subjects": ["bioswales", "rain gardens", "permeable pavement"],
        "objects": ["urban runoff", "peak stormwater flows", "combined sewer overflows"],
        "sentences": [
            "{Subject} captures {object} and lets it soak into the soil.",
            "Green roofs retain rainfall and delay {object}.",
            "Rain gardens planted with native species filter runoff pollutants.",
            "Permeable pavement stores storm runoff in its gravel base.",
            "Green infrastructure reduces {object} during intense storms.",
            "Bioswales along streets convey and infiltrate stormwater runoff.",
        ],
    },
    "quality": {
        "title": ["Drinking water quality sensing"],
        "subjects": ["online turbidity sensors", "chlorine residual monitoring"],
        "objects": ["chlorine residual", "turbidity spikes", "bacterial contamination"],
        "sentences": [
            "{Subject} tracks {object} in the distribution network in real time.",
            "Low chlorine residual signals a risk of bacterial regrowth in biofilm.",
            "Turbidity spikes follow pipe bursts and flushing of sediment.",
            "Event detection algorithms flag contamination from sensor anomalies.",
            "Biofilm on pipe walls harbours bacteria that consume chlorine.",
            "Multi parameter probes measure pH, conductivity and {object}.",
        ],
    },
}

_SYLLABLES = ["kar", "vel", "lon", "dri", "mos", "tav", "quen", "bor", "sil", "zan", "pex", "ru"]
_CITIES = ["Lisbon", "Perth", "Austin", "Osaka", "Leeds", "Tunis", "Quito", "Gdansk"]
_METRICS = {
    "leaks": "of leaks located within five metres",
    "demand": "mean absolute percentage error of the forecast",
    "desalination": "salt rejection",
    "groundwater": "of recharged water recovered",
    "stormwater": "reduction of peak runoff",
    "quality": "of contamination events detected",
}


@dataclass(frozen=True)
class PlantedDocument:
    id: str
    theme: str
    title: str
    site: str
    fact: str
    text: str


def _site(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
        if name not in taken:
            taken.add(name)
            return name


def documents(per_theme: int = 8, seed: int = 7) -> list[PlantedDocument]:
    """The planted documents, the same for the same seed."""
    rng = random.Random(seed)
    sites: set[str] = set()
    docs: list[PlantedDocument] = []
    for theme, vocab in THEMES.items():
        for n in range(per_theme):
            subject = rng.choice(vocab["subjects"])
            obj = rng.choice(vocab["objects"])
            site = _site(rng, sites)
            value = rng.randint(11, 97)
            fact = f"In the {site} trial, {subject} reached {value} percent {_METRICS[theme]}."
            chosen = rng.sample(vocab["sentences"], 4)
            body = [
                s.format(Subject=subject.capitalize(), subject=subject, object=obj) for s in chosen
            ]
            body.insert(rng.randint(1, len(body)), fact)
            body.insert(0, f"The study concerns the urban water system of {rng.choice(_CITIES)}.")
            title = f"{vocab['title'][0]}: {subject} for {obj} in the {site} trial"
            docs.append(
                PlantedDocument(
                    id=f"{theme}-{n}",
                    theme=theme,
                    title=title,
                    site=site,
                    fact=fact,
                    text=" ".join(body),
                )
            )
    return docs


def write_corpus(folder: Path, per_theme: int = 8) -> Path:
    """Write the planted documents as a JSON Lines records file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "planted.jsonl"
    with path.open("w") as out:
        for number, doc in enumerate(documents(per_theme)):
            record = {
                "id": doc.id,
                "title": doc.title,
                "authors": [f"A. {doc.site}"],
                "year": 2000 + number % 24,
                "abstract": doc.text,
            }
            out.write(json.dumps(record) + "\n")
    return path
