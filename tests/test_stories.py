"""Stories: copies of one report grouped at index time (search.shingles, search.stories,
search.story_store), read as one hit per story and counted as stories (search.story_view,
the API). Indexes are built by the real CLI; the API is asked as a client would."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
from collections import defaultdict
from pathlib import Path

import pytest

from search import generations, story_store
from search.shingles import overlap, shingles
from search.stories import Signer, StoryState, Thresholds, update
from tests.live import InProcess, Server, run

KEY = "test-key-stories"
BODY = " ".join(f"word{n}" for n in range(300))


def _state(root: Path) -> StoryState:
    folder = generations.built_generation(root)
    state = story_store.load(folder, 10**9)
    assert state is not None, f"no story file in {folder}"
    return state


def _story_of(state: StoryState) -> dict[str, str]:
    return dict(
        zip(
            [i.decode() for i in state.ids],
            [state.names[s].decode() for s in state.story],
            strict=True,
        )
    )


# --- the grouping itself -----------------------------------------------------------------------


def test_overlap_of_a_copy_with_a_paragraph_more():
    short = shingles(BODY)
    longer = shingles(BODY + " " + " ".join(f"extra{n}" for n in range(100)))
    found = overlap(short, longer)
    assert found.shorter == 1.0 and 0.7 < found.longer < 0.8
    assert Thresholds(0.8, 0.8, 0.5, 25).same(found)
    assert not Thresholds(0.8, 0.8, 0.5, 25).same(overlap(short, shingles("a b c d e f g")))


def _signed(bodies: dict[str, str]):
    signer = Signer(min_words=25)
    for doc_id, body in bodies.items():
        signer.add(doc_id, body, None)
    return signer.signed()


def test_copies_join_leave_and_bridge_with_stable_ids():
    thresholds = Thresholds(0.8, 0.8, 0.5, 25)
    other = " ".join(f"other{n}" for n in range(300))
    bodies = {"a": BODY, "b": BODY + " one more line here", "c": other}
    state = update(StoryState.empty(), _signed(bodies), (), bodies.__getitem__, thresholds)
    story = _story_of(state)
    assert story["a"] == story["b"] != story["c"]
    first_id = story["a"]

    # a later copy joins without touching the others' ids; deleting the founder keeps the id
    bodies["d"] = BODY + " and a last word"
    state = update(state, _signed({"d": bodies["d"]}), ["a"], bodies.__getitem__, thresholds)
    story = _story_of(state)
    assert "a" not in story and story["b"] == story["d"] == first_id
    assert int(state.size[list(state.names).index(first_id.encode())]) == 2

    # an article bridging two stories merges them: the earlier story's id stays, the other's
    # is an alias of it
    half = " ".join(BODY.split()[150:] + other.split()[:150])
    bodies["e"] = half  # shares half of each: joins neither by the default thresholds
    state = update(state, _signed({"e": half}), (), bodies.__getitem__, thresholds)
    assert len(set(_story_of(state).values())) == 3


def test_an_article_bridging_two_stories_merges_them_under_the_earlier_id():
    from datetime import date

    def words(name: str, count: int) -> str:
        return " ".join(f"{name}{n}" for n in range(count))

    # x and y share a core but not enough to be one report; z holds all of both
    core, head, tail = words("core", 200), words("head", 100), words("tail", 100)
    x, y = f"{head} {core}", f"{core} {tail}"
    bodies = {"x1": x, "x2": x + " again", "y1": y, "y2": y + " again"}
    signer = Signer(min_words=25)
    for doc_id, body in bodies.items():
        signer.add(doc_id, body, date(2017, 1, 1) if doc_id.startswith("x") else date(2018, 1, 1))
    thresholds = Thresholds(0.8, 0.8, 0.5, 25)
    state = update(StoryState.empty(), signer.signed(), (), bodies.__getitem__, thresholds)
    story = _story_of(state)
    assert story["x1"] == story["x2"] != story["y1"] == story["y2"]
    bodies["z"] = f"{head} {core} {tail}"
    state = update(state, _signed({"z": bodies["z"]}), (), bodies.__getitem__, thresholds)
    merged = _story_of(state)
    assert set(merged.values()) == {story["x1"]}  # the story whose first member is earlier
    assert state.resolve(story["y1"]) == state.resolve(story["x1"])  # the old id still answers
    assert int(state.size[state.resolve(story["x1"])]) == 5


def test_short_bodies_are_stories_of_their_own():
    bodies = {"a": "Video: strikes on Idlib", "b": "Video: strikes on Idlib"}
    state = update(
        StoryState.empty(), _signed(bodies), (), bodies.__getitem__, Thresholds.current()
    )
    assert len(set(_story_of(state).values())) == 2


# --- FA-KES ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fakes_index(fakes_csv, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fakes") / "ix"
    result = run("index", fakes_csv, "--index", root, "-q")
    assert result.returncode in (0, 1), result.stderr
    return root


def _word_shingles(text: str) -> set[tuple[str, ...]]:
    """The test's own shingles: 5-word tuples, no hashing."""
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def test_fakes_near_copies_share_a_story_and_no_member_is_a_stranger(fakes_index):
    from search.generations import documents

    own = {d["id"]: _word_shingles(d.get("body") or "") for d in documents(fakes_index)}
    story = _story_of(_state(fakes_index))
    assert set(story) == set(own)
    close = 0
    for a, b in itertools.combinations(sorted(own), 2):
        first, second = own[a], own[b]
        if (
            not first
            or not second
            or min(len(first), len(second)) < 0.8 * max(len(first), len(second))
        ):
            continue  # Jaccard >= 0.8 needs sizes within 0.8 of each other
        if len(first & second) >= 0.8 * len(first | second):
            close += 1
            assert story[a] == story[b], (a, b)
    assert close >= 10  # FA-KES holds copies: the check above checked something
    members = defaultdict(list)
    for doc_id, name in story.items():
        members[name].append(doc_id)
    grouped = [m for m in members.values() if len(m) > 1]
    assert len(grouped) >= 10
    for group in grouped:
        for a in group:
            assert any(len(own[a] & own[b]) >= 0.5 * len(own[a]) for b in group if b != a), a


