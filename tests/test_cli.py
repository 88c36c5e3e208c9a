import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.cli import parser
from search.generations import open_index
from tests.live import run

ROOT = Path(__file__).resolve().parents[1]


def test_index_seeds_then_again_replaces(tmp_path):
    first = run("index", "seeds", "--index", tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("indexed 5, replaced 0, skipped 0, warnings 0 in ")
    assert first.stderr == ""  # no progress bar when stderr is not a terminal
    again = run("index", "seeds/000_26f141be685b02d9.txt", "--index", tmp_path)
    assert again.stdout.startswith("indexed 0, replaced 1, skipped 0")
    with open_index(tmp_path).searcher() as searcher:
        assert searcher.doc_count() == 5


def test_mixed_folder_names_each_bad_file(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("A title\nSDF fighters near Raqqa.")
    (folder / "latin1.txt").write_bytes("Caf\u00e9 in Aleppo\nThe YPG said.".encode("latin-1"))
    (folder / "blob.bin").write_bytes(bytes(range(256)))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "feed.jsonl").write_text('{"id": "j1", "title": "x", "body": "y"}\n{nope\n')
    result = run("index", folder, "--index", tmp_path / "ix")
    assert result.returncode == 1
    assert result.stdout.startswith("indexed 3, replaced 0, skipped 3, warnings 1 ")
    err = result.stderr.splitlines()
    assert f"skipped: {folder / 'blob.bin'}: binary file (contains NUL bytes)" in err
    assert f"skipped: {folder / 'empty.txt'}: empty file" in err
    assert any(line.startswith(f"skipped: {folder / 'feed.jsonl'}:2: invalid JSON") for line in err)
    assert any(line.startswith(f"warning: {folder / 'latin1.txt'}: not UTF-8") for line in err)
    assert "Traceback" not in result.stderr
    with open_index(tmp_path / "ix").searcher() as searcher:
        assert searcher.document(id="latin1")["title"] == "Caf\u00e9 in Aleppo"


def test_index_folder_from_environment(tmp_path):
    result = run("index", "seeds", env={"SEARCH_INDEX": str(tmp_path / "envix")})
    assert result.returncode == 0
    assert (tmp_path / "envix" / "CURRENT").exists()


def test_rebuild(index):
    result = run("index", "seeds/004_bc0f7c810eb851fd.txt", "--index", index, "--rebuild")
    assert result.returncode == 0 and result.stdout.startswith("indexed 1, replaced 0")
    with open_index(index).searcher() as searcher:
        assert searcher.doc_count() == 1


def test_fakes_csv_indexes(tmp_path, fakes_csv):
    result = run("index", fakes_csv, "--index", tmp_path)
    # 804 rows, 792 distinct articles: 11 rows repeat an article, one repeats an id with other text
    assert result.stdout.startswith("indexed 792, replaced 0, skipped 1, warnings 12 "), (
        result.stdout
    )
    assert result.returncode == 1
    err = result.stderr.splitlines()
    assert sum(line.startswith("warning: ") and "repeats article" in line for line in err) == 11
    assert [line for line in err if line.startswith("skipped: ")] == [
        f"skipped: {fakes_csv}:492: duplicate id '1926479112' with other content "
        "(first in line 491)"  # the path once a line
    ]
    assert all(line.count(str(fakes_csv)) == 1 for line in err), err


def test_tags_prints_json_with_spellings():
    result = run("tags", "seeds/004_bc0f7c810eb851fd.txt")
    assert result.returncode == 0, result.stderr
    [article] = json.loads(result.stdout)
    assert article["id"] == "004_bc0f7c810eb851fd"
    assert article["source"] == "RFE/RL" and article["date"] is None
    assert article["credit"] == "With reporting by AP and AFP"
    assert "IS" in article["spellings"]["faction"]["Islamic State"]
    assert "Deir al-Zour" in article["spellings"]["place"]["Deir ez-Zor"]
    assert "body" not in article
    assert "body" in json.loads(run("tags", "--body", "seeds/004_bc0f7c810eb851fd.txt").stdout)[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "seeds", "--columns", "title"], "--columns: bad entry 'title'"),
        (["index", "seeds", "--columns", "color=x"], "--columns: bad entry 'color=x'"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, args, message):
    result = run(*args, "--index", tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"search: error: {result.stderr.strip().removeprefix('search: error: ')}"
    )
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_missing_path_is_an_error_and_creates_nothing(tmp_path):
    result = run("index", "seeds", tmp_path / "nope", "--index", tmp_path / "ix")
    assert result.returncode == 2
    assert result.stderr == f"search: error: no such file or folder: {tmp_path / 'nope'}\n"
    assert not (tmp_path / "ix").exists()


