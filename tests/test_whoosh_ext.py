"""search.whoosh_ext: install() and its version guard, each patch against what Whoosh alone
does (every "Whoosh alone" test fails once Whoosh fixes the bug: the patch can then go), the
order of syncs and removals of a commit, and the helpers over private Whoosh attributes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from whoosh.codec import whoosh3
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.matching.combo import ArrayUnionMatcher
from whoosh.qparser import QueryParser
from whoosh.searching import Searcher

from search import maintenance, whoosh_ext
from search.articles import Article
from search.cli import EXIT_ERROR, main
from search.generations import current_generation
from search.index import apply, write
from search.schema import Change, to_document
from search.service import Service
from search.tagging import tag
from search.whoosh_ext import arrays, buffers, lengths, patching, union

ROOT = Path(__file__).resolve().parents[1]


def patch_of(replacement) -> whoosh_ext.Patch:
    return next(p for p in whoosh_ext.PATCHES if p.replacement is replacement)


@contextlib.contextmanager
def reverted(replacement):
    """Whoosh's own method in place of a patch, for the length of a `with`."""
    patch = patch_of(replacement)
    patch.revert()
    try:
        yield
    finally:
        patch.apply()


def ram_index(segments: list[list[tuple[str, str]]], schema=None):
    """An index in memory with one segment per list of (id, body)."""
    ix = RamStorage().create_index(schema or Schema(id=ID(stored=True), body=TEXT))
    for documents in segments:
        writer = ix.writer()
        for doc_id, body in documents:
            writer.add_document(id=doc_id, body=body)
        writer.commit(merge=False)
    return ix


# --- install() --------------------------------------------------------------------------------


def test_install_applies_every_patch_and_twice_changes_nothing():
    whoosh_ext.install()
    methods = [p.owner.__dict__[p.name] for p in whoosh_ext.PATCHES]
    originals = [p.original for p in whoosh_ext.PATCHES]
    whoosh_ext.install()
    assert all(p.applied for p in whoosh_ext.PATCHES)
    assert [p.owner.__dict__[p.name] for p in whoosh_ext.PATCHES] == methods
    assert [p.original for p in whoosh_ext.PATCHES] == originals  # never a patch of a patch
    assert all(p.original.__module__.startswith("whoosh.") for p in whoosh_ext.PATCHES)


