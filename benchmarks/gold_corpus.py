"""The real texts the entity gold file was read from: a fixed sample of FA-KES articles and
the lead of a fixed sample of Wikipedia articles (../shared/data, read in place).

`python benchmarks/gold_corpus.py OUTDIR` writes each sampled text to OUTDIR/<key>.txt so a
reader can tag them by hand; benchmarks/accuracy.py tags the same texts by machine.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from search.files import read_file

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FAKES = SHARED / "fa-kes" / "fakes.csv"
WIKI = SHARED / "wikipedia-syria-war-md" / "articles"
FAKES_STEP, FAKES_FIRST = 18, 3  # rows 3, 21, 39, ...: 45 articles
WIKI_STEP, WIKI_FIRST = 10, 4  # files 4, 14, 24, ... in name order: 15 articles
LEAD_CHARS = 3000  # a Wikipedia excerpt: this many characters, then to the paragraph's end


def fakes_articles() -> list:
    """Every FA-KES article as search.files reads it (duplicates and all)."""
    return [article for article, _, _ in read_file(FAKES) if article is not None]


def wiki_lead(path: Path) -> str:
    """The body after the front matter, LEAD_CHARS long, extended to the end of a paragraph."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\n"):
        text = text[text.index("\n---\n", 4) + 5 :]
    text = text.lstrip()
    end = text.find("\n\n", LEAD_CHARS)
    return text if end < 0 else text[:end]


def sample() -> Iterator[tuple[str, str, str]]:
    """(key, title, text) of every sampled article, FA-KES first."""
    articles = fakes_articles()
    for article in articles[FAKES_FIRST::FAKES_STEP]:
        yield f"fakes-{article.id}", article.title, article.body
    for path in sorted(WIKI.glob("*.md"))[WIKI_FIRST::WIKI_STEP]:
        yield f"wiki-{path.stem}", "", wiki_lead(path)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for key, title, text in sample():
        (out / f"{key}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        print(key)
