"""The Whoosh index: schema, documents from tagged articles, incremental updates, atomic rebuilds.

Layout of an index folder (default `index/`, or `--index`, or SEARCH_INDEX):

    index/CURRENT          name of the live generation, replaced atomically
    index/gen-000002/      a complete Whoosh index

Updates write into the live generation; Whoosh commits are atomic, so readers see a commit
whole or not at all. A rebuild writes a new generation beside the live one and switches
CURRENT to it only when it is complete: a killed rebuild leaves the previous index live.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, SchemaClass
from whoosh.index import Index

from search.analysis import text_analyzer
from search.articles import Article
from search.files import Problem
from search.tagging import Tagged, tag

DEFAULT_DIR = "index"
ENV_VAR = "SEARCH_INDEX"
POINTER = "CURRENT"
FACETS = (
    "region",
    "theme",
    "report",
    "source",
    "author",
    "faction",
    "place",
    "province",
    "country",
)
COMMIT_EVERY = 5000  # documents per commit when updating the live index: bounds what a kill loses
_GENERATION = re.compile(r"^gen-(\d{6})$")


def _cached_reader(self, fieldname, column):
    """Whoosh looks on disk again for a missing length column at every posting it writes
    (the spell_ fields have none): a third of indexing time. Segment files never change once
    written, so remember the miss too."""
    if fieldname not in self._readers:
        found = self.has_column(fieldname)
        self._readers[fieldname] = self.column_reader(fieldname, column) if found else None
    return self._readers[fieldname]


whoosh3.W3PerDocReader._cached_reader = _cached_reader


class IndexNotFoundError(FileNotFoundError):
    """There is no built index in the folder."""


def _facet():
    return KEYWORD(stored=True, commas=True, sortable=True, scorable=False)


class ArticleSchema(SchemaClass):
    """One document per article. Facet fields hold canonical names, comma-separated."""

    id = ID(stored=True, unique=True)
    # spelling=True also keeps the unstemmed words (spell_title, spell_body): "did you mean"
    # suggestions and prefix expansion work on real words, not stems.
    title = TEXT(analyzer=text_analyzer(), stored=True, field_boost=2.0, spelling=True)
    body = TEXT(analyzer=text_analyzer(), stored=True, spelling=True)
    date = DATETIME(stored=True, sortable=True)
    year = KEYWORD(stored=True, sortable=True)
    month = KEYWORD(stored=True, sortable=True)  # "2017-07"
    region = _facet()
    theme = _facet()
    report = _facet()
    source = _facet()
    author = _facet()
    faction = _facet()
    place = _facet()
    province = _facet()
    country = _facet()
    tags = STORED()  # Tagged.to_json(): declared and inferred values apart, mention counts


def default_dir() -> Path:
    """The index folder: SEARCH_INDEX if set, else ./index."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def _keywords(values: Iterable[str | None]) -> str:
    # Commas separate values in a KEYWORD field, so a comma inside a value becomes a space.
    unique = dict.fromkeys(" ".join(v.replace(",", " ").split()) for v in values if v)
    return ",".join(v for v in unique if v)


def to_document(tagged: Tagged) -> dict:
    """The Whoosh fields of a tagged article."""
    article = tagged.article
    stored = tagged.to_json()
    del stored["id"], stored["title"]
    doc = {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "source": _keywords([article.source, article.original_source]),
        "author": _keywords(article.authors),
        "report": _keywords(article.reports),
        "region": _keywords(tagged.regions),
        "theme": _keywords(tagged.themes),
        "tags": stored,
    }
    for facet in ("faction", "place", "province", "country"):
        doc[facet] = _keywords(tagged.names(facet))
    if article.date:
        doc["date"] = datetime(article.date.year, article.date.month, article.date.day)
        doc["year"] = f"{article.date.year:04d}"
        doc["month"] = f"{article.date.year:04d}-{article.date.month:02d}"
    return {name: value for name, value in doc.items() if value != ""}


# --- generations ----------------------------------------------------------------------------


def current_generation(root: Path) -> Path | None:
    """The folder of the live index under `root`, or None when none was ever built."""
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return root / name if _GENERATION.match(name) and (root / name).is_dir() else None


def open_index(root: Path | str | None = None) -> Index:
    """Open the live index for reading. Raises IndexNotFoundError when there is none."""
    root = Path(root) if root is not None else default_dir()
    for _ in range(3):  # a rebuild may switch generations between reading CURRENT and opening
        folder = current_generation(root)
        if folder is None:
            raise IndexNotFoundError(f"no index in {root}: build one with `search index PATH`")
        try:
            return whoosh_index.open_dir(str(folder))
        except (whoosh_index.EmptyIndexError, FileNotFoundError):
            time.sleep(0.05)
    raise IndexNotFoundError(f"the index in {root} could not be opened")