def test_every_command_has_help():
    commands = parser()._subparsers._group_actions[0]
    for name, sub in commands.choices.items():
        assert sub.description, name
        assert all(action.help for action in sub._actions), name
    assert [a.help for a in commands._choices_actions if not a.help] == []
    assert run("index", "--help").returncode == 0


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "search"
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("search ")


def test_query_prints_hits_and_facets(seeds_index):
    result = run("query", "Mosul NOT Raqqa", "--index", seeds_index, "--facets", "faction")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 hit (")
    assert lines[2] == (
        '1. Video: US Backed Operation "Against ISIS Terrorists" in [Mosul] '
        "Approaching Its Final Phase"
    )
    assert lines[3] == "   2017-05-09, Global Research, 002_ba0c41fe0ac4e9c0"
    assert lines[-1] == (
        "faction: Iraqi security forces (1), Islamic State (1), Peshmerga (1), "
        "US-led coalition (1), United States forces (1)"
    )


def test_query_json_is_the_api_answer(seeds_index):
    result = run(
        "query", "Daesh", "--index", seeds_index, "--json", "-f", "source=RFE/RL", "--sort=-date"
    )
    body = json.loads(result.stdout)
    assert body["total"] == 1 and body["hits"][0]["id"] == "004_bc0f7c810eb851fd"
    assert body["query"]["filters"] == {"source": ["RFE/RL"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "title:("], "search: error: unclosed '(' at character 7"),
        (["query", "x", "--per-page", "500"], "search: error: per_page must be between 0 and 100"),
        (["query", "x", "-f", "colour"], "search: error: --filter: bad entry 'colour'"),
        (["query", "x", "-f", "colour=red"], "search: error: unknown parameter 'colour'"),
    ],
)
def test_query_errors_are_one_line(seeds_index, args, message):
    result = run(*args, "--index", seeds_index)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1


def test_query_without_index(tmp_path):
    result = run("query", "x", "--index", tmp_path)
    assert result.returncode == 2 and "no index in" in result.stderr


def test_a_second_writer_waits_then_gets_one_line(tmp_path):
    from search.generations import open_index
    from search.locking import WriteLock

    assert run("index", "seeds/000_26f141be685b02d9.txt", "--index", tmp_path).returncode == 0
    lock = WriteLock(tmp_path)
    lock.acquire(1)
    try:
        result = run(
            "index",
            "seeds/001_ec32c9c98140bc5b.txt",
            "--index",
            tmp_path,
            env={"SEARCH_WRITE_WAIT": "0.3"},
        )
    finally:
        lock.release()
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"search: error: another writer kept the index in {tmp_path} locked for 0.3 s "
        f"(held by process {os.getpid()}); try again when it ends"
    )
    with open_index(tmp_path).searcher() as searcher:
        assert searcher.doc_count() == 1


def test_a_plain_whoosh_lock_gets_one_line(tmp_path):
    from search.generations import open_index

    assert run("index", "seeds/000_26f141be685b02d9.txt", "--index", tmp_path).returncode == 0
    writer = open_index(tmp_path).writer()
    try:
        result = run("index", "seeds/001_ec32c9c98140bc5b.txt", "--index", tmp_path)
    finally:
        writer.cancel()
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "search: error: another run is writing to this index; try again when it ends"
    )


