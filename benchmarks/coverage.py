"""Place names real articles write that the gazetteer does not know, for review.

Reads FA-KES (../shared/data/fa-kes/fakes.csv) and the Wikipedia articles
(../shared/data/wikipedia-syria-war-md/articles/*.md), finds capitalised names (one to four
capitalised words, with particles such as al-, el-, ad-, as-) next to a cue that says they are
places ("the village of X", "the town of X", "in the X neighbourhood", "X countryside",
"X village" ...), drops those the gazetteer already matches as a place, and prints the rest
with their count in each corpus, most frequent first, and one line of context.

    .venv/bin/python benchmarks/coverage.py [--min N] [--limit N] [--no-context]

Nothing here decides what is a place: a person reads the list and adds what is real to
search/data/places.toml.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from search import gazetteer
from search.files import read_file

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FAKES = SHARED / "fa-kes" / "fakes.csv"
WIKI = SHARED / "wikipedia-syria-war-md" / "articles"

# A capitalised word, maybe behind a particle ("al-Qasr", "ez-Zor", "al Habari"), and a name:
# one to four such words, with lowercase particles allowed between them ("Bustan al-Qasr").
_PARTICLE = r"(?:[Aa][lndrstz]|[Aa]sh|[Ee][lnrstz]|[Uu]l|[Aa]th)"
_WORD = rf"(?:{_PARTICLE}[-\u2010](?=[A-Z])|(?:al|el|ad|ar|az) (?=[A-Z]))?[A-Z][\w'\u2019]*"
_NAME = rf"{_WORD}(?:(?:-| )(?:{_WORD}|{_PARTICLE}-{_WORD})){{0,3}}"
_BEFORE = (  # "the village of X", "the outskirts of X"
    r"village|town|city|district|neighbou?rhood|suburb|area|quarter|hamlet|region|"
    r"countryside|outskirts|farms|camp|hill|mountains?|plains?|valley|municipality|province"
)
_AFTER = (  # "X countryside", "X village", "the X neighbourhood"
    r"countryside|village|town|neighbou?rhood|district|suburb|quarter|camp|refugee camp|"
    r"area|farms|hill|valley|plain|crossing|border crossing|border gate"
)
CUES = [
    re.compile(rf"\b(?:the|a)\s+(?:{_BEFORE})\s+of\s+(?P<name>{_NAME})"),
    re.compile(rf"\b(?:village|town|city|villages|towns)\s+(?:of\s+)?(?:as\s+)?(?P<name>{_NAME})"),
    re.compile(rf"(?P<name>{_NAME})(?:'s)?\s+(?:{_AFTER})\b"),
]
# Words that start a sentence, or describe rather than name, and so cannot start a name.
_NOT_NAMES = frozenset(
    re.findall(
        r"[a-z]+",
        """a an the in on at of from to near into for by with and or but as after before during
    while when this that these those its his her their our all some many several other
    syrian syrias kurdish arab turkish iraqi iranian russian christian alawite sunni shia shiite
    druze yazidi palestinian lebanese armenian assyrian turkmen rebel rebels government regime
    opposition islamic state army old new border northern southern eastern western north
    south east west central northeastern northwestern southeastern southwestern upper lower
    greater rural entire whole same nearby key strategic besieged date published monitor
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december""",
    )
)


def fakes_texts() -> Iterator[str]:
    for article, _, _ in read_file(FAKES):
        if article is not None:
            yield f"{article.title}\n{article.body}"


def wiki_texts() -> Iterator[str]:
    for path in sorted(WIKI.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---\n"):
            text = text[text.index("\n---\n", 4) + 5 :]
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](link) -> text
        yield text.replace("**", "").replace("__", "")


def trim(name: str) -> str:
    """The name without leading words that cannot start one ("In Kafr Hamra" -> "Kafr Hamra")
    or name the city it is in ("Aleppos Marjeh" -> "Marjeh")."""
    words = name.split()
    while words and (
        words[0].lower().strip("'\u2019") in _NOT_NAMES
        or len(words) > 1
        and re.search(r"['\u2019]?s$", words[0])
        and known(words[0][:-1])
    ):
        words.pop(0)
    return " ".join(words)


def known(name: str) -> bool:
    """True when the gazetteer's places (or other entities) cover every word of the name."""
    found = gazetteer.find(name)
    covered = set()
    for kind in ("place", "faction", "country"):
        for mention in found.of(kind):
            covered.update(
                i for i, (s, e) in enumerate(found.spans) if mention.start <= s < mention.end
            )
    return len(covered) == len(found.spans)


def candidates(text: str) -> Iterator[tuple[str, str]]:
    """(name, context line) of every cued capitalised name in a text, once per position."""
    seen = set()
    for cue in CUES:
        for match in cue.finditer(text):
            name = trim(match.group("name"))
            if len(name) < 3 or not name[0].isupper() and name[:3].lower() not in ("al-", "el-"):
                continue
            if match.end("name") in seen:  # "the town of X" is also "town of X"
                continue
            seen.add(match.end("name"))
            start, end = match.span()
            yield name, text[max(0, start - 60) : end + 40].replace("\n", " ")


def scan(texts: Iterator[str]) -> tuple[Counter[str], dict[str, str]]:
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for text in texts:
        for name, line in candidates(text):
            counts[name] += 1
            examples.setdefault(name, line)
    return counts, examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, default=2, help="least total count to print")
    parser.add_argument("--limit", type=int, default=0, help="print at most this many names")
    parser.add_argument("--no-context", action="store_true", help="names and counts only")
    args = parser.parse_args()
    fakes, fakes_lines = scan(fakes_texts())
    wiki, wiki_lines = scan(wiki_texts())
    total = fakes + wiki
    rows = [(n, c) for n, c in total.most_common() if c >= args.min and not known(n)]
    if args.limit:
        rows = rows[: args.limit]
    print(f"{'total':>5} {'fakes':>5} {'wiki':>5}  name")
    for name, count in rows:
        print(f"{count:5d} {fakes[name]:5d} {wiki[name]:5d}  {name}")
        if not args.no_context:
            print(f"{'':18}... {fakes_lines.get(name) or wiki_lines[name]} ...")
    print(f"{len(rows)} names not in the gazetteer (of {len(total)} cued names)")


if __name__ == "__main__":
    main()