def _new_generation(root: Path) -> Path:
    numbers = [int(m[1]) for p in root.glob("gen-*") if (m := _GENERATION.match(p.name))]
    folder = root / f"gen-{max(numbers, default=0) + 1:06d}"
    folder.mkdir(parents=True)
    return folder


def _switch(root: Path, folder: Path) -> None:
    """Point CURRENT at `folder` atomically, then remove generations older than the previous."""
    previous = current_generation(root)
    temp = root / f".{POINTER}.{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(folder.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, root / POINTER)
    _fsync_dir(root)
    keep = {folder.name, previous.name if previous else None}
    for stale in root.glob("gen-*"):
        if stale.name not in keep and _GENERATION.match(stale.name):
            shutil.rmtree(stale, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- writing --------------------------------------------------------------------------------


@dataclass
class Summary:
    """What an indexing run did."""

    indexed: int = 0  # new documents
    replaced: int = 0  # documents whose id was already in the index
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.skipped]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.skipped]

    @property
    def docs_per_second(self) -> float:
        return (self.indexed + self.replaced) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"indexed {self.indexed}, replaced {self.replaced}, skipped {len(self.skipped)}, "
            f"warnings {len(self.warnings)} in {self.seconds:.1f} s "
            f"({self.docs_per_second:.0f} docs/s)"
        )


Entry = Article | Problem | None  # None: nothing new, a progress tick


def write(
    entries: Iterable[Entry],
    root: Path | str | None = None,
    rebuild: bool = False,
    on_progress: Callable[[Summary], None] | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    limitmb: int = 256,
) -> Summary:
    """Tag and index articles into the index at `root`; problems pass through to the summary.

    entries: articles to index, problems to report, None for progress ticks.
    rebuild: build a new index from these articles alone and switch to it when complete.
        Without an index yet, the first build is done the same way.
    on_progress: called with the running summary after each entry.
    on_problem: called with each problem as it is met (input or duplicate id).
    """
    root = Path(root) if root is not None else default_dir()
    started = time.perf_counter()
    summary = Summary()
    live = current_generation(root)
    fresh = rebuild or live is None
    if fresh:
        folder = _new_generation(root)
        ix = whoosh_index.create_in(str(folder), ArticleSchema())
    else:
        ix = whoosh_index.open_dir(str(live))
    seen: dict[str, Article] = {}
    writer = ix.writer(limitmb=limitmb)
    searcher = None if fresh else ix.searcher()
    pending = 0
    try:
        for entry in entries:
            problem = entry if isinstance(entry, Problem) else None
            if isinstance(entry, Article):
                if entry.id in seen:
                    problem = _duplicate(entry, seen[entry.id])
                else:
                    seen[entry.id] = entry
                    document = to_document(tag(entry))
                    if searcher is not None and searcher.document_number(id=entry.id) is not None:
                        writer.update_document(**document)
                        summary.replaced += 1
                    else:
                        writer.add_document(**document)
                        summary.indexed += 1
                    pending += 1
            if problem is not None:
                summary.problems.append(problem)
                if on_problem:
                    on_problem(problem)
            if pending >= COMMIT_EVERY and not fresh:
                writer.commit()
                searcher.close()
                searcher = ix.searcher()
                writer, pending = ix.writer(limitmb=limitmb), 0
            if on_progress:
                summary.seconds = time.perf_counter() - started
                on_progress(summary)
        writer.commit()
    except BaseException:
        writer.cancel()
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        if searcher is not None:
            searcher.close()
    if fresh:
        _switch(root, folder)
    summary.seconds = time.perf_counter() - started
    return summary


def _duplicate(article: Article, first: Article) -> Problem:
    """A second article with an id already seen in this run: the first one stays. Whoosh
    cannot replace a document it has not committed yet, and exports repeat rows."""

    def content(a: Article) -> tuple:
        return (a.title, a.body, a.date, a.source)

    if content(article) == content(first):
        message = f"repeats article {article.id!r} of {first.origin}; ignored"
        return Problem(article.origin, message, skipped=False)
    message = f"duplicate id {article.id!r} with other content (first in {first.origin})"
    return Problem(article.origin, message)


def documents(root: Path | str | None = None) -> Iterator[dict]:
    """Every stored document of the live index (for checks and exports)."""
    ix = open_index(root)
    with ix.searcher() as searcher:
        yield from searcher.documents()
