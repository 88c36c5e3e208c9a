"""Build a fresh index on every core: worker processes tag and index batches of articles,
each into its own Whoosh segment, and one commit lists all the segments.

Whoosh's own multiprocessing writer analyses in parallel but merges every sub-segment in
the parent, serially, which leaves little of the gain; here nothing is merged, the segments
go into the table of contents as they are (one per worker; `search optimize` merges them if
wanted, and Whoosh's merge policy leaves segments this large alone).
Parsing stays in the parent, in input order, so problems and duplicate ids are reported as
in a serial run. Batches go to the workers in turn, so a build is deterministic: the same
input gives the same segments and document numbers.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable
from typing import Any

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from search import segment_arrays, whoosh_ext
from search.analysis import fresh_spelling
from search.articles import Article
from search.stories import Signed, Signer
from search.tagging import tag

BATCH = 100  # articles per message to a worker: large enough that pickling them is cheap
START = 4 * BATCH  # fewer articles than this are indexed in-process: forking costs more


class WorkerFailed(RuntimeError):
    """An indexing worker raised or died; the build is abandoned."""


class ParallelBuild:
    """Feeds articles to `jobs` worker processes writing segments into `folder`'s index.
    Workers start at the START-th article; before that, `pending` holds the articles."""

    def __init__(self, folder: str, jobs: int, limitmb: int, to_document: Callable) -> None:
        self.folder, self.jobs, self.limitmb, self.to_document = folder, jobs, limitmb, to_document
        self.pending: list[Article] = []
        self.workers: list = []
        self.inboxes: list = []
        self.results: Any = None  # a multiprocessing queue, once the workers start
        self.turn = 0
        self.batch: list[Article] = []
        self.signed: list[Signed] = []  # the workers' band keys (search.stories), once finished

    @property
    def started(self) -> bool:
        return bool(self.workers)

    def add(self, article: Article) -> None:
        if not self.started:
            self.pending.append(article)
            if len(self.pending) >= START:
                self._start()
            return
        self.batch.append(article)
        if len(self.batch) >= BATCH:
            self._send(self.batch)
            self.batch = []

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")  # workers inherit the loaded gazetteer
        self.results = context.Queue()
        for number in range(self.jobs):
            inbox = context.Queue(maxsize=4)  # bounded: the parent cannot run far ahead
            args = (self.folder, inbox, self.results, number, self.limitmb, self.to_document)
            worker = context.Process(target=_work, args=(*args, os.getpid()), daemon=True)
            worker.start()
            self.workers.append(worker)
            self.inboxes.append(inbox)
        pending, self.pending = self.pending, []
        for start in range(0, len(pending), BATCH):
            self._send(pending[start : start + BATCH])

    def _send(self, item) -> None:
        number = self.turn % self.jobs
        self.turn += item is not None
        while True:
            try:
                self.inboxes[number].put(item, timeout=1)
                return
            except queue.Full:
                self._check(number)

    def _check(self, number: int) -> None:
        worker = self.workers[number]
        if not worker.is_alive():
            raise WorkerFailed(f"indexing worker {number} died (exit code {worker.exitcode})")

    def finish(self) -> list:
        """Wait for the workers; their segments in worker order (empty ones left out). Their
        articles' band keys are then in `signed`."""
        if self.batch:
            self._send(self.batch)
            self.batch = []
        for number in range(self.jobs):
            self.turn = number
            self._send(None)
        segments: dict[int, object] = {}
        signed: dict[int, Signed] = {}
        while len(segments) < self.jobs:
            try:
                number, failure, segment, signed[number] = self.results.get(timeout=1)
            except queue.Empty:
                for number in range(self.jobs):
                    if number not in segments:
                        self._check(number)
                continue
            if failure:
                raise WorkerFailed(f"indexing worker {number} failed:\n{failure}")
            segments[number] = segment
        for worker in self.workers:
            worker.join()
        self.signed = [signed[n] for n in sorted(signed)]
        return [segments[n] for n in sorted(segments) if segments[n] is not None]

    def cancel(self) -> None:
        for worker in self.workers:
            if worker.is_alive():
                worker.kill()
        for worker in self.workers:
            worker.join()
        for inbox in self.inboxes:
            # batches still buffered for a killed worker: never wait at exit to send them
            inbox.cancel_join_thread()
            inbox.close()


def _next(inbox, parent: int):
    """The next batch; a worker whose parent died (killed mid-build) stops, rather than
    wait forever on a queue nobody feeds."""
    while True:
        try:
            return inbox.get(timeout=1)
        except queue.Empty:
            if os.getppid() != parent:
                os._exit(1)


def _work(folder, inbox, results, number, limitmb, to_document, parent) -> None:
    """A worker: index every batch from `inbox` into a new segment, then send the segment
    (None if it got no article) with its articles' band keys, or the error."""
    try:
        whoosh_ext.install()  # inherited from the parent when forked; applied if spawned
        ix = whoosh_index.open_dir(folder)
        # the parent holds the index's write lock for the whole build
        writer = whoosh_ext.unlocked_writer(ix, limitmb=limitmb)
        fresh_spelling(writer.schema)
        signer = Signer()
        while (batch := _next(inbox, parent)) is not None:
            for article in batch:
                writer.add_document(**to_document(tag(article)))
                signer.add(article.id, article.body, article.date)
        segment = whoosh_ext.finish_segment(writer)
        if segment is not None:  # its arrays, read here on every core rather than at start
            reader = SegmentReader(ix.storage, ix.schema, segment)
            segment_arrays.save(reader)
            reader.close()
        # The segment, uncommitted: the parent commits every worker's in one table of contents
        results.put((number, None, segment, signer.signed()))
    except BaseException:
        results.put((number, traceback.format_exc(), None, None))
