"""install(): apply the patches to Whoosh, once, and only to a version they were checked
against.

A patch replaces one method of a Whoosh class with a function of this package. It is used
only where neither a subclass nor a custom codec can do the job cleanly: a codec is pickled
into every segment of every table of contents (an index would then need this package to
open, and the indexes built before would keep the slow path), and the union matcher is made
deep inside Whoosh's query classes (`Or` picks it), not by this service.

Checked against whoosh-reloaded 2.7.5, with the tests in tests/test_whoosh_ext.py: each
fails when its patch is reverted. Two earlier patches were dropped as not needed on 2.7.5:
`Searcher.avg_field_length` (a segment's own searcher divides the whole index's field length
by the segment's count, but BM25F and PL2 ask the top searcher, so scores never depend on the
segment layout: test_scores_do_not_depend_on_the_segment_layout) and
`W3PerDocReader._cached_reader` (remembering a missing column: the decoded lengths already
remember it, and without it indexing and searching look on disk exactly as often).

To admit another version, read the patched methods' source in it, run those tests, and add
it to CHECKED_VERSIONS (and widen the pin in pyproject.toml).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata

import whoosh
from whoosh.codec.whoosh3 import W3PerDocReader
from whoosh.filedb.compound import CompoundStorage
from whoosh.matching.combo import ArrayUnionMatcher

from search.whoosh_ext import buffers, lengths, union

DISTRIBUTION = "whoosh-reloaded"
CHECKED_VERSIONS = ("2.7.5",)


class UnsupportedWhoosh(RuntimeError):
    """The installed Whoosh is not a version the patches were checked against."""


@dataclass
class Patch:
    """One method of a Whoosh class replaced by `replacement`; `original` is what it was
    before apply() (None while not applied)."""

    owner: type
    name: str
    replacement: Callable
    original: Callable | None = field(default=None, init=False)

    @property
    def applied(self) -> bool:
        return self.owner.__dict__.get(self.name) is self.replacement

    def apply(self) -> None:
        """Replace the method; a second call changes nothing."""
        if not self.applied:
            self.original = self.owner.__dict__[self.name]
            setattr(self.owner, self.name, self.replacement)

    def revert(self) -> None:
        """Put Whoosh's method back (for tests that show what the patch is for)."""
        if self.applied and self.original is not None:
            setattr(self.owner, self.name, self.original)


PATCHES = (
    Patch(W3PerDocReader, "doc_field_length", lengths.doc_field_length),
    Patch(ArrayUnionMatcher, "max_quality", union.max_quality),
    Patch(CompoundStorage, "open_file", buffers.open_file),
)
_LOCK = threading.Lock()


def installed_version() -> str | None:
    """The version of whoosh-reloaded installed, or None when Whoosh comes from another
    distribution (the original Whoosh, say)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def check_version() -> None:
    """Raise UnsupportedWhoosh unless the installed Whoosh is a checked version."""
    version = installed_version()
    checked = ", ".join(CHECKED_VERSIONS)
    if version is None:
        found = ".".join(str(part) for part in whoosh.__version__)
        raise UnsupportedWhoosh(
            f"Whoosh {found} is installed, not {DISTRIBUTION}; search patches Whoosh and was "
            f"checked against {DISTRIBUTION} {checked} only: install {DISTRIBUTION}=={checked}"
        )
    if version not in CHECKED_VERSIONS:
        raise UnsupportedWhoosh(
            f"{DISTRIBUTION} {version} is installed, but search's Whoosh patches "
            f"(search/whoosh_ext) were checked against {checked} only: install "
            f"{DISTRIBUTION}=={CHECKED_VERSIONS[-1]}, or check the patches against {version} "
            "(tests/test_whoosh_ext.py) and add it to whoosh_ext.patching.CHECKED_VERSIONS"
        )


def install() -> None:
    """Check the Whoosh version (UnsupportedWhoosh when unchecked), then apply every patch.
    Safe to call again, from any thread: what is applied stays as it is."""
    check_version()
    with _LOCK:
        for patch in PATCHES:
            patch.apply()
