"""A segment's arrays kept on disk beside it (`<segment>.arrays`), so that opening an index
maps them instead of decoding the segment again, and worker processes share the pages.

A sidecar is a cache: a segment without one (an older index, a write the server made) is
read from Whoosh's files as before and its sidecar written then. Its name is a segment
file's name, so Whoosh deletes it with its segment (at a merge, or when a commit drops it).

Layout: MAGIC, the header's length (8 bytes, little-endian), a JSON header (the segment's
identity, each array's dtype, shape, offset and CRC-32, and any other values), then each
array's bytes at an offset aligned to ALIGN.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from whoosh.reading import IndexReader

from search.whoosh_ext import arrays

EXT = ".arrays"
MAGIC = b"SRCHARR1"
ALIGN = 64


class SidecarError(ValueError):
    """A sidecar that cannot be read (truncated, of another segment, of another format)."""


def path_of(leaf: IndexReader) -> Path | None:
    """Where a segment reader's sidecar is; None for a segment in memory."""
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    folder = arrays.segment_folder(leaf)
    if segment is None or folder is None:
        return None
    return Path(folder) / segment.make_filename(EXT)


def identity(leaf: IndexReader) -> dict:
    """What a sidecar must say to be this segment's: its name, documents, and the sizes of
    its files (a segment's random name can be drawn again once the first is gone)."""
    segment, folder = leaf.segment(), Path(arrays.segment_folder(leaf) or ".")
    prefix = segment.segment_id() + "."
    files = sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
    sizes = {p.suffix: p.stat().st_size for p in files if p.suffix != EXT}
    return {"segment": segment.segment_id(), "docs": leaf.doc_count_all(), "files": sizes}


def write(path: Path, owner: dict, values: dict, named: dict[str, np.ndarray]) -> None:
    """Write a sidecar whole or not at all: a temporary file (a dotted name, which Whoosh's
    clean-up skips), flushed to the disk, then renamed over `path`. `owner`: the segment's
    identity(); `values`: anything else JSON can hold; `named`: the arrays by name."""
    layout, offset, blobs = {}, 0, []
    for name, array in named.items():
        array = np.ascontiguousarray(array)
        layout[name] = [array.dtype.str, list(array.shape), offset, zlib.crc32(array.data)]
        blobs.append((offset, array))
        offset += -(-array.nbytes // ALIGN) * ALIGN
    header = json.dumps({**owner, "values": values, "arrays": layout}).encode("utf-8")
    start = -(-(len(MAGIC) + 8 + len(header)) // ALIGN) * ALIGN
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(MAGIC + struct.pack("<Q", len(header)) + header)
            for at, array in blobs:
                out.seek(start + at)
                out.write(array.data)
            out.truncate(start + offset)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def read(path: Path, owner: dict | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """A sidecar's values and its arrays, mapped read-only from the file (no copy).
    Raises FileNotFoundError, or SidecarError when it is not `owner`'s (an identity()), is
    cut short or its bytes changed since written."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < len(MAGIC) + 8:
            raise SidecarError(f"{path.name}: cut short")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if mapped[: len(MAGIC)] != MAGIC:
        raise SidecarError(f"{path.name}: not a sidecar of this version")
    (length,) = struct.unpack("<Q", mapped[len(MAGIC) : len(MAGIC) + 8])
    try:
        header = json.loads(mapped[len(MAGIC) + 8 : len(MAGIC) + 8 + length])
    except ValueError as error:
        raise SidecarError(f"{path.name}: unreadable header ({error})") from None
    for key, expected in (owner or {}).items():
        if header.get(key) != expected:
            raise SidecarError(f"{path.name}: {key} is {header.get(key)!r}, not {expected!r}")
    start = -(-(len(MAGIC) + 8 + length) // ALIGN) * ALIGN
    named, damaged = {}, []
    for name, (dtype, shape, offset, crc) in header["arrays"].items():
        dtype = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if start + offset + count * dtype.itemsize > size:
            raise SidecarError(f"{path.name}: cut short")
        found = np.frombuffer(mapped, dtype, count, start + offset) if count else np.zeros(0, dtype)
        if zlib.crc32(found.data) != crc:  # cheap next to decoding the segment again
            damaged.append(name)
        named[name] = found.reshape(shape)
    if damaged:
        raise SidecarError(f"{path.name}: changed since written: {', '.join(damaged)}")
    return header["values"], named