def test_importing_the_index_applies_nothing():
    """The patches apply at install(), not as a side effect of an import."""
    code = (
        "import search.index, search.api, search.cli, search.maintenance, search.verify\n"
        "from search import whoosh_ext\n"
        "print(sum(p.applied for p in whoosh_ext.PATCHES))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


@pytest.mark.parametrize("found", ["2.7.6", "3.0.0", None])
def test_install_refuses_an_unchecked_whoosh(monkeypatch, found):
    monkeypatch.setattr(patching, "installed_version", lambda: found)
    with pytest.raises(whoosh_ext.UnsupportedWhoosh) as caught:
        whoosh_ext.install()
    message = str(caught.value)
    assert "2.7.5" in message  # the checked version
    assert (found or "2.7.5") in message  # the installed one (the original Whoosh: 2.7.5)
    if found is None:
        assert "not whoosh-reloaded" in message


def test_the_cli_refuses_an_unchecked_whoosh(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(patching, "installed_version", lambda: "2.8.1")
    assert main(["export", "--index", str(tmp_path)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert error.startswith("search: error: whoosh-reloaded 2.8.1 is installed")
    assert "checked against 2.7.5" in error


def test_the_pin_is_the_checked_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in project["project"]["dependencies"] if d.startswith("whoosh-reloaded")]
    assert pins == [f"whoosh-reloaded=={v}" for v in whoosh_ext.CHECKED_VERSIONS]
    assert patching.installed_version() in whoosh_ext.CHECKED_VERSIONS


# --- the union bound --------------------------------------------------------------------------

PAD = " ".join(["filler"] * 20)
# In the first segment, three long documents fill a top 3 and three short ones replace them,
# raising the lowest score of the top 3 to one word's and "kilo"'s best. The second segment
# holds the document with all three words: each scores less there than in a short document,
# but the three together score far more.
UNION_SEGMENTS = [
    [
        ("a1", f"alpha kilo {PAD}"),
        ("b1", f"beta kilo {PAD}"),
        ("g1", f"gamma kilo {PAD}"),
        ("a2", "alpha kilo"),
        ("b2", "beta kilo"),
        ("g2", "gamma kilo"),
    ],
    [("all", "alpha beta gamma kilo filler filler"), ("other", "other words")],
]
UNION_QUERY = "(alpha OR beta OR gamma) AND kilo"


def union_top(limit: int | None) -> list[str]:
    ix = ram_index(UNION_SEGMENTS)
    query = QueryParser("body", ix.schema).parse(UNION_QUERY)
    with ix.searcher() as searcher:
        for leaf, _ in searcher.leaf_searchers():  # the OR is an ArrayUnionMatcher
            matcher = query.matcher(leaf, searcher.context())
            assert any(isinstance(m, ArrayUnionMatcher) for m in (matcher.a, matcher.b))
        return [hit["id"] for hit in searcher.search(query, limit=limit)]


def test_a_union_ranks_the_document_with_every_part_first():
    assert union_top(None)[0] == "all"
    assert union_top(3) == union_top(None)[:3]
    assert union_top(3)[0] == "all"


def test_whoosh_alone_drops_the_document_with_every_part():
    with reverted(union.max_quality):
        assert "all" in union_top(None)
        assert "all" not in union_top(3)


def test_the_union_bound_holds_with_a_boost():
    ix = ram_index(UNION_SEGMENTS)
    query = QueryParser("body", ix.schema).parse("(alpha OR beta OR gamma)^3 AND kilo")
    with ix.searcher() as searcher:
        best = {h["id"]: h.score for h in searcher.search(query, limit=None)}
        top = [h["id"] for h in searcher.search(query, limit=3)]
        for leaf, _ in searcher.leaf_searchers():  # no document above the bound
            matcher = query.matcher(leaf, searcher.context())
            array = next(m for m in (matcher.a, matcher.b) if isinstance(m, ArrayUnionMatcher))
            bound = array.max_quality()
            while array.is_active():
                assert array.score() <= bound + 1e-9
                array.next()
    assert top == list(best)[:3]
    assert top[0] == "all"


# --- field lengths ----------------------------------------------------------------------------

LENGTH_DOCS = [[(f"d{i}", " ".join(["word"] * (i % 40 + 1))) for i in range(300)]]


def lengths_asked(monkeypatch) -> tuple[list, list]:
    """Every document's length of body (a column) and id (none), and how many times the
    storage was asked whether a column file exists."""
    schema = Schema(id=ID(stored=True), body=TEXT(spelling=True))
    ix = ram_index(LENGTH_DOCS, schema)
    looked: list[str] = []
    real = RamStorage.file_exists
    monkeypatch.setattr(RamStorage, "file_exists", lambda s, n: looked.append(n) or real(s, n))
    with ix.reader() as reader:
        found = [
            (reader.doc_field_length(d, "body"), reader.doc_field_length(d, "id", -1))
            for d in range(reader.doc_count_all())
        ]
    return found, looked


def test_lengths_are_decoded_once_and_a_missing_column_looked_for_once(monkeypatch):
    found, looked = lengths_asked(monkeypatch)
    assert len(looked) <= 2  # body's column and id's missing one, once each
    with reverted(lengths.doc_field_length):
        expected, _ = lengths_asked(monkeypatch)
    assert found == expected  # Whoosh's own values
    assert found[0] == (1, -1) and found[39] == (40, -1)


def test_whoosh_alone_looks_for_a_missing_column_at_every_call(monkeypatch):
    with reverted(lengths.doc_field_length):
        _, looked = lengths_asked(monkeypatch)
    assert len(looked) >= len(LENGTH_DOCS[0])


def test_lengths_past_the_last_document_raise_as_in_whoosh():
    ix = ram_index([[("a", "one two")]])
    with ix.reader() as reader:
        with pytest.raises(IndexError):
            reader.doc_field_length(5, "body")
        assert reader.doc_field_length(0, "nothing", default=7) == 7


# --- scores and segment layout ----------------------------------------------------------------

LAYOUT_DOCS = [
    (f"d{i}", " ".join(["alpha"] * (i % 3 + 1) + ["filler"] * (i * 7 % 11) + ["beta"] * (i % 2)))
    for i in range(30)
]


def scores(layout: list[int]) -> dict[str, float]:
    segments, start = [], 0
    for size in layout:
        segments.append(LAYOUT_DOCS[start : start + size])
        start += size
    ix = ram_index(segments)
    query = QueryParser("body", ix.schema).parse("alpha OR beta")
    with ix.searcher() as searcher:
        assert len(searcher.leaf_searchers()) == len(layout)
        return {hit["id"]: hit.score for hit in searcher.search(query, limit=None)}


def test_scores_do_not_depend_on_the_segment_layout():
    """Whoosh's BM25F takes the average field length from the top searcher, so no patch of
    Searcher.avg_field_length is needed (a segment's own searcher would give the whole
    index's length over the segment's count, but no scorer asks it)."""
    assert Searcher.avg_field_length.__module__ == "whoosh.searching"
    one = scores([30])
    assert scores([10, 10, 10]) == one
    assert scores([1, 4, 25]) == one


# --- the order of a commit --------------------------------------------------------------------


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[str, str, str]]:
    """(what, folder, name) of every fsync, rename and removal, in order."""
    events: list[tuple[str, str, str]] = []

    def where(path) -> tuple[str, str]:
        path = os.path.realpath(path)
        return os.path.dirname(path), os.path.basename(path)

    real_fsync, real_remove, real_unlink, real_rename = os.fsync, os.remove, os.unlink, os.rename

    def fsync(fd):
        path = os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))
        kind = "fsync-folder" if os.path.isdir(path) else "fsync"
        events.append((kind, path, "") if kind == "fsync-folder" else (kind, *where(path)))
        return real_fsync(fd)

    def remover(real):
        def remove(path, *args, dir_fd=None, **kwargs):
            if dir_fd is None:  # with dir_fd: a temporary folder's contents
                events.append(("remove", *where(path)))
            return real(path, *args, dir_fd=dir_fd, **kwargs)

        return remove

    def rename(src, dst, *args, **kwargs):
        events.append(("rename", *where(dst)))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "remove", remover(real_remove))
    monkeypatch.setattr(os, "unlink", remover(real_unlink))
    monkeypatch.setattr(os, "rename", rename)
    return events


