"""The table of contents of a generation folder (for search.maintenance: optimize, snapshot;
search.verify: check). Whoosh names TOC files and finds the latest one with private class
methods of `TOC`, and lists an index's segments with the private `Index._segments()`."""

from __future__ import annotations

from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, Index

INDEX_NAME = "MAIN"  # Whoosh's name for the index inside a generation folder


def toc_filename(generation: int, indexname: str = INDEX_NAME) -> str:
    """The file name of a table of contents: `_MAIN_<generation>.toc`."""
    return TOC._filename(indexname, generation)


def latest_generation(folder: Path | str, indexname: str = INDEX_NAME) -> int:
    """The generation of the newest table of contents in `folder`, -1 when there is none.
    Reads file names only, not the TOC."""
    return TOC._latest_generation(FileStorage(str(folder)), indexname)


def segment_count(ix: Index) -> int:
    """How many segments the index's latest table of contents lists."""
    return len(ix._segments())
