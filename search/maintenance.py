"""Work on a whole live index under its write lock: merge its segments (optimize) and copy its
last commit to a folder of its own (snapshot), while the server goes on answering."""

from __future__ import annotations

import shutil
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from search.generations import built_generation, index_root, open_index, point
from search.index import cancel, new_writer, save_arrays
from search.locking import WriteLock
from search.saved import Store
from search.story_store import story_file
from search.whoosh_ext import INDEX_NAME, fsync_path, segment_count, toc_filename


def optimize(root: Path | str | None = None) -> tuple[int, int]:
    """Merge the live generation's segments into one (purging deleted documents), holding the
    write lock (IndexBusy after write_wait seconds). Returns (segments before, after)."""
    root = index_root(root)
    with WriteLock(root):
        folder = built_generation(root)
        ix = whoosh_index.open_dir(str(folder))
        before = segment_count(ix)
        writer = None
        try:
            writer = new_writer(ix)
            writer.commit(optimize=True)  # on the disk when it returns
        except BaseException:
            cancel(writer)
            raise
        save_arrays(folder)
        after = segment_count(whoosh_index.open_dir(str(folder)))
    return before, after


class MissingSegment(FileNotFoundError):
    """The table of contents names a segment whose files are not in the folder."""


def toc_files(folder: Path) -> list[str]:
    """The files of the latest commit in a generation folder: its table of contents, its
    stories (when the index has them) and the files of the segments it names. Stale files of
    killed commits and locks are left out."""
    storage = FileStorage(str(folder))
    toc = TOC.read(storage, INDEX_NAME)
    names = [toc_filename(toc.generation)]
    if story_file(folder, toc.generation).exists():
        names.append(story_file(folder, toc.generation).name)
    for segment in toc.segments:
        files = segment.list_files(storage)
        if not files:
            raise MissingSegment(
                f"segment {segment.segment_id()}, which the table of contents "
                f"{names[0]} names, has no file in {folder}"
            )
        names += files
    return names


def snapshot(root: Path | str | None, dest: Path | str) -> int:
    """Copy the live index into `dest` (a folder that does not exist or is empty) as an index
    root of its own (dest/CURRENT, dest/gen-XXXXXX); return its document count.

    Writes may go on meanwhile: the copy is made holding the write lock (so writers wait
    while it runs, and answer busy past write_wait), and Whoosh never changes a file once a
    commit has written it, so the copy is one commit whole. A failed copy leaves `dest` as it
    was (removed if this made it)."""
    root = index_root(root)
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder")
    made = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with WriteLock(root):
            folder = built_generation(root)
            target = dest / folder.name
            target.mkdir()
            for name in toc_files(folder):
                shutil.copyfile(folder / name, target / name)
        for path in target.iterdir():
            fsync_path(path)
        fsync_path(target)
        saved = Store(root).all()
        if saved:  # the saved searches go with the index they follow
            Store(dest).merge(saved)
        point(dest, folder.name)
        with open_index(dest).searcher() as searcher:
            return searcher.doc_count()
    except BaseException:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for path in dest.iterdir():
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise
