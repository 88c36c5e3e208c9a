from __future__ import annotations

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
