"""How well the tagger agrees with people, on real text.

1. FA-KES (804 Syrian-war articles with crowd labels, ../shared/data/fa-kes/fakes.csv, CC BY
   4.0): is the labelled actor class among the article's tags, and the labelled governorate
   among its provinces? Per class, unique article ids.
2. The gold file tests/gold/entities.jsonl: factions, places and sides that analysts listed
   reading 60 real articles (45 FA-KES, 15 Wikipedia leads; benchmarks/gold_corpus.py picks
   them), against the tagger's: precision and recall over (article, name) pairs, misses listed.

    python benchmarks/accuracy.py            # tables, then every miss and false tag
    python benchmarks/accuracy.py --json     # the figures as JSON

tests/test_accuracy.py keeps the gold figures from going down.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.gold_corpus import FAKES, fakes_articles, sample  # noqa: E402
from search import gazetteer  # noqa: E402
from search.articles import Article  # noqa: E402
from search.tagging import Tagged, tag  # noqa: E402

GOLD = ROOT / "tests" / "gold" / "entities.jsonl"
KINDS = ("factions", "places", "sides")
# FA-KES actor classes -> (facet, values): the class agrees when the article has one of them.
ACTOR_CLASSES = {
    "syrian government or russian troops": ("side", {"Syrian government and allies"}),
    "the organization of the islamic state in iraq and the levant - isis": (
        "faction",
        {"Islamic State"},
    ),
    "international coalition forces": ("side", {"US-led coalition"}),
    "armed opposition groups": ("side", {"Armed opposition"}),
    "self administration forces": ("side", {"Kurdish-led forces"}),
    "al-nusra front": ("faction", {"al-Nusra Front", "Hayat Tahrir al-Sham"}),
}
GOVERNORATES: dict[str, str | tuple[str, ...]] = {
    "aleppo": "Aleppo Governorate",
    # FA-KES's "damascus" covers the city and its countryside (Eastern Ghouta, Douma ...)
    "damascus": ("Damascus Governorate", "Rif Dimashq Governorate"),
    "idlib": "Idlib Governorate",
    "deir ezzor": "Deir ez-Zor Governorate",
    "raqqa": "Raqqa Governorate",
    "homs": "Homs Governorate",
    "hasakeh": "Hasakah Governorate",
    "hama": "Hama Governorate",
    "daraa": "Daraa Governorate",
    "lattakia": "Latakia Governorate",
    "quneitra": "Quneitra Governorate",
    "tartous": "Tartus Governorate",
}


def tags_of(tagged: Tagged) -> dict[str, set[str]]:
    """The tagger's factions, places and sides of one article."""
    return {
        "factions": set(tagged.names("faction")),
        "places": set(tagged.names("place")),
        "sides": set(tagged.names("side")),
    }


def fakes_agreement() -> dict[str, dict]:
    """Per actor class and per governorate: articles labelled, articles whose tags agree."""
    labels: dict[str, dict[str, str]] = {}
    with FAKES.open(encoding="cp1252", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            labels.setdefault(row["unit_id"], row)
    actors: dict[str, list[int]] = {}
    provinces: dict[str, list[int]] = {}
    seen: set[str] = set()
    for article in fakes_articles():
        row = labels.get(article.id)
        if row is None or article.id in seen:
            continue
        seen.add(article.id)
        tagged = tag(article)
        if row["actor"] in ACTOR_CLASSES:
            facet, wanted = ACTOR_CLASSES[row["actor"]]
            hit = bool(wanted & set(tagged.names(facet)))
            _count(actors, row["actor"], hit)
        governorate = GOVERNORATES.get(row["location"])
        if governorate:
            wanted = {governorate} if isinstance(governorate, str) else set(governorate)
            _count(provinces, row["location"], bool(wanted & set(tagged.names("province"))))
    return {"actor": _rates(actors), "province": _rates(provinces)}


def _count(table: dict[str, list[int]], key: str, hit: bool) -> None:
    cell = table.setdefault(key, [0, 0])
    cell[0] += 1
    cell[1] += hit


def _rates(table: dict[str, list[int]]) -> dict:
    total = sum(n for n, _ in table.values())
    agree = sum(a for _, a in table.values())
    out = {key: {"articles": n, "agree": a, "rate": a / n} for key, (n, a) in table.items()}
    out["all"] = {"articles": total, "agree": agree, "rate": agree / total if total else 0.0}
    return out


@dataclass
class Score:
    """Precision and recall over (article, name) pairs, with what differed."""

    right: int = 0
    tagged: int = 0
    gold: int = 0
    misses: Counter = field(default_factory=Counter)
    wrong: Counter = field(default_factory=Counter)

    def add(self, key: str, predicted: set[str], expected: set[str]) -> None:
        self.right += len(predicted & expected)
        self.tagged += len(predicted)
        self.gold += len(expected)
        self.misses.update(f"{name}  [{key}]" for name in expected - predicted)
        self.wrong.update(f"{name}  [{key}]" for name in predicted - expected)

    @property
    def precision(self) -> float:
        return self.right / self.tagged if self.tagged else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.gold if self.gold else 1.0


def gold_rows() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line]


def expand(kind: str, names: set[str]) -> set[str]:
    """Gold lists the most specific name; the tagger also counts what it rolls up to (a unit's
    parent force, a neighbourhood's city, a faction's side)."""
    gaz = gazetteer.load()
    out = set(names)
    for name in names:
        if kind == "factions" and (entity := gaz.get("faction", name)):
            out.update(e.name for e in gaz.lineage(entity))
        if kind == "places" and (entity := gaz.get("place", name)) and entity.city:
            out.add(entity.city)
    return out


def gold_scores() -> dict[str, Score]:
    texts = {key: (title, text) for key, title, text in sample()}
    scores = {kind: Score() for kind in KINDS}
    for row in gold_rows():
        title, text = texts[row["key"]]
        tags = tags_of(tag(Article(id=row["key"], title=title, body=text)))
        for kind in KINDS:
            scores[kind].add(row["key"], tags[kind], expand(kind, set(row[kind])))
    return scores


def report(as_json: bool) -> None:
    fakes = fakes_agreement()
    scores = gold_scores()
    figures = {
        "fakes": fakes,
        "gold": {
            kind: {
                "precision": s.precision,
                "recall": s.recall,
                "right": s.right,
                "tagged": s.tagged,
                "gold": s.gold,
            }
            for kind, s in scores.items()
        },
    }
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    print("FA-KES: labelled class among the tags (unique articles)\n")
    print("| label | articles | agree | rate |\n| --- | ---: | ---: | ---: |")
    for table in ("actor", "province"):
        for key, cell in fakes[table].items():
            print(f"| {table}: {key} | {cell['articles']} | {cell['agree']} | {cell['rate']:.3f} |")
    print(f"\nGold file ({len(gold_rows())} articles): (article, name) pairs\n")
    print("| kind | precision | recall | right | tagged | gold |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind, s in scores.items():
        cells = f"{s.precision:.3f} | {s.recall:.3f} | {s.right} | {s.tagged} | {s.gold}"
        print(f"| {kind} | {cells} |")
    for kind, s in scores.items():
        print(f"\n{kind}: missed {sum(s.misses.values())}")
        for name in sorted(s.misses):
            print(f"  - {name}")
        print(f"{kind}: tagged but not in gold {sum(s.wrong.values())}")
        for name in sorted(s.wrong):
            print(f"  + {name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    report(parser.parse_args().json)
