"""Writing the index: articles tagged and indexed in batches (`search index`), and the live
changes of the write routes applied in one commit each (apply).

Every write holds the folder's write lock (search.locking). A first build or a rebuild fills a
new generation and switches to it when complete (search.generations); an update commits into
the live one, every commit_docs documents or commit_seconds, so a killed run keeps what it
committed and the server's writes get their turn in between.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.index import Index

from search import segment_arrays, settings, whoosh_ext
from search.analysis import fresh_spelling
from search.articles import Article
from search.files import Problem
from search.generations import (
    built_generation,
    current_generation,
    index_root,
    live_generation,
    new_generation,
    switch,
)
from search.locking import WriteLock
from search.schema import ArticleSchema, Change, stamp, to_document
from search.segments import ParallelBuild
from search.story_store import StoryWriter
from search.tagging import tag

log = logging.getLogger("search.index")


def new_writer(ix: Index, **kwargs: Any) -> StoryWriter:
    """A Whoosh writer whose text fields start a fresh set of spelling words (ArticleText),
    whose commit is on the disk, in a power-safe order, when commit() returns, and carries
    the stories of the documents it lists (search.story_store)."""
    writer = StoryWriter(ix, **kwargs)
    fresh_spelling(writer.schema)
    return writer


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
    root = index_root(root)
    started = time.perf_counter()
    summary = Summary()
    callbacks = (on_progress, on_problem, on_commit)
    lock = WriteLock(root)
    lock.acquire()
    try:
        jobs = settings.integer("index_jobs") if jobs is None else jobs
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
        folder = new_generation(root)
        ix = whoosh_index.create_in(str(folder), ArticleSchema())
    else:
        assert live is not None  # not fresh
        folder = live
        ix = whoosh_index.open_dir(str(live))
    # id -> (origin, content digest) of each article of this run: not the articles, whose
    # bodies would all stay in memory to the end of a build
    seen: dict[str, tuple[str, bytes]] = {}
    # A rebuild re-reads the archive; it does not make its articles new ("new since").
    kept = _indexed_times(live) if rebuild and live is not None else {}
    writer = None
    build = ParallelBuild(str(folder), jobs, limitmb, to_document) if fresh and jobs > 1 else None
    pending, chunk_started = 0, time.monotonic()
    every, seconds = settings.integer("commit_docs"), settings.number("commit_seconds")
    try:
        writer = new_writer(ix, limitmb=limitmb)
        for entry in entries:
            problem = entry if isinstance(entry, Problem) else None
            if isinstance(entry, Article):
                if entry.recorded_indexed_at is None and entry.id in kept:
                    entry = dataclasses.replace(entry, recorded_indexed_at=kept[entry.id])
                if entry.id in seen:
                    problem = _duplicate(entry, seen[entry.id])
                else:
                    seen[entry.id] = (entry.origin, _content(entry))
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
                lock.acquire()
                if live_generation(root) != folder:  # a rebuild replaced the index meanwhile
                    folder = built_generation(root)
                    ix = whoosh_index.open_dir(str(folder))
                writer = new_writer(ix, limitmb=limitmb)
                pending, chunk_started = 0, time.monotonic()
            if on_progress:
                summary.seconds = time.perf_counter() - started
                on_progress(summary)
        if build is not None and build.started:
            segments = build.finish()
            writer.signed = build.signed
            whoosh_ext.commit_segments(writer, segments)
        else:
            for article in build.pending if build is not None else ():
                writer.add_document(**to_document(tag(article)))
            writer.commit()
    except BaseException:
        if build is not None:
            build.cancel()
        cancel(writer)
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    save_arrays(folder)  # before the switch: a server started then maps them at once
    if fresh:  # outside the try: once CURRENT names the folder, it must never be removed
        switch(root, folder)
    summary.committed += pending
    if on_commit:
        on_commit(summary)


def save_arrays(folder: Path) -> None:
    """The sidecar (search.sidecars) of each segment of the folder's last commit that has
    none: those a commit in this process made (a parallel build's workers write theirs)."""
    with whoosh_index.open_dir(str(folder)).reader() as reader:
        segment_arrays.save_every(reader)


def _indexed_times(folder: Path) -> dict[str, int]:
    """id -> indexed_at of every live document of a generation; empty when it cannot be read
    or has none (an index built before indexed_at)."""
    try:
        ix = whoosh_index.open_dir(str(folder))
        if "indexed_at" not in ix.schema:
            return {}
        times = {}
        with ix.reader() as reader:
            for leaf, _ in reader.leaf_readers():
                column = leaf.column_reader("indexed_at")
                for term, info in leaf.iter_field("id"):  # an id's last posting is its live one
                    docnum = info.max_id()
                    if not leaf.is_deleted(docnum):
                        doc_id = term.decode("utf-8") if isinstance(term, bytes) else term
                        times[doc_id] = column[docnum]
        return times
    except (OSError, whoosh_index.IndexError) as error:
        log.warning(
            "the indexed times of %s cannot be read (%s): a rebuild stamps anew", folder, error
        )
        return {}


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


def cancel(writer) -> None:
    """Undo an uncommitted writer; a failure here must not hide the error that led to it."""
    if writer is not None and not writer.is_closed:
        try:
            writer.cancel()
        except Exception:
            log.exception("cancelling the Whoosh writer failed")


def _content(article: Article) -> bytes:
    """A digest of what makes two articles under one id the same report."""
    text = repr((article.title, article.body, article.date, article.source))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _duplicate(article: Article, first: tuple[str, bytes]) -> Problem:
    """A second article with an id already seen in this run: the first one stays. Whoosh
    cannot replace a document it has not committed yet, and exports repeat rows.
    first: the first article's origin and content digest (_content)."""
    origin, content = first
    where = _beside(origin, article.origin)
    if _content(article) == content:
        message = f"repeats article {article.id!r} of {where}; ignored"
        return Problem(article.origin, message, skipped=False)
    message = f"duplicate id {article.id!r} with other content (first in {where})"
    return Problem(article.origin, message)


def _beside(first: str, origin: str) -> str:
    """Where the first article was, said without the path the problem line already starts
    with: `fakes.csv:463` beside `fakes.csv:464` is `line 463`."""
    path, sep, line = first.rpartition(":")
    if sep and line.isdigit() and origin.rpartition(":")[0] == path:
        return f"line {line}"
    return first


def apply(changes: list[Change], root: Path | str | None = None) -> list[str]:
    """Apply changes in their order, in one commit, holding the write lock (IndexBusy after
    waiting write_wait seconds). Returns each change's status: created, replaced, deleted, or
    not_found for the deletion of an id that does not exist. When this returns, the commit is
    on disk; readers see all of it or none."""
    root = index_root(root)
    with WriteLock(root):
        live = live_generation(root)
        folder = live or new_generation(root)
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
            now = stamp()  # under the lock: see schema.stamp
            for doc_id, document in final.items():
                if document is None:
                    writer.delete_by_term("id", doc_id)
                else:
                    writer.update_document(**{**document, "indexed_at": now})
            writer.commit()
        except BaseException:
            cancel(writer)
            if live is None:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        if live is None:
            switch(root, folder)
    return statuses