def test_a_serial_build_groups_as_the_parallel_one(fakes_csv, fakes_index, tmp_path):
    root = tmp_path / "serial"
    result = run("index", fakes_csv, "--index", root, "-q", env={"SEARCH_INDEX_JOBS": "1"})
    assert result.returncode in (0, 1), result.stderr
    assert _story_of(_state(root)) == _story_of(_state(fakes_index))


@pytest.fixture(scope="module")
def fakes_app(fakes_index, tmp_path_factory):
    copy = tmp_path_factory.mktemp("fakes-app") / "ix"
    shutil.copytree(fakes_index, copy)
    with InProcess(copy) as served:
        yield served


def test_collapse_pages_through_every_story_once(fakes_app):
    client = fakes_app.client
    first = client.get("/search", params={"collapse": "story", "per_page": 100}).json()
    plain = client.get("/search", params={"per_page": 0}).json()
    assert first["total"] == first["stories"] == plain["stories"] < plain["total"]
    seen, documents = [], 0
    for page in range(1, first["pages"] + 1):
        params = {"collapse": "story", "per_page": 100, "page": page, "facets": "none"}
        answer = client.get("/search", params=params).json()
        seen += [hit["story"]["id"] for hit in answer["hits"]]
        for hit in answer["hits"]:
            documents += 1 + len(hit["story"]["others"])
            assert len(hit["story"]["others"]) == min(hit["story"]["size"] - 1, 5)
    assert len(seen) == len(set(seen)) == first["total"]
    assert documents == plain["total"]  # every article is a hit or listed under one


def test_collapse_keeps_the_best_ranked_member(fakes_app):
    client = fakes_app.client
    params = {"q": "chemical attack", "per_page": 100, "facets": "none", "highlight": "false"}
    ranked = client.get("/search", params=params).json()["hits"]
    collapsed = client.get("/search", params={**params, "collapse": "story"}).json()["hits"]
    best: dict[str, str] = {}
    for hit in ranked:
        best.setdefault(hit["story"]["id"], hit["id"])
    assert [hit["id"] for hit in collapsed] == list(best.values())[: len(collapsed)]