def test_serve_socket_is_tcp_and_each_worker_accepts_one_connection_a_wake_up(monkeypatch):
    import asyncio
    import socket
    from asyncio import selector_events

    from uvicorn.config import Config

    from search import sockets

    sockets.bind_tcp()
    shared = Config("search.api:create_app", host="127.0.0.1", port=0).bind_socket()
    try:
        assert shared.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only then
        assert shared.get_inheritable()
    finally:
        shared.close()

    loop = selector_events.BaseSelectorEventLoop
    accept, at_most = loop._accept_connection, []

    def counted(self, factory, sock, sslcontext, server, backlog, *rest):
        at_most.append(backlog)  # how many connections this wake-up may accept
        return accept(self, factory, sock, sslcontext, server, backlog, *rest)

    monkeypatch.setattr(loop, "_accept_connection", counted)
    sockets.accept_in_turn()

    async def serve() -> int:
        served: list = []
        server = await asyncio.start_server(lambda r, w: served.append(w), "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        clients = [socket.create_connection(address) for _ in range(4)]  # waiting at once
        for _ in range(100):
            if len(served) == 4:
                break
            await asyncio.sleep(0.01)
        for client in clients:
            client.close()
        server.close()
        return len(served)

    assert asyncio.run(serve()) == 4  # every one accepted, on wake-ups of one each
    assert at_most and set(at_most) == {1}


def test_serve_refuses_a_bad_setting_in_one_line(tmp_path):
    result = run("serve", "--index", tmp_path, env={"SEARCH_WRITE_WAIT": "soon"})
    assert result.returncode == 2
    assert result.stderr.strip() == "search: error: SEARCH_WRITE_WAIT='soon': expected a number"


# ---------------------------------------------------------------- messages people read


def test_serve_says_where_it_listens_once_ready(seeds_index):
    from tests.live import Server

    live = Server(seeds_index)
    try:
        line = f"search: serving {live.url}/ (Ctrl-C to stop)"
        deadline = time.monotonic() + 30  # a wait for the line, not a timing assertion
        while line not in live.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert line in live.output().splitlines(), live.output()
    finally:
        live.stop()


def test_serve_on_a_busy_port_says_how_to_pick_another(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--index", tmp_path, "--port", port)
    assert result.returncode == 2
    assert result.stderr == (
        f"search: error: port {port} on 127.0.0.1 is in use by another program; "
        "pick another with --port N (or $SEARCH_PORT)\n"
    )


def test_sort_takes_a_value_starting_with_a_dash(seeds_index):
    spaced = run("query", "", "--index", seeds_index, "--json", "--sort", "-date")
    assert spaced.returncode == 0, spaced.stderr
    body = json.loads(spaced.stdout)
    assert body["query"]["sort"] == "-date"
    dates = [hit["date"] for hit in body["hits"] if hit["date"]]
    assert dates == sorted(dates, reverse=True) and len(dates) > 1


def test_date_errors_say_what_is_wrong(seeds_index):
    result = run("query", "x", "--index", seeds_index, "--from", "2017-04-31")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "search: error: from: April 2017 has 30 days, so the day must be 01 to 30, not 31"
    )


def test_settings_columns_stay_aligned_with_long_values():
    origins = "https://newsroom.example.org,https://analysts.example.org"
    result = run("settings", env={"SEARCH_CORS_ORIGINS": origins})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(origins in line for line in lines)
    # the source column (default, env ..., config ...) starts at one place on every line
    starts = {line.rindex("  ") for line in lines}
    assert len(starts) == 1, lines


def test_progress_bar_ends_at_100_percent_without_a_second_rate(tmp_path):
    import pty

    leader, follower = pty.openpty()  # stderr a terminal, as a person runs it
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "index", "seeds", "--index", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "SEARCH_INDEX_JOBS": "1"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = process.communicate(timeout=120)[0].decode()
    os.close(leader)
    bar = b"".join(chunks).decode(errors="replace")
    last = bar.replace("\r", "\n").strip().splitlines()[-1]
    assert "100%" in last and "5 docs read" in last, bar
    assert "docs/s" not in bar  # the rate is the summary's alone
    assert stdout.startswith("indexed 5, replaced 0") and "docs/s" in stdout
