from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
FAKES = SHARED / "data" / "fa-kes" / "fakes.csv"


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


@pytest.fixture
def index(seeds_index, tmp_path) -> Path:
    """A fresh copy of the seed index for one test to change."""
    copy = tmp_path / "ix"
    shutil.copytree(seeds_index, copy)
    return copy