def test_counting_stories_never_counts_more_and_counts_fewer_with_copies(fakes_app):
    client = fakes_app.client
    articles = client.get("/search", params={"per_page": 0, "facet_size": 1000}).json()
    stories = client.get(
        "/search", params={"per_page": 0, "facet_size": 1000, "count": "stories"}
    ).json()
    fewer = 0
    for name, facet in articles["facets"].items():
        counts = {v["value"]: v["count"] for v in stories["facets"][name]["values"]}
        for value in facet["values"]:
            assert counts[value["value"]] <= value["count"]
            fewer += counts[value["value"]] < value["count"]
    assert fewer > 0
    for interval in ("year", "month"):
        counts = {v["value"]: v["count"] for v in stories["histogram"][interval]}
        for value in articles["histogram"][interval]:
            assert counts[value["value"]] <= value["count"]
    source = client.get("/facets/source", params={"count": "stories", "size": 1000}).json()
    plain = client.get("/facets/source", params={"size": 1000}).json()
    assert sum(v["count"] for v in source["values"]) < sum(v["count"] for v in plain["values"])
    trends = client.get("/trends", params={"count": "stories", "interval": "year"}).json()
    plain_trends = client.get("/trends", params={"interval": "year"}).json()
    assert trends["total"] == articles["stories"] < plain_trends["total"]
    assert sum(p["total"] for p in trends["periods"]) < sum(
        p["total"] for p in plain_trends["periods"]
    )


def test_a_story_lists_its_members_in_date_order(fakes_app):
    client = fakes_app.client
    hits = client.get("/search", params={"collapse": "story", "per_page": 100}).json()["hits"]
    grouped = next(hit for hit in hits if hit["story"]["size"] > 1)
    story = client.get(f"/stories/{grouped['story']['id']}").json()
    assert story["size"] == len(story["members"]) == grouped["story"]["size"]
    dates = [m["date"] or "9999" for m in story["members"]]
    assert dates == sorted(dates)
    assert story["members"][0]["first"] and story["members"][0]["id"] == story["first"]["id"]
    assert story["members"][0]["jaccard"] == 1.0
    assert all(m["in_first"] >= 0.5 or m["first_in_it"] >= 0.5 for m in story["members"])
    document = client.get(f"/documents/{story['members'][-1]['id']}").json()
    assert document["story"]["id"] == story["id"]
    missing = client.get("/stories/no-such-story")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "id"
    assert client.get("/search", params={"collapse": "stories"}).json()["error"]["param"] == (
        "collapse"
    )
    assert client.get("/trends", params={"count": "story"}).status_code == 400


# --- the seeds: Global Research reposts of South Front -----------------------------------------


def _original(seed: Path) -> dict:
    """The South Front original of a Global Research repost: the seed without Global
    Research's header (By, dates, Region, Theme, In-depth Report) and footer."""
    lines = seed.read_text(encoding="utf-8").splitlines()
    title = next(line for line in lines if line.strip())
    header = re.compile(
        r"^(By \[|Global Research, |\[South Front\]|Region:|Theme:|In-depth Report:)"
    )
    body = []
    for line in lines[lines.index(title) + 1 :]:
        if line.startswith("The original source of this article"):
            break
        if not header.match(line):
            body.append(line)
    return {
        "id": f"sf-{seed.stem}",
        "title": title,
        "body": "\n".join(body).strip(),
        "source": "South Front",
        "date": "2017-07-10",
    }


def test_reposts_group_with_their_south_front_original(seed_paths, tmp_path):
    originals = tmp_path / "originals.jsonl"
    south_front = [p for p in seed_paths if "South Front" in p.read_text(encoding="utf-8")]
    assert south_front
    originals.write_text("\n".join(json.dumps(_original(p)) for p in south_front) + "\n")
    root = tmp_path / "ix"
    result = run("index", *seed_paths, originals, "--index", root, "-q")
    assert result.returncode == 0, result.stderr
    story = _story_of(_state(root))
    for seed in south_front:
        assert story[seed.stem] == story[f"sf-{seed.stem}"], seed.name
    assert len(set(story.values())) == len(story) - len(south_front)
    with InProcess(root) as served:
        seed = south_front[0].stem
        answer = served.client.get(f"/documents/{seed}").json()["story"]
        assert answer["size"] == 2 and answer["first"]["id"] == f"sf-{seed}"
        assert answer["first"]["source"] == "South Front"


# --- live writes, deletes, and the commands that copy or merge an index ------------------------


