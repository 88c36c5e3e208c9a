"""Everything this service does to Whoosh (whoosh-reloaded) beyond its public API, in one
place: the patches of its bugs and slow paths, the commit that survives a power cut, and
every read of a private Whoosh attribute, each behind a small public function.

Nothing here applies on import: the entry points (the CLI's main, the app factory, the
indexing workers, the tests' conftest) call `install()`, which refuses a Whoosh version the
patches were not checked against.

- patching: install(), the checked versions, the list of patches
- lengths: a segment's field lengths decoded once (patch: indexing and scoring speed)
- buffers: a file inside a compound segment read from the memory map, not copied (patch:
  memory and the time to open a searcher)
- union: the best score of an OR of three or more parts (patch: top-N dropped true hits)
- commit: a writer whose commit syncs the new table of contents before removing the old
- postings: a writer's postings pooled, spilled and written out with fewer Python calls
- segments: a fresh build's segments written apart and committed in one table of contents
- arrays: postings and numeric columns of a segment read whole into numpy arrays
- toc: the table of contents of a generation folder
"""

from __future__ import annotations

from search.whoosh_ext.commit import DurableWriter, fsync_path, sync_new_files
from search.whoosh_ext.patching import (
    CHECKED_VERSIONS,
    PATCHES,
    Patch,
    UnsupportedWhoosh,
    check_version,
    install,
)
from search.whoosh_ext.segments import (
    commit_segments,
    finish_segment,
    segments_reader,
    unlocked_writer,
)
from search.whoosh_ext.toc import INDEX_NAME, latest_generation, segment_count, toc_filename

__all__ = [
    "CHECKED_VERSIONS",
    "INDEX_NAME",
    "PATCHES",
    "DurableWriter",
    "Patch",
    "UnsupportedWhoosh",
    "check_version",
    "commit_segments",
    "finish_segment",
    "fsync_path",
    "install",
    "latest_generation",
    "segment_count",
    "segments_reader",
    "sync_new_files",
    "toc_filename",
    "unlocked_writer",
]
