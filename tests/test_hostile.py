"""Hostile files (tests/hostile/, plus a 20 MB single line made here): `search index` reports
each bad one and indexes the rest; the POST route (the served application, in process) answers
each with a 4xx and stays up.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from search.generations import documents
from tests.live import ROOT, InProcess

HOSTILE = ROOT / "tests" / "hostile"
KEY = "hostile-key"
SKIPPED = {  # file -> what the report must say
    "binary.bin": "binary file",
    "empty.txt": "empty file",
    "whitespace-only.txt": "empty file",
    "deeply-nested.json": "nested too deeply",
    "repeated-keys.json": "appears twice",
    "truncated.json": "invalid JSON",
    "one-line-20mb.txt": "larger than",
    "not-an-object.json[0]": "expected a JSON object",
    "mixed-lines.jsonl:2": "invalid JSON",
    "mixed-lines.jsonl:3": "invalid JSON",
    "mixed-lines.jsonl:4": "must be text",
}
INDEXED = {
    "good",
    "file with spaces and ünïcödé — كتاب",
    "utf16-bom",
    "invalid-utf8",
    "controls-and-rtl",
    "no-newline",
    "ok-1",
    "jl-1",
    "jl-4",
    "jl-5",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile") / "corpus"
    shutil.copytree(HOSTILE, folder)
    with (folder / "one-line-20mb.txt").open("w") as handle:  # too big to keep in git
        handle.write("A very long line " + "word " * 4_000_000)
    return folder


def test_search_index_reports_each_bad_file_and_indexes_the_rest(corpus, tmp_path):
    index = tmp_path / "ix"
    result = subprocess.run(
        [sys.executable, "-m", "search", "index", corpus, "--index", index],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1  # done, some input skipped
    reports = result.stderr.splitlines()
    for name, reason in SKIPPED.items():
        line = next((r for r in reports if r.startswith(f"skipped: {corpus / name}")), None)
        assert line is not None and reason in line, (name, reports)
    assert any("invalid-utf8.txt" in r and "Windows-1252" in r for r in reports)
    assert any("mixed-lines.jsonl" in r and "NUL" in r for r in reports)
    stored = {d["id"]: d for d in documents(index)}
    assert set(stored) == INDEXED
    for document in stored.values():  # no control or bidi-override character survives
        text = document["title"] + document.get("body", "")
        assert not any(c in text for c in "\x00\x01\x02\x07\u202e\u200f")
    assert "العربية" in stored["controls-and-rtl"]["body"]


def test_the_post_route_refuses_each_hostile_file_and_stays_up(corpus, index, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    auth = {"Authorization": f"Bearer {KEY}"}
    with InProcess(index) as served:
        for path in sorted(corpus.iterdir()):
            if path.name == "not-an-object.json" or path.suffix == ".jsonl":
                continue  # they hold good articles too: tested below
            body = path.read_bytes()
            for media in ("application/json", "application/x-ndjson"):
                response = served.client.post(
                    "/documents", content=body, headers={**auth, "Content-Type": media}
                )
                assert 400 <= response.status_code < 500, (path.name, media, response.text)
                assert response.json()["error"]["message"], path.name
            response = served.client.put(
                "/documents/x", content=body, headers={**auth, "Content-Type": "application/json"}
            )
            assert 400 <= response.status_code < 500, (path.name, response.text)
        mixed = (corpus / "mixed-lines.jsonl").read_bytes()
        response = served.client.post(
            "/documents", content=mixed, headers={**auth, "Content-Type": "application/x-ndjson"}
        )
        assert response.status_code == 400  # line 2 is not JSON: the whole body is refused
        assert "line 2" in response.json()["error"]["message"]
        response = served.client.post(
            "/documents",
            content=(corpus / "not-an-object.json").read_bytes(),
            headers={**auth, "Content-Type": "application/json"},
        )
        assert [i["status"] for i in response.json()["items"]] == ["error"] * 3 + ["created"]
        assert served.client.get("/health").json()["status"] == "ok"
        assert served.client.get("/stats").json()["documents"] == 5 + 1
