"""The Whoosh index: schema, documents from tagged articles, incremental updates, atomic rebuilds.

Layout of an index folder (default `index/`, or `--index`, or SEARCH_INDEX):

    index/CURRENT          name of the live generation, replaced atomically
    index/gen-000002/      a complete Whoosh index

Updates write into the live generation; Whoosh commits are atomic, so readers see a commit
whole or not at all. A rebuild writes a new generation beside the live one and switches
CURRENT to it only when it is complete: a killed rebuild leaves the previous index live.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, SchemaClass
from whoosh.index import Index, LockError

from search import settings, whoosh_ext
from search.analysis import ArticleText, fresh_spelling, text_analyzer
from search.articles import Article
from search.files import Problem
from search.segments import ParallelBuild
from search.tagging import Tagged, tag
from search.whoosh_ext import fsync_path

log = logging.getLogger("search.index")
DEFAULT_DIR = "index"
ENV_VAR = settings.SETTINGS["index"].env
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
    "side",
    "operation",
)
LOCK = "WRITE.lock"
_GENERATION = re.compile(r"^gen-(\d{6})$")


class IndexNotFoundError(FileNotFoundError):
    """There is no built index in the folder."""


class IndexDamagedError(IndexNotFoundError):
    """CURRENT names a generation that is not there (removed by hand, or a broken copy)."""


def _facet():
    return KEYWORD(stored=True, commas=True, sortable=True, scorable=False)


class ArticleSchema(SchemaClass):
    """One document per article. Facet fields hold canonical names, comma-separated."""

    id = ID(stored=True, unique=True)
    # spelling=True also keeps the unstemmed words (spell_title, spell_body): "did you mean"
    # suggestions and prefix expansion work on real words, not stems.
    # chars=True keeps each occurrence's character span in the postings: highlights are
    # read from there instead of analysing the stored text again.
    title = ArticleText(
        analyzer=text_analyzer(), stored=True, field_boost=2.0, spelling=True, chars=True
    )
    body = ArticleText(analyzer=text_analyzer(), stored=True, spelling=True, chars=True)
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
    side = _facet()  # sides of the war the article shows acting (tagging.SIDES)
    operation = _facet()  # named military operations (Euphrates Shield ...)
    tags = STORED()  # Tagged.to_json(): declared and inferred values apart, mention counts


def new_writer(ix: Index, **kwargs) -> whoosh_ext.DurableWriter:
    """A Whoosh writer whose text fields start a fresh set of spelling words (ArticleText),
    and whose commit is on the disk, in a power-safe order, when commit() returns."""
    writer = whoosh_ext.DurableWriter(ix, **kwargs)
    fresh_spelling(writer.schema)
    return writer


def default_dir() -> Path:
    """The index folder: SEARCH_INDEX, else the config file's `index`, else ./index."""
    return Path(settings.get("index") or DEFAULT_DIR)


def _keywords(values: Iterable[str | None]) -> str:
    # Commas separate values in a KEYWORD field, so a comma inside a value becomes a space.
    unique = dict.fromkeys(" ".join(v.replace(",", " ").split()) for v in values if v)
    return ",".join(v for v in unique if v)


def to_document(tagged: Tagged) -> dict:
    """The Whoosh fields of a tagged article."""
    article = tagged.article
    stored = tagged.to_json()
    del stored["id"], stored["title"]
    if article.recorded_origin is not None:  # restored from `search export`: as first read
        stored["origin"] = article.recorded_origin
    doc = {
        "id": article.id,
        # Indexed with the tagger's mentions; stored as the plain text.
        "title": tagged.text("title"),
        "_stored_title": article.title,
        "body": tagged.text("body"),
        "_stored_body": article.body,
        "source": _keywords([article.source, article.original_source]),
        "author": _keywords(article.authors),
        "report": _keywords(article.reports),
        "region": _keywords(tagged.regions),
        "theme": _keywords(tagged.themes),
        "tags": stored,
    }
    for facet in ("faction", "place", "province", "country", "side", "operation"):
        doc[facet] = _keywords(tagged.names(facet))
    if article.date:
        doc["date"] = datetime(article.date.year, article.date.month, article.date.day)
        doc["year"] = f"{article.date.year:04d}"
        doc["month"] = f"{article.date.year:04d}-{article.date.month:02d}"
    return {name: value for name, value in doc.items() if value != ""}


# --- generations ----------------------------------------------------------------------------


def current_generation(root: Path) -> Path | None:
    """The folder of the live index under `root`, or None when none was ever built (or
    CURRENT names no folder: see live_generation)."""
    try:
        return live_generation(root)
    except IndexDamagedError:
        return None


def live_generation(root: Path) -> Path | None:
    """The folder of the live index; None when no index was ever built. Raises
    IndexDamagedError when CURRENT names a generation that is not there: a writer must not
    take that for a first build, which would start afresh and prune what is left."""
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise IndexDamagedError(f"{root / POINTER} cannot be read: {error}") from None
    if not (_GENERATION.match(name) and (root / name).is_dir()):
        raise IndexDamagedError(
            f"{root / POINTER} names {name[:40]!r}, which is not in {root}: "
            "rebuild with `search index --rebuild PATH`"
        )
    return root / name


