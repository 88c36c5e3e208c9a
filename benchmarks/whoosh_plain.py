"""The baseline of benchmarks/run.py: Whoosh used as its documentation shows, no more, no less.

The index: StemmingAnalyzer on title and body (stored), id, date, and region and faction as
stored, sortable keywords from the generator's labels; no tagging.

A request, as Whoosh's docs write it (searching.rst, facets.rst, highlight.rst):

- a fresh searcher per request (`with ix.searcher() as s`), the query parsed by a
  MultifieldParser over title and body, the filters as Term / DateRange queries;
- "plain": `s.search(q, limit=10)`, the stored fields of the 10 hits (no total: with a limit,
  `len(results)` runs the search again to count);
- "every facet": `groupedby` region and faction with `maptype=sorting.Count` (only counts are
  shown); faction is multi-valued, so `allow_overlap=True` as the docs say for such fields
  (at 10,000 articles it is faster than the StoredFieldFacet the docs offer for large result
  sets, 0.20 s against 0.37 s at p50; without it the counts are of combinations of factions);
  `results[:10]` sliced, their stored fields;
- "every facet + snippets": the same with `terms=True` (the docs: lets the highlighter use the
  terms that matched) and `hit.highlights("body")` (the default highlighter) on those 10.

`groupedby` makes Whoosh collect and score every match (an UnlimitedCollector), so
`for hit in results` walks all of them: the baseline this replaces highlighted every match
(7,000 at 10,000 articles for "artillery", 3.9 ms each), 4 to 30 s a query. The docs slice.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

FACETED = ("every facet", "every facet + snippets")


def build(corpus: Path, target: Path) -> int:
    """Index the generated corpus with plain Whoosh on one core; the number of documents."""
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        body=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        date=DATETIME(stored=True),
        region=KEYWORD(stored=True, commas=True, sortable=True),
        faction=KEYWORD(stored=True, commas=True, sortable=True),
    )
    target.mkdir(parents=True)
    writer = index.create_in(str(target), schema).writer(limitmb=256)
    count = 0
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            doc = {
                "id": record["id"],
                "title": record["title"],
                "body": record["body"],
                "region": record.get("region") or "",
                "faction": ",".join(record.get("factions", [])),
            }
            if record.get("date"):
                doc["date"] = datetime.fromisoformat(record["date"])
            writer.add_document(**doc)
            count += 1
    writer.commit()
    return count


class Baseline:
    """Plain Whoosh answering the generated queries, one request at a time."""

    def __init__(self, root: Path) -> None:
        from whoosh import index
        from whoosh.qparser import MultifieldParser

        self.ix = index.open_dir(str(root))
        self.parser = MultifieldParser(["title", "body"], self.ix.schema)

    def query(self, generated: dict) -> Any:
        from whoosh import query as wq

        parts = [self.parser.parse(generated["q"])]
        filters = generated["filters"]
        for name in ("region", "faction"):
            if name in filters:
                parts.append(wq.Term(name, filters[name]))
        if "date_from" in filters:
            start = datetime.fromisoformat(filters["date_from"])
            end = datetime.fromisoformat(filters["date_to"])
            parts.append(wq.DateRange("date", start, end))
        return wq.And(parts) if len(parts) > 1 else parts[0]

    def search(self, generated: dict, kind: str) -> dict:
        """One request of one kind; the page as a small dict (to check it is not empty)."""
        from whoosh import sorting

        with self.ix.searcher() as searcher:
            q = self.query(generated)
            if kind not in FACETED:
                results = searcher.search(q, limit=10)  # len(results) would search again
                return {"hits": [hit.fields() for hit in results]}
            facets = sorting.Facets().add_field("region").add_field("faction", allow_overlap=True)
            snippets = kind == "every facet + snippets"
            results = searcher.search(
                q, limit=10, groupedby=facets, maptype=sorting.Count, terms=snippets
            )
            counts = {name: results.groups(name) for name in ("region", "faction")}
            hits = []
            for hit in results[:10]:
                fields = hit.fields()
                if snippets:
                    fields["snippet"] = hit.highlights("body")
                hits.append(fields)
            return {"total": len(results), "hits": hits, "facets": counts}
