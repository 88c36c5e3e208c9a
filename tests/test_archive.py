"""Whole-index operations: export and its round trip through `search index`, optimize, check
on healthy and damaged indexes, snapshots under writes, and the OpenSearch export."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from search import maintenance, opensearch, verify, whoosh_ext
from search.articles import Article
from search.cli import main
from search.export import EXPORT_KEYS, export_jsonl, export_records
from search.files import read_paths
from search.generations import POINTER, IndexNotFoundError, documents, open_index, open_live
from search.index import apply, write
from search.locking import IndexBusy, WriteLock
from search.schema import FACETS, Change, to_document
from search.tagging import tag

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "search" / "data"

# Records with what the seeds lack: a date the parser cannot read (short and long), an
# original date, a credit, a url, an author with a comma, declared region and theme, no title.
EDGE_RECORDS = [
    {
        "id": "edge-1",
        "title": "SDF fighters take Tabqa Dam",
        "body": "The SDF took the Tabqa Dam from Daesh.\n\nFighting went on near Raqqa.",
        "date": "spring 2017",
        "source": "ahram",
        "author": ["Doe, Jane", "Richard Roe"],
        "url": "https://example.org/tabqa",
        "original_source": "South Front",
        "original_date": "July 10, 2017",
        "region": "Middle East & North Africa",
        "theme": ["Terrorism", "Oil and Energy"],
        "report": "SYRIA",
        "credit": "With reporting by AP",
    },
    {"id": "edge-2", "body": "No title line here: ISIS fighters left Mosul.\n\nA second one."},
    {
        "id": "edge-3",
        "title": "Undated and oddly dated",
        "body": "Iraqi forces entered Tal Afar.",
        "date": "on a day some time in the long hot summer of the year 2017, probably",
    },
    {"id": "edge-4", "title": "Dated", "body": "Nothing else.", "date": "4/5/17"},
]


def build(root: Path, paths: list) -> None:
    _, items = read_paths(paths)
    summary = write((item.problem or item.article for item in items), root)
    assert summary.indexed > 0


def stored(root: Path) -> dict[str, dict]:
    return {doc["id"]: doc for doc in documents(root)}


def put(article_id: str, title: str = "Title", body: str = "Daesh left Raqqa.") -> Change:
    article = Article(id=article_id, title=title, body=body)
    return Change(article_id, to_document(tag(article)))


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory, seed_paths) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    edge = root.parent / "edge.jsonl"
    edge.write_text("".join(json.dumps(r) + "\n" for r in EDGE_RECORDS), encoding="utf-8")
    build(root / "index", [*seed_paths, edge])
    return root / "index"


@pytest.fixture
def seed_copy(seed_root, tmp_path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(seed_root, copy)
    return copy


# --- export ----------------------------------------------------------------------------------


def export(root: Path) -> str:
    out = io.StringIO()
    export_jsonl(root, out)
    return out.getvalue()


def round_trip(source: Path, tmp_path: Path) -> tuple[dict, dict, Path]:
    """Export `source`, restore the dump into a new index, export that: the same bytes."""
    dump = tmp_path / "dump.jsonl"
    with open(dump, "w", encoding="utf-8") as out:
        count = export_jsonl(source, out)
    _, items = read_paths([dump])
    summary = write((item.problem or item.article for item in items), tmp_path / "again")
    # every record is taken; a date the parser could not read is exported as it was
    # written, and warned about again, at the dump's line
    assert summary.skipped == []
    assert all("unrecognised date" in p.message for p in summary.warnings)
    assert all(p.origin.startswith(f"{dump}:") for p in summary.warnings)
    assert summary.indexed == count
    assert export(tmp_path / "again") == dump.read_text(encoding="utf-8")
    return stored(source), stored(tmp_path / "again"), dump


def assert_same_documents(before: dict, after: dict) -> None:
    """Field for field, the tags included: where each article was first read (origin) is
    what the dump says, not the dump's line."""
    assert sorted(before) == sorted(after)
    for doc_id in before:
        assert before[doc_id] == after[doc_id], doc_id


