"""Stories on disk, committed with the Whoosh commit they describe.

Each commit of a generation folder has a story file beside its table of contents:
`stories-<n>.npz` for `_MAIN_<n>.toc`, the StoryState of exactly the documents that table
lists. StoryWriter writes it while committing, after the segment files and before the table
of contents (search.whoosh_ext.commit calls `before_toc`): the table's rename is the one
atomic step that makes both visible, so a reader never sees documents without their stories,
and a killed commit leaves at most an unreferenced story file. The file is synced with the
segment files. An optimize (a commit that adds and deletes nothing) links the previous file
under the new name. An index built before stories gets them at its next commit (an update, or
`search optimize`), which signs its documents once. Snapshots copy it with the table of
contents (maintenance.toc_files);
an export/restore re-indexes the articles, which groups them again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.searching import Searcher

from search import stories
from search.stories import Signed, Signer, StoryState, Thresholds
from search.whoosh_ext import DurableWriter, segments_reader

log = logging.getLogger("search.stories")

_FILE = re.compile(r"^stories-(\d+)\.npz$")
KEEP = 3  # story files of older commits kept for readers that opened them a moment ago


def story_file(folder: Path, generation: int) -> Path:
    return folder / f"stories-{generation}.npz"


def latest_file(folder: Path, generation: int) -> Path | None:
    """The story file of commit `generation`, else of the latest commit before it."""
    exact = story_file(folder, generation)
    if exact.exists():
        return exact
    found = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = _FILE.match(path.name)
        if match and int(match[1]) <= generation:
            found.append((int(match[1]), path))
    return max(found)[1] if found else None


def load(folder: Path, generation: int, signatures: bool = True) -> StoryState | None:
    """The stories of commit `generation` of a folder; None when it has none (an index
    built before stories, or in memory). Without `signatures` (for readers), the signatures
    are left on the disk."""
    path = latest_file(folder, generation)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            return StoryState(
                **{
                    name: data[name] if signatures or name != "sigs" else data[name][:0]
                    for name in StoryState.__dataclass_fields__
                }
            )
    except (OSError, ValueError, KeyError) as error:  # removed meanwhile, or damaged
        log.warning("cannot read %s: %s", path, error)
        return None


def save(folder: Path, generation: int, state: StoryState) -> Path:
    """Write the story file of commit `generation` (the caller's commit syncs it)."""
    path = story_file(folder, generation)
    temp = folder / f".{path.name}.{os.getpid()}.tmp"
    with open(temp, "wb") as handle:
        np.savez(handle, allow_pickle=False, **state.arrays())
    os.replace(temp, path)
    return path


def prune(folder: Path, generation: int) -> None:
    """Remove story files more than KEEP commits older than `generation`."""
    for path in folder.iterdir():
        match = _FILE.match(path.name)
        if match and int(match[1]) < generation - KEEP:
            with contextlib.suppress(OSError):
                path.unlink()


class StoryWriter(DurableWriter):
    """A durable Whoosh writer that records what it adds and deletes, and commits the
    stories of its commit with it. Workers' band keys join through `signed`."""

    def __init__(self, ix, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.signer = Signer()
        self.signed: list[Signed] = []
        self.deleted: set[str] = set()

    def add_document(self, **fields: Any) -> None:
        super().add_document(**fields)
        day = fields.get("date")
        self.signer.add(
            fields["id"],
            fields.get("_stored_body", fields.get("body", "")),
            day.date() if isinstance(day, datetime) else None,
        )

    def delete_by_term(self, fieldname, text, searcher=None):
        if fieldname == "id":
            self.deleted.add(text)
        return super().delete_by_term(fieldname, text, searcher=searcher)

    def before_toc(self, segments: list) -> None:
        folder = getattr(self.storage, "folder", None)
        if folder is None:  # an index in memory: no stories
            return
        folder = Path(folder)
        added = Signed.join([*self.signed, self.signer.signed()])
        previous = latest_file(folder, self.generation - 1)
        if not len(added.ids) and not self.deleted and previous is not None:
            temp = folder / f".stories-{self.generation}.{os.getpid()}.link"
            os.link(previous, temp)  # an optimize: the same documents
            os.replace(temp, story_file(folder, self.generation))
        else:
            state = load(folder, self.generation - 1) if previous else None
            reader = segments_reader(self, segments)
            try:
                searcher = Searcher(reader)
                if state is None and reader.doc_count() > len(added.ids):
                    # an index built before stories (or whose file is unreadable): its
                    # documents are signed once, here, and grouped with the new ones
                    added = Signed.join([_sign_all(searcher, set(added.ids.tolist())), added])

                def body_of(doc_id: str) -> str:
                    stored = searcher.document(id=doc_id)
                    return (stored or {}).get("body") or ""

                state = stories.update(
                    state or StoryState.empty(),
                    added,
                    self.deleted,
                    body_of,
                    Thresholds.current(),
                )
            finally:
                reader.close()
            save(folder, self.generation, state)
        prune(folder, self.generation)


def _sign_all(searcher: Searcher, skip: set[bytes]) -> Signed:
    """The signatures of every document of a searcher, but those in `skip`."""
    signer = Signer()
    for stored in searcher.documents():
        if stored["id"].encode() in skip:
            continue
        day = stored.get("date")
        date = day.date() if isinstance(day, datetime) else None
        signer.add(stored["id"], stored.get("body") or "", date)
    return signer.signed()
