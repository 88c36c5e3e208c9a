"""Project hygiene: the README's commands, CI, lint, and what must stay out of git."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^    (python3 -m venv .+)$", text, flags=re.MULTILINE)


def test_readme_opens_with_two_commands_and_ci_runs_the_test_one():
    commands = readme_commands()
    assert len(commands) >= 2
    test_command = commands[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_no_network_downloads_in_the_package():
    for path in (ROOT / "search").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "nltk.download" not in text and "nltk_data" not in text, path


def test_lint_and_format():
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "search", "tests", "benchmarks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_index_folder_keeps_builds_out_of_git():
    ignore = (ROOT / "index" / ".gitignore").read_text(encoding="utf-8").split()
    assert ignore[:1] != [] and "*" in ignore and "!README.md" in ignore


def test_every_setting_is_documented_in_the_readme():
    from search.settings import SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `SEARCH_")}
    assert rows == {setting.env for setting in SETTINGS.values()}


@pytest.mark.parametrize("module", ["search.querylang", "search.request", "search.schema"])
def test_the_query_language_loads_no_writer(module):
    """Parsing queries and requests needs the facet names, not the writer or its processes."""
    code = (
        f"import sys, {module}\n"
        "loaded = {'search.index', 'search.segments', 'multiprocessing'} & set(sys.modules)\n"
        "print(sorted(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_types():
    """mypy checks search/ with the settings in pyproject.toml (the README's test command, and
    so CI, runs it here)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