def test_export_round_trips_the_seeds_and_odd_records(seed_root, tmp_path):
    before, after, _ = round_trip(seed_root, tmp_path)
    assert len(before) == 5 + len(EDGE_RECORDS)
    assert_same_documents(before, after)
    seed = "000_26f141be685b02d9"
    assert after[seed]["tags"]["origin"].endswith(f"seeds/{seed}.txt")
    assert after["edge-1"]["tags"]["origin"].endswith("edge.jsonl:1")
    edge = after["edge-1"]
    assert edge["tags"]["original_date"] == "2017-07-10"
    assert edge["tags"]["warnings"] == ["unrecognised date 'spring 2017' left empty"]
    assert edge["author"] == "Doe Jane,Richard Roe"
    assert edge["tags"]["authors"] == ["Doe, Jane", "Richard Roe"]
    assert after["edge-4"]["date"] == datetime(2017, 4, 5)


def test_export_round_trips_fakes(fakes_csv, seed_paths, tmp_path):
    build(tmp_path / "index", [*seed_paths, fakes_csv])
    before, after, _ = round_trip(tmp_path / "index", tmp_path)
    assert len(before) > 700
    assert_same_documents(before, after)


def test_a_restore_by_the_cli_keeps_every_byte(seed_root, tmp_path, capsys):
    """`search export`, `search index dump.jsonl`, `search export`: the same output."""
    assert main(["export", "--index", str(seed_root)]) == 0
    first = capsys.readouterr().out
    dump = tmp_path / "dump.jsonl"
    dump.write_text(first, encoding="utf-8")
    assert main(["index", str(dump), "--index", str(tmp_path / "again"), "-q"]) == 0
    capsys.readouterr()
    assert main(["export", "--index", str(tmp_path / "again")]) == 0
    assert capsys.readouterr().out == first
    # a second restore of the restored index changes nothing either
    dump.write_text(export(tmp_path / "again"), encoding="utf-8")
    assert main(["index", str(dump), "--index", str(tmp_path / "third"), "-q"]) == 0
    assert export(tmp_path / "third") == first


def test_a_restored_article_is_read_at_the_dump_line_and_stored_as_first_read(tmp_path):
    record = {"id": "r", "title": "T", "body": "B", "tags": {"origin": "old/a.txt"}}
    plain = {"id": "p", "title": "T", "body": "B", "tags": "not an export's"}
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps(record) + "\n" + json.dumps(plain) + "\n", encoding="utf-8")
    _, items = read_paths([dump])
    restored, other = [item.article for item in items if item.article]
    assert (restored.origin, restored.recorded_origin) == (f"{dump}:1", "old/a.txt")
    assert (other.origin, other.recorded_origin) == (f"{dump}:2", None)
    assert to_document(tag(restored))["tags"]["origin"] == "old/a.txt"
    assert to_document(tag(other))["tags"]["origin"] == f"{dump}:2"


def test_export_records_in_id_order_with_every_key(seed_root):
    records = list(export_records(seed_root))
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    for record in records:
        assert list(record) == [*EXPORT_KEYS, "indexed_at", "tags"]
        assert "origin" in record["tags"] and "id" not in record["tags"]
        json.dumps(record)
    first = next(r for r in records if r["id"] == "000_26f141be685b02d9")
    assert first["date"] == "2017-07-11"
    assert (first["source"], first["original_source"]) == ("Global Research", "South Front")
    assert first["original_date"] == "2017-07-10"
    assert first["theme"] == ["Terrorism", "US NATO War Agenda"]  # declared only
    assert first["tags"]["themes"]["inferred"]  # the inferred ones are in the tags


def test_export_leaves_out_deleted_and_replaced_versions(seed_copy):
    apply([put("edge-2", title="Replaced"), Change("edge-3", None)], seed_copy)
    records = {r["id"]: r for r in export_records(seed_copy)}
    assert "edge-3" not in records and records["edge-2"]["title"] == "Replaced"
    out = io.StringIO()
    assert export_jsonl(seed_copy, out) == len(records)
    assert out.getvalue().count("\n") == len(records)