def commit_by(how: str, root: Path) -> None:
    article = Article(id="new-1", title="Daesh left Raqqa", body="SDF fighters entered Raqqa.")
    if how == "apply":
        apply([Change("new-1", to_document(tag(article)))], root)
    elif how == "write":
        write([article], root)
    else:
        maintenance.optimize(root)


@pytest.mark.parametrize("how", ["apply", "write", "optimize"])
def test_the_new_toc_is_on_the_disk_before_the_old_one_goes(index, recorded, how):
    folder = os.path.realpath(current_generation(index))
    before = whoosh_ext.latest_generation(folder)
    files_before = set(os.listdir(folder))
    commit_by(how, index)
    after = whoosh_ext.latest_generation(folder)
    assert after == before + 1
    old_toc, new_toc = whoosh_ext.toc_filename(before), whoosh_ext.toc_filename(after)
    new_segments = {n for n in set(os.listdir(folder)) - files_before if n.endswith(".seg")}
    assert new_segments

    here = [(i, kind, name) for i, (kind, f, name) in enumerate(recorded) if f == folder]
    toc_synced = min(i for i, kind, name in here if kind == "fsync" and name.startswith(new_toc))
    renamed = min(i for i, kind, name in here if kind == "rename" and name == new_toc)
    folder_synced = min(
        i
        for i, (kind, path, _) in enumerate(recorded)
        if kind == "fsync-folder" and path == folder and i > renamed
    )
    # what the commit removes of the index it began with (the parts of the new compound
    # segment file are removed as it is assembled, before any TOC names it)
    removed = {name: i for i, kind, name in here if kind == "remove" and name in files_before}
    assert old_toc in removed
    if how == "optimize":  # the merged segments are removed too
        assert {n for n in files_before if n.endswith(".seg")} <= set(removed)
    first_removal = min(removed.values())
    assert toc_synced < first_removal and folder_synced < first_removal, (
        f"{old_toc} or a merged segment is removed before {new_toc} and its folder are synced"
    )
    assert toc_synced < renamed, "the new TOC has a name before it has its bytes on the disk"
    assert renamed < folder_synced
    for segment in new_segments:
        synced = min(i for i, kind, name in here if kind == "fsync" and name == segment)
        assert synced < renamed, f"{segment} is named by a TOC before it is on the disk"


def test_a_commit_in_memory_needs_no_sync():
    ix = RamStorage().create_index(Schema(id=ID(stored=True), body=TEXT))
    writer = whoosh_ext.DurableWriter(ix)
    writer.add_document(id="a", body="one")
    writer.commit()
    writer = whoosh_ext.DurableWriter(ix)
    writer.add_document(id="b", body="two")
    writer.commit(optimize=True)
    assert whoosh_ext.segment_count(ix) == 1
    assert ix.doc_count() == 2


