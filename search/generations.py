"""The index folder and its generations: where the live index is, and switching to a new one.

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
from collections.abc import Iterator
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import Index

from search import settings
from search.schema import ArticleSchema
from search.whoosh_ext import fsync_path

DEFAULT_DIR = "index"
POINTER = "CURRENT"
_GENERATION = re.compile(r"^gen-(\d{6})$")


class IndexNotFoundError(FileNotFoundError):
    """There is no built index in the folder."""


class IndexDamagedError(IndexNotFoundError):
    """CURRENT names a generation that is not there (removed by hand, or a broken copy)."""


class IndexOutdatedError(IndexDamagedError):
    """The index was built by an earlier version whose schema lacks fields this one writes."""


def index_root(root: Path | str | None = None) -> Path:
    """The index folder: `root` when given, else SEARCH_INDEX, else the config file's `index`,
    else ./index."""
    if root is not None:
        return Path(root)
    return Path(settings.text("index") or DEFAULT_DIR)


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


def built_generation(root: Path) -> Path:
    """The folder of the live index; IndexNotFoundError when none was built (IndexDamagedError
    when CURRENT names nothing)."""
    folder = live_generation(root)
    if folder is None:
        raise IndexNotFoundError(f"no index in {root}: build one with `search index PATH`")
    return folder


def open_index(root: Path | str | None = None) -> Index:
    """Open the live index for reading. Raises IndexNotFoundError when there is none."""
    return open_live(root)[0]


def open_live(root: Path | str | None = None) -> tuple[Index, Path]:
    """The live index and its generation folder. Raises IndexNotFoundError (or its
    IndexDamagedError) when there is none."""
    root = index_root(root)
    for _ in range(3):  # a rebuild may switch generations between reading CURRENT and opening
        folder = built_generation(root)
        try:
            ix = whoosh_index.open_dir(str(folder))
        except (whoosh_index.IndexError, FileNotFoundError):
            time.sleep(0.05)
            continue
        _check_schema(ix, root)
        return ix, folder
    raise IndexNotFoundError(f"the index in {root} could not be opened")


def _check_schema(ix: Index, root: Path) -> None:
    """Refuse an index whose schema lacks a field of today's (built before the side and
    operation facets): writing to it would fail document by document."""
    missing = [name for name in ArticleSchema().names() if name not in ix.schema]
    if missing:
        raise IndexOutdatedError(
            f"the index in {root} was built by an earlier version (no {', '.join(missing)}): "
            "rebuild it with `search index --rebuild PATH`"
        )


def documents(root: Path | str | None = None) -> Iterator[dict]:
    """Every stored document of the live index (for checks and exports)."""
    ix = open_index(root)
    with ix.searcher() as searcher:
        yield from searcher.documents()


def new_generation(root: Path) -> Path:
    """A new, empty generation folder under `root`, numbered after the highest there."""
    numbers = [int(m[1]) for p in root.glob("gen-*") if (m := _GENERATION.match(p.name))]
    folder = root / f"gen-{max(numbers, default=0) + 1:06d}"
    folder.mkdir(parents=True)
    return folder


def switch(root: Path, folder: Path) -> None:
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
