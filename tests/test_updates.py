import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from whoosh.index import LockError

from search import generations, index
from search.articles import Article
from search.errors import Busy
from search.generations import POINTER, open_index
from search.index import apply, write
from search.locking import LOCK, IndexBusy, WriteLock
from search.schema import Change, to_document
from search.tagging import tag
from search.updates import Updater

ROOT = Path(__file__).resolve().parents[1]


def put(article_id: str, title: str = "Title", body: str = "Daesh left Raqqa.") -> Change:
    article = Article(id=article_id, title=title, body=body)
    return Change(article_id, to_document(tag(article)))


def delete(article_id: str) -> Change:
    return Change(article_id, None)


def stored(root) -> list[dict]:
    with open_index(root).searcher() as searcher:
        return list(searcher.documents())


def doc_count(root) -> int:
    with open_index(root).searcher() as searcher:
        return searcher.doc_count()


@pytest.fixture
def held(tmp_path):
    """A write lock on tmp_path held by the test; released at the end in any case."""
    lock = WriteLock(tmp_path)
    lock.acquire(wait=0)
    yield lock
    lock.release()


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


# --- apply() ----------------------------------------------------------------------------------


def test_apply_without_an_index_creates_one(tmp_path):
    root = tmp_path / "ix"
    assert generations.current_generation(root) is None
    assert apply([put("a")], root) == ["created"]
    assert (root / POINTER).exists()
    assert generations.current_generation(root) is not None
    docs = stored(root)
    assert [d["id"] for d in docs] == ["a"]
    assert "Islamic State" in docs[0]["faction"].split(",")


def steps(text: str) -> list[Change]:
    """Changes written short: `+a` puts a (titled Title), `+a:New` puts it titled New, `-a`
    deletes it."""
    out = []
    for step in text.split():
        doc_id, _, title = step[1:].partition(":")
        out.append(put(doc_id, title=title or "Title") if step[0] == "+" else delete(doc_id))
    return out


# (changes applied first, the changes of one call, their statuses, the titles stored after)
@pytest.mark.parametrize(
    ("before", "changes", "statuses", "titles"),
    [
        pytest.param(
            "",
            "+a +a -a -a +b",
            ["created", "replaced", "deleted", "not_found", "created"],
            {"b": "Title"},
            id="statuses-are-sequential-within-one-call",
        ),
        pytest.param(
            "",
            "+a:First +a:Second",
            ["created", "replaced"],
            {"a": "Second"},
            id="put-twice-in-one-call-keeps-the-last",
        ),
        pytest.param(
            "+a:Old",
            "-a +a:New",
            ["deleted", "created"],
            {"a": "New"},
            id="delete-then-put-again-in-one-call",
        ),
        pytest.param(
            "+a:Old +b",
            "+a:New",
            ["replaced"],
            {"a": "New", "b": "Title"},
            id="replacing-an-existing-id-keeps-one-document",
        ),
        pytest.param(
            "+a +b",
            "-nope",
            ["not_found"],
            {"a": "Title", "b": "Title"},
            id="deleting-an-unknown-id-changes-nothing",
        ),
        pytest.param("+a +b", "-a", ["deleted"], {"b": "Title"}, id="deletes-an-existing-id"),
    ],
)
def test_apply(tmp_path, before, changes, statuses, titles):
    if before:
        apply(steps(before), tmp_path)
    assert apply(steps(changes), tmp_path) == statuses
    assert {d["id"]: d["title"] for d in stored(tmp_path)} == titles
    assert doc_count(tmp_path) == len(titles)  # one document per id


def test_apply_into_an_index_built_by_write(tmp_path):
    write([Article(id="w", title="Written", body="Mosul")], tmp_path)
    assert apply([put("w", title="Changed"), put("n")], tmp_path) == ["replaced", "created"]
    assert {d["id"]: d["title"] for d in stored(tmp_path)} == {"w": "Changed", "n": "Title"}


def test_apply_releases_the_lock(tmp_path):
    apply([put("a")], tmp_path)
    lock = WriteLock(tmp_path)
    lock.acquire(wait=0)
    lock.release()


# --- WriteLock --------------------------------------------------------------------------------


def test_index_busy_is_a_lock_error():
    assert issubclass(IndexBusy, LockError)