# --- helpers over private attributes ----------------------------------------------------------


def test_posting_arrays_are_whoosh_s_own_block_by_block():
    many = [(f"d{i}", "common " * (1 + i % 3) + (" rare" if i == 150 else "")) for i in range(400)]
    ix = ram_index([many[:50], many[50:]])
    with ix.searcher() as searcher:
        for text in ("common", "rare", "absent"):
            found = []
            for leaf, _ in searcher.reader().leaf_readers():
                ids, weights, _, _ = arrays.postings(leaf, "body", text.encode())
                matcher = leaf.postings("body", text) if ("body", text) in leaf else None
                expected = []
                while matcher is not None and matcher.is_active():
                    expected.append((matcher.id(), matcher.weight()))
                    matcher.next()
                assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == expected
                found += ids.tolist()
            assert len(found) == {"common": 400, "rare": 1, "absent": 0}[text]
        leaf, _ = searcher.reader().leaf_readers()[1]
        assert isinstance(leaf.postings("body", "common"), whoosh3.W3LeafMatcher)


@pytest.mark.parametrize("chars", [True, False])  # Characters (read in one pickle), Positions
def test_positions_are_whoosh_s_for_the_documents_asked(chars):
    # a document with the word 1,500 times: its pickle has several APPENDS batches and
    # memo numbers past 255; positions past 255; documents over several blocks
    many = [(f"d{i}", "other " * (i % 5) + "common " * (1 + i % 3)) for i in range(400)]
    many[53] = ("long", "common other " * 1500)  # asked: the 4th of its segment
    ix = ram_index([many[:50], many[50:]], Schema(id=ID(stored=True), body=TEXT(chars=chars)))
    with ix.searcher() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            found = arrays.postings(leaf, "body", b"common")
            assert len(found.block_starts)
            asked = found.docs[::3]
            flat, counts = arrays.positions(leaf, found, asked, leaf.schema["body"].format)
            expected = []
            matcher = leaf.postings("body", "common")
            for doc in asked.tolist():
                matcher.skip_to(doc)
                expected.append(matcher.value_as("positions"))
            assert counts.tolist() == [len(e) for e in expected]
            assert flat.tolist() == [p for e in expected for p in e]
            assert max(counts) == 1500 or leaf.doc_count_all() == 50


def test_field_docs_are_every_term_s_postings_in_lexicon_order():
    # blocks of many postings, a term of one posting ("rare"), gaps between ids. (A term's
    # postings inlined in its term info are not tried: whoosh-reloaded never writes them,
    # its inlining fails with an AttributeError.)
    many = [(f"d{i}", "common " * (1 + i % 3) + (" rare" if i == 150 else "")) for i in range(400)]
    many += [(f"e{i}", "sparse") for i in range(0, 900, 7)]
    ix = ram_index([many[:50], many[50:]])
    with ix.searcher() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            terms, docs, per_term = arrays.field_docs(leaf, "body")
            assert terms == list(leaf.lexicon("body"))
            assert per_term.sum() == len(docs)
            ends = per_term.cumsum()
            for term, end, count in zip(terms, ends, per_term, strict=True):
                expected = arrays.postings(leaf, "body", term).docs.tolist()
                assert docs[end - count : end].tolist() == expected
        assert b"rare" in terms  # the last leaf's


def test_numeric_columns_and_lengths_are_whoosh_s(index):
    with Service(index).view().searcher as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            count = leaf.doc_count_all()
            column = leaf.column_reader("date", translate=False)
            assert arrays.numeric_column(leaf, "date").tolist() == [column[d] for d in range(count)]
            lengths = arrays.field_lengths(leaf, "body").tolist()
            assert lengths == [leaf.doc_field_length(d, "body") or 1 for d in range(count)]


def test_toc_helpers(index):
    folder = current_generation(index)
    generation = whoosh_ext.latest_generation(folder)
    assert generation >= 1
    assert (folder / whoosh_ext.toc_filename(generation)).is_file()
    assert whoosh_ext.latest_generation(index) == -1  # no TOC in the root


