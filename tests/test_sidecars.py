"""Each segment's arrays kept beside it (search.sidecars): written by the build, mapped at
start, equal to what the segment itself gives, and never trusted when they are not its own."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from whoosh import index as whoosh_index

from search import segment_arrays, sidecars
from search.generations import live_generation
from search.maintenance import optimize, snapshot
from search.query import search
from search.request import parse_request
from search.service import Service
from search.verify import check

QUERIES = ["Daesh", "chemical attack", "Raqqa OR Aleppo", "army -rebels", "*"]


@pytest.fixture
def root(fakes_index, tmp_path):
    copy = tmp_path / "ix"
    shutil.copytree(fakes_index, copy)
    return copy


def sidecar_files(root):
    return sorted(live_generation(root).glob("*" + sidecars.EXT))


def leaves(root):
    reader = whoosh_index.open_dir(str(live_generation(root))).reader()
    return reader, [leaf for leaf, _ in reader.leaf_readers()]


def answers(root):
    view = Service(root).view()
    view.warm()
    out = []
    for q in QUERIES:
        request = parse_request({"q": [q], "per_page": ["50"], "sort": ["date"]})
        found = search(view, request)
        out.append({k: found[k] for k in ("total", "hits", "facets", "histogram")})
    return out


def test_a_build_leaves_beside_each_segment_a_sidecar_equal_to_the_segment(root):
    reader, found = leaves(root)
    assert [p.stem for p in sidecar_files(root)] == sorted(
        leaf.segment().segment_id() for leaf in found
    )
    for leaf in found:
        assert segment_arrays.check_sidecar(leaf) == []
        stored = segment_arrays.SegmentArrays("read", segment_arrays._load(leaf))
        assert stored.from_sidecar
        assert stored.values(leaf, "faction").names  # read from the file, not the segment
    reader.close()


def test_without_sidecars_the_answers_are_the_same_and_the_first_start_writes_them(root, tmp_path):
    before = {p.name: p.read_bytes() for p in sidecar_files(root)}
    bare = tmp_path / "bare"
    shutil.copytree(root, bare)
    for path in sidecar_files(bare):
        path.unlink()
    assert answers(bare) == answers(root)
    # warm() wrote what it read: the same bytes the build wrote
    assert {p.name: p.read_bytes() for p in sidecar_files(bare)} == before


def test_a_changed_sidecar_is_not_used_is_reported_and_is_written_again(root, caplog):
    path = sidecar_files(root)[0]
    data = bytearray(path.read_bytes())
    length = int.from_bytes(data[8:16], "little")
    header = json.loads(data[16 : 16 + length])
    start = -(-(16 + length) // sidecars.ALIGN) * sidecars.ALIGN
    data[start + header["arrays"]["values/faction/codes"][2]] ^= 0xFF  # a faction's code
    path.write_bytes(bytes(data))
    [problem] = check(root)
    assert path.name in problem and "changed since written" in problem
    reader, found = leaves(root)
    with caplog.at_level(logging.WARNING):
        assert [segment_arrays._load(leaf) is None for leaf in found].count(True) == 1
    assert "changed since written" in caplog.text
    reader.close()
    answers(root)  # a start: the damaged one is read from the segment and written again
    assert check(root) == []


def test_a_sidecar_cut_short_or_of_another_segment_is_not_used(root):
    first, second = sidecar_files(root)
    shutil.copyfile(first, second)  # first's arrays under second's name
    first.write_bytes(first.read_bytes()[:-64])
    reader, found = leaves(root)
    assert [segment_arrays._load(leaf) for leaf in found] == [None, None]
    with pytest.raises(sidecars.SidecarError, match="cut short"):
        sidecars.read(first)
    owner = next(leaf for leaf in found if leaf.segment().segment_id() == second.stem)
    with pytest.raises(sidecars.SidecarError, match="segment is"):
        sidecars.read(second, sidecars.identity(owner))
    reader.close()
    assert len(check(root)) == 2


def test_a_merge_gives_the_merged_segment_a_sidecar_and_whoosh_drops_the_old_ones(root):
    old = sidecar_files(root)
    assert len(old) == 2
    assert optimize(root) == (2, 1)
    [merged] = sidecar_files(root)
    assert merged not in old
    assert check(root) == []


def test_a_snapshot_carries_the_sidecars(root, tmp_path):
    snapshot(root, tmp_path / "copy")
    names = [p.name for p in sidecar_files(root)]
    assert [p.name for p in sidecar_files(tmp_path / "copy")] == names
    assert check(tmp_path / "copy") == []


def test_a_folder_that_cannot_be_written_keeps_no_sidecar_and_still_answers(root, monkeypatch):
    for path in sidecar_files(root):
        path.unlink()

    def refuse(*args, **kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(sidecars.os, "replace", refuse)
    assert answers(root)[0]["total"] > 0
    assert sidecar_files(root) == []
    assert not list(live_generation(root).glob(".*.tmp"))


def test_readers_of_one_compound_segment_share_its_arrays(root):
    (one, first), (two, second) = leaves(root), leaves(root)
    assert all(leaf.segment().is_compound() for leaf in first)
    for a, b in zip(first, second, strict=True):
        assert segment_arrays.of(a) is segment_arrays.of(b)
    one.close()
    two.close()
