"""The read path over arrays answers as Whoosh does: every generated benchmark query, by
relevance and by date, on FA-KES and on 2,000 generated articles (tests/equivalence.py).
The same comparison at 10,000 articles is benchmarks/equivalence.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from search.service import Service
from tests.equivalence import MAKE_CORPUS, differences, generated_queries, params
from tests.live import run

QUERIES = 200


@pytest.fixture(scope="module")
def queries(tmp_path_factory) -> list[dict]:
    if not MAKE_CORPUS.exists():
        pytest.skip(f"{MAKE_CORPUS} is not here (it sits beside the clone in CI)")
    return generated_queries(QUERIES, 1, tmp_path_factory.mktemp("queries"))


@pytest.fixture(scope="module")
def generated_index(queries, tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    corpus = folder / "corpus.jsonl"
    command = [sys.executable, MAKE_CORPUS, "--n", "2000", "--seed", "3", "--out", corpus]
    subprocess.run(command, check=True)
    result = run("index", corpus, "--index", folder / "ix", "-q")
    assert result.returncode == 0, result.stderr
    return folder / "ix"


def _check(index, queries, sort: str) -> None:
    view = Service(index).view()
    found, stored = {}, {}
    for query in queries:
        # facet counts and the histogram do not depend on the order: checked once
        wrong = differences(view, params(query, sort), stored, counts=sort == "relevance")
        if wrong:
            found[query["q"]] = wrong
    assert not found, found
    view.close()


@pytest.mark.parametrize("sort", ["relevance", "-date"])
def test_generated_articles(generated_index, queries, sort):
    _check(generated_index, queries, sort)


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_fakes(fakes_index, queries, sort):
    _check(fakes_index, queries, sort)