def test_a_posted_copy_joins_its_story_and_leaves_it_when_deleted(index, seed_paths):
    seed = seed_paths[0].stem
    server = Server(index, env={"SEARCH_API_KEY": KEY})
    try:
        client = server.client
        before = client.get(f"/documents/{seed}").json()
        copy = {
            "id": "copy-1",
            "title": before["title"],
            "body": before["body"] + "\n\nRepublished with permission.",
            "source": "Another Outlet",
            "date": "2017-07-12",
        }
        headers = {"Authorization": f"Bearer {KEY}"}
        put = client.put("/documents/copy-1", json=copy, headers=headers)
        assert put.status_code == 201
        deadline = time.monotonic() + 1  # every worker sees a commit within a second
        while True:
            joined = client.get("/documents/copy-1")
            if joined.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        story = joined.json()["story"]
        assert story["id"] == before["story"]["id"] and story["size"] == 2
        assert story["first"]["id"] == seed
        listed = client.get(f"/stories/{story['id']}").json()
        assert [m["id"] for m in listed["members"]] == [seed, "copy-1"]
        assert 0.8 < listed["members"][1]["jaccard"] < 1

        assert client.delete("/documents/copy-1", headers=headers).status_code == 200
        after = client.get(f"/documents/{seed}").json()["story"]
        assert after == before["story"]  # size 1 again, the same id
    finally:
        server.stop()


def test_a_deleted_first_member_leaves_a_valid_story_id(index, seed_paths):
    seed = seed_paths[0].stem
    with InProcess(index) as served:
        client = served.client
        served.app.state.api_key = KEY
        headers = {"Authorization": f"Bearer {KEY}"}
        original = client.get(f"/documents/{seed}").json()
        copy = {"id": "copy-2", "title": "A copy", "body": original["body"], "source": "X"}
        assert client.put("/documents/copy-2", json=copy, headers=headers).status_code == 201
        name = _wait_for(client, "copy-2")["story"]["id"]
        assert name == original["story"]["id"]
        assert client.delete(f"/documents/{seed}", headers=headers).status_code == 200
        deadline = time.monotonic() + 5
        while client.get(f"/documents/{seed}").status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        story = client.get(f"/stories/{name}").json()
        assert story["size"] == 1 and [m["id"] for m in story["members"]] == ["copy-2"]
        assert client.get("/documents/copy-2").json()["story"]["id"] == name


def _wait_for(client, doc_id: str) -> dict:
    deadline = time.monotonic() + 5
    while True:
        answer = client.get(f"/documents/{doc_id}")
        if answer.status_code == 200:
            return answer.json()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_stories_survive_an_update_optimize_snapshot_and_export(index, seed_paths, tmp_path):
    seed = seed_paths[1]
    copy = _original(seed)
    extra = tmp_path / "copy.json"
    extra.write_text(json.dumps(copy))
    assert run("index", extra, "--index", index, "-q").returncode == 0  # an incremental update
    story = _story_of(_state(index))
    assert story[seed.stem] == story[copy["id"]]
    assert run("optimize", "--index", index).returncode == 0
    assert _story_of(_state(index)) == story
    snapshot = tmp_path / "snap"
    assert run("snapshot", snapshot, "--index", index).returncode == 0
    assert _story_of(_state(snapshot)) == story
    assert run("check", "--index", snapshot).returncode == 0
    exported = tmp_path / "all.jsonl"
    result = run("export", "--index", index)
    assert result.returncode == 0, result.stderr
    exported.write_text(result.stdout)
    restored = tmp_path / "restored"
    assert run("index", exported, "--index", restored, "-q").returncode == 0
    # a restore groups the articles afresh: the same stories, named by their earliest member
    assert _partition(_story_of(_state(restored))) == _partition(story)


def _partition(story: dict[str, str]) -> set[frozenset[str]]:
    members = defaultdict(set)
    for doc_id, name in story.items():
        members[name].add(doc_id)
    return {frozenset(m) for m in members.values()}


def test_an_index_built_before_stories_gets_them_at_its_next_commit(index, seed_paths, tmp_path):
    folder = generations.built_generation(index)
    for path in folder.glob("stories-*.npz"):
        path.unlink()  # as an index built by an earlier version
    with InProcess(index) as served:  # every document is a story of its own meanwhile
        seed = seed_paths[2].stem
        alone = served.client.get(f"/documents/{seed}").json()["story"]
        assert alone["size"] == 1 and alone["first"]["id"] == seed
        assert served.client.get(f"/stories/{alone['id']}").json()["size"] == 1
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(_original(seed_paths[2])))
    assert run("index", copy, "--index", index, "-q").returncode == 0
    story = _story_of(_state(index))
    assert len(story) == 6 and story[seed] == story[f"sf-{seed}"]