def open_index(root: Path | str | None = None) -> Index:
    """Open the live index for reading. Raises IndexNotFoundError when there is none."""
    return open_live(root)[0]


def open_live(root: Path | str | None = None) -> tuple[Index, Path]:
    """The live index and its generation folder. Raises IndexNotFoundError (or its
    IndexDamagedError) when there is none."""
    root = Path(root) if root is not None else default_dir()
    for _ in range(3):  # a rebuild may switch generations between reading CURRENT and opening
        folder = live_generation(root)
        if folder is None:
            raise IndexNotFoundError(f"no index in {root}: build one with `search index PATH`")
        try:
            return whoosh_index.open_dir(str(folder)), folder
        except (whoosh_index.IndexError, FileNotFoundError):
            time.sleep(0.05)
    raise IndexNotFoundError(f"the index in {root} could not be opened")


def _new_generation(root: Path) -> Path:
    numbers = [int(m[1]) for p in root.glob("gen-*") if (m := _GENERATION.match(p.name))]
    folder = root / f"gen-{max(numbers, default=0) + 1:06d}"
    folder.mkdir(parents=True)
    return folder


def _switch(root: Path, folder: Path) -> None:
    """Point CURRENT at `folder` atomically, then remove generations older than the previous.
    When CURRENT named a missing generation, nothing is removed: what is left may be all
    there is to recover from."""
    try:
        previous = live_generation(root)
        prune = True
    except IndexDamagedError:
        previous, prune = None, False
    point(root, folder.name)
    if not prune:
        return
    keep = {folder.name, previous.name if previous else None}
    for stale in root.glob("gen-*"):
        if stale.name not in keep and _GENERATION.match(stale.name):
            shutil.rmtree(stale, ignore_errors=True)


def point(root: Path, name: str) -> None:
    """Make `root`/CURRENT name the generation `name`, atomically and durably."""
    temp = root / f".{POINTER}.{os.getpid()}"
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, root / POINTER)
    fsync_path(root)


# --- locking and syncing --------------------------------------------------------------------


class IndexBusy(LockError):
    """Another process or thread kept the write lock for longer than we would wait."""


class WriteLock:
    """The right to change the index in `root`, exclusive across processes and threads: an
    flock on root/WRITE.lock. The kernel drops an flock when its holder dies, so a killed
    writer never leaves the index locked; the file only names the last holder, for messages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd: int | None = None

    def acquire(self, wait: float) -> None:
        """Take the lock, waiting up to `wait` seconds; IndexBusy when it stays taken."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                        who = f" (held by process {holder})" if holder else ""
                        raise IndexBusy(
                            f"another writer kept the index in {self.root} locked for "
                            f"{wait:g} s{who}"
                        ) from None
                    time.sleep(0.01)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        with contextlib.suppress(OSError):  # the holder's pid only serves messages
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        self.acquire(settings.get("write_wait"))
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def lock_holder(root: Path) -> int | None:
    """The process holding the write lock of `root` now, or None when it is free. (An flock
    dies with its holder: there are no stale locks to report, only live holders.)"""
    try:
        fd = os.open(root / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    except BlockingIOError:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
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
    committed: int = 0  # documents committed so far: they survive a kill

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
    on_commit: Callable[[Summary], None] | None = None,
    jobs: int | None = None,
) -> Summary:
    """Tag and index articles into the index at `root`; problems pass through to the summary.

    entries: articles to index, problems to report, None for progress ticks.
    rebuild: build a new index from these articles alone and switch to it when complete.
        Without an index yet, the first build is done the same way.
    on_progress: called with the running summary after each entry.
    on_problem: called with each problem as it is met (input or duplicate id).
    on_commit: called after each commit to disk, with the summary.
    jobs: processes tagging and indexing a fresh build (default: the index_jobs setting,
        0 for one per core); updates of a live index run in this process.

    Holds the index's write lock (waiting up to the write_wait setting for another writer).
    An update of the live index commits every commit_docs documents or commit_seconds and
    lets other writers (the server's write routes) in between; a rebuild holds the lock
    throughout, since writes made meanwhile would be lost when it switches generations.
    """
    root = Path(root) if root is not None else default_dir()
    started = time.perf_counter()
    summary = Summary()
    callbacks = (on_progress, on_problem, on_commit)
    lock = WriteLock(root)
    lock.acquire(settings.get("write_wait"))
    try:
        jobs = settings.get("index_jobs") if jobs is None else jobs
        jobs = jobs or os.cpu_count() or 1
        _write(entries, root, rebuild, summary, started, lock, limitmb, callbacks, jobs)
    finally:
        lock.release()
    summary.seconds = time.perf_counter() - started
    return summary