def test_export_without_an_index(tmp_path):
    with pytest.raises(IndexNotFoundError):
        export_jsonl(tmp_path, io.StringIO())


# --- optimize --------------------------------------------------------------------------------


def segments(root: Path) -> int:
    return whoosh_ext.segment_count(open_index(root))


def test_optimize_merges_segments_and_keeps_documents(seed_copy):
    for number in range(3):
        apply([put(f"w-{number}")], seed_copy)
    apply([Change("w-0", None)], seed_copy)
    assert segments(seed_copy) > 1
    before = stored(seed_copy)
    count = segments(seed_copy)
    assert maintenance.optimize(seed_copy) == (count, 1)
    assert segments(seed_copy) == 1
    assert stored(seed_copy) == before
    with open_index(seed_copy).searcher() as searcher:
        assert searcher.doc_count_all() == searcher.doc_count()  # deletions purged
    assert verify.check(seed_copy) == []
    assert maintenance.optimize(seed_copy) == (1, 1)


def test_optimize_waits_for_the_write_lock(seed_copy, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.2")
    lock = WriteLock(seed_copy)
    lock.acquire(0)
    try:
        with pytest.raises(IndexBusy):
            maintenance.optimize(seed_copy)
    finally:
        lock.release()


def test_optimize_without_an_index(tmp_path):
    with pytest.raises(IndexNotFoundError):
        maintenance.optimize(tmp_path)


# --- check -----------------------------------------------------------------------------------


def test_check_finds_a_healthy_index_healthy(seed_root):
    assert verify.check(seed_root) == []
    assert verify.check(seed_root, samples=100) == []


def _segment_file(root: Path) -> Path:
    _, folder = open_live(root)
    return max(folder.glob("*.seg"), key=lambda p: p.stat().st_size)


def _toc(root: Path) -> Path:
    _, folder = open_live(root)
    return next(folder.glob("_MAIN_*.toc"))


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _scribble(path: Path, start: float, end: float) -> None:
    data = bytearray(path.read_bytes())
    first, last = int(len(data) * start), int(len(data) * end)
    data[first:last] = random.Random(7).randbytes(last - first)
    path.write_bytes(bytes(data))


DAMAGE = {
    "no CURRENT": lambda root: (root / POINTER).unlink(),
    "dangling CURRENT": lambda root: (root / POINTER).write_text("gen-000099\n"),
    "CURRENT not a generation": lambda root: (root / POINTER).write_text("../../etc\n"),
    "CURRENT not text": lambda root: (root / POINTER).write_bytes(b"\xff\xfe\x00\x01"),
    "generation removed": lambda root: shutil.rmtree(open_live(root)[1]),
    "TOC removed": lambda root: _toc(root).unlink(),
    "TOC garbage": lambda root: _toc(root).write_bytes(random.Random(1).randbytes(4000)),
    "TOC cut short": lambda root: _truncate(_toc(root), 0.5),
    "segment removed": lambda root: _segment_file(root).unlink(),
    "segment emptied": lambda root: _segment_file(root).write_bytes(b""),
    "segment cut to 90%": lambda root: _truncate(_segment_file(root), 0.9),
    "segment cut by one byte": lambda root: _truncate(_segment_file(root), 0.99999),
    "segment scribbled over": lambda root: _scribble(_segment_file(root), 0.2, 0.8),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_check_reports_damage_and_never_raises(seed_copy, damage):
    DAMAGE[damage](seed_copy)
    problems = verify.check(seed_copy)
    assert problems and all(isinstance(p, str) and p for p in problems)


def test_check_of_nothing(tmp_path):
    assert verify.check(tmp_path / "missing") == [f"{tmp_path / 'missing'} is not a folder"]
    assert "no CURRENT" in verify.check(tmp_path)[0]


def _add_raw(root: Path, *docs: dict) -> None:
    """Write documents bypassing the service's writer, as damage or a foreign tool might."""
    ix = whoosh_index.open_dir(str(open_live(root)[1]))
    writer = ix.writer()
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()


def test_check_reports_repeated_ids_and_missing_titles(seed_copy):
    document = to_document(tag(Article(id="twice", title="Twice", body="Mosul.")))
    _add_raw(seed_copy, document, document, {"id": "untitled", "body": "No title."})
    problems = verify.check(seed_copy)
    assert any("'twice' is stored twice" in p for p in problems)
    assert any("'untitled' has no title" in p for p in problems)


def test_check_reports_a_document_its_search_does_not_find(seed_copy):
    # stored under a title that was never indexed: a search for its words cannot find it
    document = to_document(tag(Article(id="ghost", title="Mosul", body="Mosul.")))
    document["_stored_title"] = "Phantasmagorical headline"
    _add_raw(seed_copy, document)
    problems = verify.check(seed_copy, samples=100)
    assert problems == [
        "the search for 'phantasmagorical' does not find document 'ghost', whose title has it"
    ]


def test_check_searches_skip_names_and_pick_long_words():
    aliases = verify._single_word_aliases()
    assert verify._sample_word("Free Syrian Army enters al-Bab", aliases) == "enters"
    assert verify._sample_word("ISIS in Raqqa", aliases) is None
    assert verify._sample_word("Kurds AND Turks", aliases) == "kurds"


# --- snapshot --------------------------------------------------------------------------------


def test_snapshot_while_writes_go_on(seed_copy, tmp_path):
    seed_ids = set(stored(seed_copy))
    before = len(seed_ids)
    written: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set() and len(written) < 400:
                doc_id = f"w-{len(written):04d}"
                apply([put(doc_id, title=f"Write {doc_id}")], seed_copy)
                written.append(doc_id)
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(written) < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        count = maintenance.snapshot(seed_copy, tmp_path / "snap")
        assert verify.check(seed_copy, samples=3) == []  # commits meanwhile are no damage
    finally:
        stop.set()
        thread.join()
    assert failures == []
    after = len(stored(seed_copy))
    assert before <= count <= after and before < after
    assert verify.check(tmp_path / "snap") == []
    copied = stored(tmp_path / "snap")
    assert len(copied) == count
    # one commit whole: the seeds and exactly the first writes, in order
    assert seed_ids <= set(copied)
    assert sorted(set(copied) - seed_ids) == written[: count - before]
    # a root of its own, which later writes to the source leave alone
    assert (tmp_path / "snap" / POINTER).read_text().strip().startswith("gen-")
    apply([put("later")], seed_copy)
    assert "later" not in stored(tmp_path / "snap")


def test_snapshot_refuses_a_folder_in_use_and_cleans_up_a_failure(seed_root, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "file").write_text("x")
    with pytest.raises(FileExistsError):
        maintenance.snapshot(seed_root, busy)
    assert (busy / "file").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert maintenance.snapshot(seed_root, empty) == len(stored(seed_root))
    with pytest.raises(IndexNotFoundError):
        maintenance.snapshot(tmp_path / "no-index", tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


# --- OpenSearch ------------------------------------------------------------------------------


def test_opensearch_bulk_is_action_and_source_pairs(seed_root):
    out = io.StringIO()
    count = opensearch.opensearch_bulk(seed_root, out, index_name="news")
    text = out.getvalue()
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert len(lines) == 2 * count == 2 * len(stored(seed_root))
    ids = []
    for action_line, source_line in zip(lines[::2], lines[1::2], strict=True):
        action, source = json.loads(action_line), json.loads(source_line)
        assert list(action) == ["index"] and action["index"]["_index"] == "news"
        doc_id = action["index"]["_id"]
        assert source.get("id", doc_id) == doc_id
        ids.append(doc_id)
        assert isinstance(source["title"], str) and isinstance(source["body"], str)
        if "date" in source:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["date"])
        for facet in FACETS:
            assert isinstance(source[facet], list)
            assert all(isinstance(v, str) and v for v in source[facet])
    assert ids == sorted(ids)
    pairs = zip(lines[::2], lines[1::2], strict=True)
    sources = {json.loads(a)["index"]["_id"]: json.loads(s) for a, s in pairs}
    assert "date" not in sources["004_bc0f7c810eb851fd"]
    assert sources["000_26f141be685b02d9"]["date"] == "2017-07-11"
    assert sources["000_26f141be685b02d9"]["source"] == ["Global Research", "South Front"]
    assert "Islamic State" in sources["000_26f141be685b02d9"]["faction"]
    assert sources["edge-1"]["url"] == "https://example.org/tabqa"


def _gazetteer_aliases() -> list[tuple[str, str]]:
    out = []
    for name, kind in (("factions", "faction"), ("places", "place"), ("countries", "country")):
        data = tomllib.loads((DATA / f"{name}.toml").read_text(encoding="utf-8"))
        for item in data[kind]:
            for alias in [item["name"], *item.get("aliases", []), *item.get("demonyms", [])]:
                out.append((item["name"], alias))
    return out


def _rule_names(rule: str) -> list[str]:
    """The names of a Solr-format equivalence rule, unescaped."""
    names, current, chars = [], "", iter(rule)
    for char in chars:
        if char == "\\":
            current += next(chars)
        elif char == ",":
            names.append(current.strip())
            current = ""
        else:
            current += char
    return [*names, current.strip()]


def test_opensearch_mapping_has_every_alias_as_a_synonym():
    mapping = json.loads(json.dumps(opensearch.opensearch_mapping()))
    analysis = mapping["settings"]["analysis"]
    synonyms = analysis["filter"][opensearch.SYNONYMS_FILTER]
    assert synonyms["type"] == "synonym_graph"
    rules = [_rule_names(rule) for rule in synonyms["synonyms"]]
    by_name = {names[0]: set(names) for names in rules}
    for name, alias in _gazetteer_aliases():
        assert alias in by_name[name], (name, alias)
    assert {"Daesh", "ISIS", "ISIL", "IS", "Islamic State"} <= by_name["Islamic State"]
    assert {"Deir ez-Zor", "Deir Ezzor", "Dayr az-Zawr"} <= by_name["Deir ez-Zor"]
    assert all(not rule.startswith("#") and "=>" not in rule for rule in synonyms["synonyms"])
    search = analysis["analyzer"][opensearch.SEARCH_ANALYZER]
    assert search["tokenizer"] == "standard"
    filters = search["filter"]
    assert filters.index("lowercase") < filters.index(opensearch.SYNONYMS_FILTER)
    acronyms = analysis["filter"][opensearch.ACRONYMS_FILTER]
    assert acronyms["type"] == "pattern_replace"
    assert re.fullmatch(acronyms["pattern"], "IS") and re.fullmatch(acronyms["pattern"], "US")
    assert not re.fullmatch(acronyms["pattern"], "is") and not re.fullmatch(
        acronyms["pattern"], "ISIS"
    )


def test_opensearch_mapping_fields():
    properties = opensearch.opensearch_mapping()["mappings"]["properties"]
    for facet in (*FACETS, "id"):
        assert properties[facet] == {"type": "keyword"}
    assert properties["date"] == {"type": "date", "format": "yyyy-MM-dd"}
    for field in ("title", "body"):
        assert properties[field]["type"] == "text"
        assert properties[field]["search_analyzer"] == opensearch.SEARCH_ANALYZER
        assert properties[field]["analyzer"] == opensearch.INDEX_ANALYZER


def test_escaped_commas_in_synonym_names():
    assert opensearch._escape("Smith, John") == "Smith\\, John"
    assert opensearch._escape("a=>b\\") == "a\\=>b\\\\"
    assert _rule_names("A\\, B, C") == ["A, B", "C"]
    assert _rule_names(opensearch._escape("x, y=>z\\") + ", w") == ["x, y=>z\\", "w"]