def test_second_lock_in_the_same_process_is_busy_until_released(tmp_path):
    first = WriteLock(tmp_path)
    first.acquire(wait=0)
    try:
        assert (tmp_path / LOCK).read_text() == str(os.getpid())
        with pytest.raises(IndexBusy) as caught:
            WriteLock(tmp_path).acquire(wait=0.2)
        assert str(os.getpid()) in str(caught.value)
        assert str(tmp_path) in str(caught.value)
    finally:
        first.release()
    second = WriteLock(tmp_path)
    second.acquire(wait=0.2)
    second.release()


def test_lock_as_context_manager_waits_write_wait(tmp_path, held, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.1")
    with pytest.raises(IndexBusy), WriteLock(tmp_path):
        pass


def test_release_without_acquire_is_harmless(tmp_path):
    WriteLock(tmp_path).release()


def test_lock_of_a_killed_process_is_free_at_once(tmp_path):
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from search.locking import WriteLock\n"
        "WriteLock(Path(sys.argv[1])).acquire(wait=5)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusy) as caught:
            WriteLock(tmp_path).acquire(wait=0)
        assert str(child.pid) in str(caught.value)
    finally:
        child.kill()  # SIGKILL: no chance to release
        child.wait()
        child.stdout.close()
    assert child.returncode == -9
    lock = WriteLock(tmp_path)
    lock.acquire(wait=1)  # must not raise
    lock.release()


def test_apply_while_the_lock_is_held_is_busy(tmp_path, held, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.2")
    with pytest.raises(IndexBusy):
        apply([put("a")], tmp_path)
    assert generations.current_generation(tmp_path) is None


def test_write_while_the_lock_is_held_is_busy(tmp_path, held, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.2")
    with pytest.raises(IndexBusy):
        write([Article(id="a", title="T", body="Mosul")], tmp_path)
    assert generations.current_generation(tmp_path) is None
    assert not list(tmp_path.glob("gen-*"))


# --- Updater ----------------------------------------------------------------------------------


def test_updater_answers_with_statuses_and_calls_on_commit(tmp_path):
    commits = []
    updater = Updater(tmp_path, on_commit=lambda: commits.append(1))
    first = updater.submit([put("a"), put("b")]).result(timeout=10)
    assert first == ["created", "created"]
    assert commits
    second = updater.submit([put("a"), delete("b"), delete("c")]).result(timeout=10)
    assert second == ["replaced", "deleted", "not_found"]
    assert [d["id"] for d in stored(tmp_path)] == ["a"]


def test_updater_batches_from_two_threads_wait_for_the_lock(tmp_path, held, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "5")
    commits = []
    updater = Updater(tmp_path, on_commit=lambda: commits.append(1))
    futures: dict[str, Future] = {}

    def submit(name, changes):
        futures[name] = updater.submit(changes)

    threads = [
        threading.Thread(target=submit, args=("one", [put("a"), put("a")])),
        threading.Thread(target=submit, args=("two", [put("b"), delete("c")])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert set(futures) == {"one", "two"}
    time.sleep(0.3)
    assert not any(f.done() for f in futures.values())  # still waiting on the lock
    held.release()
    assert futures["one"].result(timeout=10) == ["created", "replaced"]
    assert futures["two"].result(timeout=10) == ["created", "not_found"]
    assert commits
    assert sorted(d["id"] for d in stored(tmp_path)) == ["a", "b"]


def test_updater_full_queue_is_busy(tmp_path, held, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_QUEUE", "1")
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "5")
    updater = Updater(tmp_path)
    assert updater.limit == 1
    applying = updater.submit([put("a")])
    wait_until(lambda: updater.depth == 0)  # the writer took it and waits on the lock
    queued = updater.submit([put("b")])
    assert updater.depth == 1
    with pytest.raises(Busy) as caught:
        updater.submit([put("c")])
    assert caught.value.status == 503
    assert caught.value.code == "busy"
    assert "Retry-After" in caught.value.headers
    assert int(caught.value.headers["Retry-After"]) >= 1
    held.release()
    assert applying.result(timeout=10) == ["created"]
    assert queued.result(timeout=10) == ["created"]
    assert sorted(d["id"] for d in stored(tmp_path)) == ["a", "b"]


def test_updater_lock_held_too_long_is_busy(tmp_path, held, monkeypatch):
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.2")
    commits = []
    updater = Updater(tmp_path, on_commit=lambda: commits.append(1))
    future = updater.submit([put("a")])
    error = future.exception(timeout=10)
    assert isinstance(error, Busy)
    assert error.status == 503
    assert "Retry-After" in error.headers
    assert int(error.headers["Retry-After"]) >= 1
    assert str(os.getpid()) in error.message  # names the holder
    assert not commits
    held.release()
    # the writer thread lives on: the next request goes through
    assert updater.submit([put("a")]).result(timeout=10) == ["created"]


def test_updater_reports_other_errors_and_lives_on(tmp_path):
    updater = Updater(tmp_path)
    bad = updater.submit([Change("x", {"id": "x", "no_such_field": "y"})])
    assert bad.exception(timeout=10) is not None
    assert updater.submit([put("a")]).result(timeout=10) == ["created"]


def test_updater_survives_an_on_commit_that_raises(tmp_path):
    def boom():
        raise RuntimeError("on_commit failed")

    updater = Updater(tmp_path, on_commit=boom)
    assert updater.submit([put("a")]).result(timeout=10) == ["created"]
    assert updater.submit([put("b")]).result(timeout=10) == ["created"]


# --- found by review: failures between steps must leave a usable, locked-free index ----------


def articles(tag: str) -> list[Article]:
    return [Article(id=f"{tag}{n}", title=f"t {tag}", body="Daesh near Raqqa") for n in range(3)]


def test_an_interrupt_after_a_rebuild_switched_keeps_the_new_index(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    index.write(articles("a"), root)
    index.write(articles("b"), root, rebuild=True)
    real = index.shutil.rmtree
    calls = []

    def interrupted(path, *args, **kwargs):  # Ctrl-C while the stale generation is removed
        calls.append(path)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(index.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        index.write(articles("c"), root, rebuild=True)
    monkeypatch.setattr(index.shutil, "rmtree", real)
    assert sorted(d["id"] for d in generations.documents(root)) == ["c0", "c1", "c2"]
    assert index.apply([put("new")], root) == ["created"]
    assert sorted(d["id"] for d in generations.documents(root)) == ["c0", "c1", "c2", "new"]


def test_a_dangling_current_is_refused_not_taken_for_a_first_build(tmp_path):
    root = tmp_path / "ix"
    index.write(articles("a"), root)
    (root / "CURRENT").write_text("gen-000099\n")
    with pytest.raises(generations.IndexDamagedError, match="gen-000099"):
        index.apply([put("new")], root)
    with pytest.raises(generations.IndexDamagedError):
        index.write(articles("b"), root)
    assert (root / "gen-000001").is_dir()  # nothing pruned
    index.write(articles("b"), root, rebuild=True)  # an explicit rebuild repairs it
    assert sorted(d["id"] for d in generations.documents(root)) == ["b0", "b1", "b2"]
    assert (root / "gen-000001").is_dir()  # still kept: it may be all there is to recover


def test_a_failure_after_taking_the_lock_releases_it(tmp_path, monkeypatch):
    root = tmp_path / "ix"
    index.write(articles("a"), root)

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(index.whoosh_index, "open_dir", broken)
    with pytest.raises(OSError, match="disk on fire"):
        index.write(articles("b"), root)
    monkeypatch.undo()
    lock = WriteLock(root)
    lock.acquire(0)  # free at once
    lock.release()


def test_a_failure_writing_the_holders_pid_still_releases_the_lock(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index.os, "pwrite", full)
    lock = WriteLock(tmp_path)
    lock.acquire(0)
    lock.release()
    monkeypatch.undo()
    other = WriteLock(tmp_path)
    other.acquire(0)
    other.release()


def test_a_cancelled_request_does_not_stop_the_writer(tmp_path):
    root = tmp_path / "ix"
    updater = Updater(root)
    held = WriteLock(root)
    held.acquire(1)
    first = updater.submit([put("d0")])
    deadline = time.monotonic() + 10
    while updater.depth and time.monotonic() < deadline:  # the thread waits on the lock
        time.sleep(0.01)
    second, third = updater.submit([put("d1")]), updater.submit([put("d2")])
    assert second.cancel()  # its client went away
    held.release()
    assert first.result(timeout=10) == ["created"]
    assert third.result(timeout=10) == ["created"]
    assert updater.submit([put("d3")]).result(timeout=10) == ["created"]
    # the cancelled request's change may or may not be applied; here it was
    assert sorted(d["id"] for d in generations.documents(root)) == ["d0", "d1", "d2", "d3"]


def test_a_missing_index_folder_answers_503_to_writes(tmp_path):
    root = tmp_path / "ix"
    index.write(articles("a"), root)
    (root / "CURRENT").write_text("gen-000099\n")
    future = Updater(root).submit([put("x")])
    error = future.exception(timeout=10)
    assert error.status == 503 and "gen-000099" in error.message