def test_a_compound_segment_is_read_in_place(index):
    """Whoosh's BufferFile copies each file of a memory-mapped compound segment (BytesIO);
    the patch reads the map in place, and what is read is the same."""
    with Service(index).view().searcher as searcher:
        leaf, _ = searcher.reader().leaf_readers()[0]
        postings = leaf._terms._postfile
        assert isinstance(postings.file, buffers.MemoryFile)
        assert postings.file._buffer.obj is postings._buf.obj  # the map itself, not a copy
        text = next(iter(leaf.lexicon("body")))
        with reverted(buffers.open_file), Service(index).view().searcher as copied:
            theirs = copied.reader().leaf_readers()[0][0]
            assert not isinstance(theirs._terms._postfile.file, buffers.MemoryFile)
            expected = list(theirs.postings("body", text).items_as("characters"))
        assert list(leaf.postings("body", text).items_as("characters")) == expected


# ---------------------------------------------------------------- postings written faster


def written_segment(
    tmp_path, fakes_csv, how: str, compound: bool = False
) -> tuple[int, dict[str, bytes]]:
    """Index 200 FA-KES articles in one writer whose pool spills every megabyte, as Whoosh
    writes them or with postings.faster; the runs spilled and the bytes of each file of the
    segment (by default not compound, so that its files are compared one by one)."""
    from whoosh import index as whoosh_index
    from whoosh.writing import SegmentWriter

    from search import files
    from search.analysis import fresh_spelling
    from search.schema import ArticleSchema
    from search.whoosh_ext.postings import faster

    folder = tmp_path / how
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), ArticleSchema())
    writer = SegmentWriter(ix, limitmb=1, compound=compound)
    if how == "faster":
        faster(writer)
    fresh_spelling(writer.schema)
    articles = (item.article for item in files.read_paths([fakes_csv])[1] if item.article)
    for number, article in zip(range(200), articles, strict=False):
        writer.add_document(**{**to_document(tag(article)), "indexed_at": number})
    runs = len(writer.pool.runs)
    writer.commit(merge=False)
    # MAIN_<segment id>.pst, .trm, <field>.col: the segment id is random
    segment = {p.name.split(".", 1)[1]: p.read_bytes() for p in folder.glob("MAIN_*.*")}
    return runs, segment


def postings_of(reader) -> dict:
    """Every term's postings as Whoosh reads them: (document, weight, value)."""
    out = {}
    for field, text in reader.all_terms():
        matcher, found = reader.postings(field, text), []
        while matcher.is_active():
            found.append((matcher.id(), matcher.weight(), matcher.value()))
            matcher.next()
        out[field, text] = found
    return out


def arrays_of(reader) -> dict:
    """Every body term's postings and positions as whoosh_ext.arrays reads them."""
    out = {}
    body = reader.schema["body"].format
    for text in reader.lexicon("body"):
        found = arrays.postings(reader, "body", text)
        flat, counts = arrays.positions(reader, found, found.docs, body)
        out[text] = (found.docs.tolist(), found.weights.tolist(), flat.tolist(), counts.tolist())
    return out


def test_postings_written_faster_are_the_bytes_whoosh_writes(tmp_path, fakes_csv, monkeypatch):
    """With every block compressed (SMALL_BLOCK 0), the segment is Whoosh's, byte for byte."""
    from search.whoosh_ext import postings

    monkeypatch.setattr(postings, "RUN_CHUNK", 1000)  # several chunks a run
    monkeypatch.setattr(postings, "SMALL_BLOCK", 0)
    runs, ours = written_segment(tmp_path, fakes_csv, "faster")
    whooshs_runs, whooshs = written_segment(tmp_path, fakes_csv, "whoosh")
    assert runs == whooshs_runs > 3
    assert {"pst", "trm", "_stored.col"} <= set(ours)
    assert len(ours["pst"]) > 500_000
    assert ours == whooshs


def test_small_blocks_are_left_uncompressed_and_read_the_same(tmp_path, fakes_csv):
    """Small blocks uncompressed: every posting reads back the same through Whoosh and
    through whoosh_ext.arrays, in fewer bytes."""
    from whoosh import index as whoosh_index

    # compound, as the service writes segments: arrays locates blocks in its buffer
    _, ours = written_segment(tmp_path, fakes_csv, "faster", compound=True)
    _, whooshs = written_segment(tmp_path, fakes_csv, "whoosh", compound=True)
    assert len(ours["seg"]) < len(whooshs["seg"])
    read = {}
    for how in ("faster", "whoosh"):
        with whoosh_index.open_dir(str(tmp_path / how)).reader() as reader:
            read[how] = postings_of(reader), arrays_of(reader)
    assert len(read["faster"][1]) > 4_000
    assert read["faster"] == read["whoosh"]
