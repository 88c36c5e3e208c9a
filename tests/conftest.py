from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from search import whoosh_ext
from search.settings import SETTINGS

whoosh_ext.install()  # what every entry point does (the CLI, the app, the workers)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
FAKES = SHARED / "data" / "fa-kes" / "fakes.csv"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No setting of the surrounding shell (SEARCH_*) leaks into a test: each sees the defaults
    unless it sets its own with monkeypatch.setenv."""
    for setting in SETTINGS.values():
        monkeypatch.delenv(setting.env, raising=False)


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(SEEDS.glob("*.txt"))
    assert len(paths) == 5
    return paths


@pytest.fixture(scope="session")
def fakes_csv() -> Path:
    if not FAKES.exists():
        pytest.skip(f"{FAKES} is not here (it sits beside the clone in CI)")
    return FAKES


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    """The seeds indexed once by the real CLI; tests that write take a copy (`index`)."""
    from tests.live import build_seeds

    return build_seeds(tmp_path_factory.mktemp("seeds") / "ix")


@pytest.fixture(scope="session")
def fakes_index(fakes_csv, tmp_path_factory) -> Path:
    """FA-KES indexed once by the real CLI; tests that write take a copy."""
    from tests.live import run

    folder = tmp_path_factory.mktemp("fakes") / "ix"
    result = run("index", fakes_csv, "--index", folder, "-q")
    assert result.returncode in (0, 1), result.stderr  # 1: FA-KES repeats an id
    return folder


@pytest.fixture
def index(seeds_index, tmp_path) -> Path:
    """A fresh copy of the seed index for one test to change."""
    copy = tmp_path / "ix"
    shutil.copytree(seeds_index, copy)
    return copy


@pytest.fixture(scope="session")
def server(seeds_index, tmp_path_factory):
    """One real `search serve` for the whole run, over its own copy of the seed index and
    without a key, for the end-to-end tests that only read. A test that writes, or needs other
    settings, starts its own Server over its own copy (`index`)."""
    from tests.live import Server

    copy = tmp_path_factory.mktemp("served") / "ix"
    shutil.copytree(seeds_index, copy)
    live = Server(copy)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def app(seeds_index, tmp_path_factory):
    """The application of `server` in this process (tests.live.InProcess), over its own copy
    of the seed index and without a key, for the API's contract tests that only read."""
    from tests.live import InProcess

    copy = tmp_path_factory.mktemp("in-process") / "ix"
    shutil.copytree(seeds_index, copy)
    with InProcess(copy) as served:
        yield served