def _write(entries, root, rebuild, summary, started, lock, limitmb, callbacks, jobs) -> None:
    """The body of write(), run holding the lock."""
    on_progress, on_problem, on_commit = callbacks
    live = current_generation(root) if rebuild else live_generation(root)
    fresh = rebuild or live is None
    if fresh:
        folder = _new_generation(root)
        ix = whoosh_index.create_in(str(folder), ArticleSchema())
    else:
        folder = live
        ix = whoosh_index.open_dir(str(live))
    seen: dict[str, Article] = {}
    writer = None
    build = ParallelBuild(str(folder), jobs, limitmb, to_document) if fresh and jobs > 1 else None
    pending, chunk_started = 0, time.monotonic()
    every, seconds = settings.get("commit_docs"), settings.get("commit_seconds")
    try:
        writer = new_writer(ix, limitmb=limitmb)
        for entry in entries:
            problem = entry if isinstance(entry, Problem) else None
            if isinstance(entry, Article):
                if entry.id in seen:
                    problem = _duplicate(entry, seen[entry.id])
                else:
                    seen[entry.id] = entry
                    pending += 1
                    if build is not None:
                        build.add(entry)
                        summary.indexed += 1
                    else:
                        _add(writer, entry, fresh, summary)
            if problem is not None:
                summary.problems.append(problem)
                if on_problem:
                    on_problem(problem)
            due = pending >= every or time.monotonic() - chunk_started >= seconds
            if not fresh and pending and due:
                writer.commit()  # on the disk when it returns (new_writer)
                summary.committed += pending
                if on_commit:
                    on_commit(summary)
                lock.release()
                time.sleep(0.05)  # let a waiting writer (the server) take the lock
                lock.acquire(settings.get("write_wait"))
                if live_generation(root) != folder:  # a rebuild replaced the index meanwhile
                    folder = live_generation(root)
                    ix = whoosh_index.open_dir(str(folder))
                writer = new_writer(ix, limitmb=limitmb)
                pending, chunk_started = 0, time.monotonic()
            if on_progress:
                summary.seconds = time.perf_counter() - started
                on_progress(summary)
        if build is not None and build.started:
            whoosh_ext.commit_segments(writer, build.finish())
        else:
            for article in build.pending if build is not None else ():
                writer.add_document(**to_document(tag(article)))
            writer.commit()
    except BaseException:
        if build is not None:
            build.cancel()
        _cancel(writer)
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if fresh:  # outside the try: once CURRENT names the folder, it must never be removed
        _switch(root, folder)
    summary.committed += pending
    if on_commit:
        on_commit(summary)


def _add(writer, article: Article, fresh: bool, summary: Summary) -> None:
    """Tag and index one article in this process, replacing a committed one with its id."""
    document = to_document(tag(article))
    # writer.searcher() sees the committed documents; the writer closes it
    if not fresh and writer.searcher().document_number(id=article.id) is not None:
        writer.update_document(**document)
        summary.replaced += 1
    else:
        writer.add_document(**document)
        summary.indexed += 1


def _cancel(writer) -> None:
    """Undo an uncommitted writer; a failure here must not hide the error that led to it."""
    if writer is not None and not writer.is_closed:
        try:
            writer.cancel()
        except Exception:
            log.exception("cancelling the Whoosh writer failed")


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


@dataclass
class Change:
    """One change of a live update: put `document` under `id`, or delete `id` (document None)."""

    id: str
    document: dict | None


def apply(changes: list[Change], root: Path | str | None = None) -> list[str]:
    """Apply changes in their order, in one commit, holding the write lock (IndexBusy after
    waiting write_wait seconds). Returns each change's status: created, replaced, deleted, or
    not_found for the deletion of an id that does not exist. When this returns, the commit is
    on disk; readers see all of it or none."""
    root = Path(root) if root is not None else default_dir()
    with WriteLock(root):
        live = live_generation(root)
        folder = live or _new_generation(root)
        writer = None
        try:
            if live:
                ix = whoosh_index.open_dir(str(live))
            else:
                ix = whoosh_index.create_in(str(folder), ArticleSchema())
            writer = new_writer(ix)
            searcher = writer.searcher()
            exists: dict[str, bool] = {}  # id -> exists after the changes so far
            final: dict[str, dict | None] = {}
            statuses = []
            for change in changes:
                if change.id not in exists:
                    exists[change.id] = searcher.document_number(id=change.id) is not None
                if change.document is not None:
                    statuses.append("replaced" if exists[change.id] else "created")
                    exists[change.id] = True
                    final[change.id] = change.document
                elif exists[change.id]:
                    statuses.append("deleted")
                    exists[change.id] = False
                    final[change.id] = None
                else:
                    statuses.append("not_found")
            # Whoosh cannot replace a document added in the same commit: only the last
            # version of each id is written.
            for doc_id, document in final.items():
                if document is None:
                    writer.delete_by_term("id", doc_id)
                else:
                    writer.update_document(**document)
            writer.commit()
        except BaseException:
            _cancel(writer)
            if live is None:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        if live is None:
            _switch(root, folder)
    return statuses


def documents(root: Path | str | None = None) -> Iterator[dict]:
    """Every stored document of the live index (for checks and exports)."""
    ix = open_index(root)
    with ix.searcher() as searcher:
        yield from searcher.documents()
