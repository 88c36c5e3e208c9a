"""The command line: a thin layer that parses the command line, runs the command (search.commands)
and turns errors into one line and an exit code.

Exit codes: 0 success; 1 done, but some input was skipped; 2 an error (nothing changed).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from whoosh.index import LockError

from search import __version__, commands, settings, whoosh_ext
from search.commands import EXIT_ERROR, EXIT_OK, UsageError
from search.errors import SearchError
from search.gazetteer import GazetteerError
from search.generations import IndexNotFoundError
from search.settings import SettingError

__all__ = ["EXIT_ERROR", "EXIT_OK", "main", "parser"]


def arg(*names: str, **options: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One argument of a command, as argparse's add_argument takes it."""
    return names, options


def _shared(*args: tuple[tuple[str, ...], dict[str, Any]]) -> argparse.ArgumentParser:
    """A parent parser: arguments several commands take, declared once."""
    parent = argparse.ArgumentParser(add_help=False)
    for names, options in args:
        parent.add_argument(*names, **options)
    return parent


INDEX = _shared(
    arg(
        "--index",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"index folder (default: ${settings.SETTINGS['index'].env} or ./index)",
    )
)
COLUMNS = _shared(
    arg(
        "--columns",
        metavar="FIELD=COLUMN,...",
        help="CSV/JSON column names when the guess is wrong, e.g. title=headline,body=text",
    )
)
DATE = {"metavar": "DATE", "help": "YYYY[-MM[-DD]]"}

# name, what it does, its description, the shared arguments it takes, its own
COMMANDS: list[tuple[str, str, str, list[argparse.ArgumentParser], list]] = [
    (
        "index",
        "parse, tag and index article files and folders",
        "Index text, JSON, JSONL and CSV article files; folders are read recursively. "
        "Articles whose id is already in the index replace it.",
        [INDEX, COLUMNS],
        [
            arg("paths", nargs="+", metavar="PATH", help="files or folders to index"),
            arg(
                "--rebuild",
                action="store_true",
                help="build a new index from PATHs alone and swap it in atomically when complete",
            ),
            arg("-q", "--quiet", action="store_true", help="print only the summary line"),
        ],
    ),
    (
        "tags",
        "print what the parser and tagger extract from files, as JSON",
        "Parse and tag files without indexing them, and print every field and tag "
        "with the spellings that produced it.",
        [COLUMNS],
        [
            arg("paths", nargs="+", metavar="FILE", help="files or folders to read"),
            arg("--body", action="store_true", help="include each article's full body text"),
        ],
    ),
    (
        "serve",
        "serve the JSON API over HTTP",
        "Run the API on uvicorn. With --build, first (re)build the index from PATHs "
        "when it is missing or older than any file under them.",
        [INDEX],
        [
            arg("--host", help="address to listen on (default 127.0.0.1)"),
            arg("--port", help="port to listen on (default 8000)"),
            arg("--workers", help="worker processes (default 1)"),
            arg(
                "--build", nargs="+", metavar="PATH", help="article files or folders to build from"
            ),
            arg(
                "--cors",
                metavar="ORIGINS",
                help="allowed CORS origins, comma-separated (default *)",
            ),
            arg(
                "--api-key",
                metavar="KEY",
                help="key for the write routes (prefer $SEARCH_API_KEY: a flag shows in `ps`)",
            ),
            arg(
                "--read-key", metavar="KEY", help="require this key (or the API key) for reads too"
            ),
        ],
    ),
    (
        "export",
        "write every document to stdout: JSONL for `search index`, or OpenSearch bulk",
        "Back up or move an archive: `search export > dump.jsonl` writes every "
        "document with its tags; `search index dump.jsonl` restores it. With --format "
        "opensearch, an OpenSearch / Elasticsearch bulk file; --mapping prints the index "
        "mapping (analyzers with every faction and place alias as synonyms).",
        [INDEX],
        [
            arg(
                "--format",
                choices=("jsonl", "opensearch"),
                default="jsonl",
                help="jsonl (default, for `search index`) or opensearch (a bulk file)",
            ),
            arg("--mapping", action="store_true", help="print the OpenSearch mapping"),
            arg("--name", default="articles", help="OpenSearch index name"),
        ],
    ),
    (
        "optimize",
        "merge the index's segments into one (faster searches, less disk)",
        "Merge every segment of the live index into one, dropping deleted "
        "documents, under the write lock (writes wait meanwhile).",
        [INDEX],
        [],
    ),
    (
        "check",
        "verify an index: exit 0 when healthy, 2 with each problem when damaged",
        "Open the index, read every document, term and column, and run sample "
        "searches. Prints each problem found; exits 2 when there is any.",
        [INDEX],
        [arg("--quick", action="store_true", help="skip reading every posting")],
    ),
    (
        "snapshot",
        "copy the live index consistently into DIR, while writes go on",
        "A read-only replica or a backup: DIR (new or empty) becomes an index "
        "folder holding the last commit. Writes wait only while the files are copied.",
        [INDEX],
        [arg("dest", type=Path, metavar="DIR", help="where to put the copy")],
    ),
    (
        "saved",
        "print the saved searches as JSON, or import such a file",
        "Saved searches live in the index folder (saved-searches.json); a rebuild and a "
        "snapshot keep them. To move them with `search export`: `search saved > saved.json` "
        "beside the dump, and `search saved --import saved.json` after the restore "
        "(searches with the same id are replaced).",
        [INDEX],
        [arg("--import", dest="source", type=Path, metavar="FILE", help="add these searches")],
    ),
    (
        "settings",
        "print every setting's value and where it came from",
        "Print the effective settings (keys masked) and their source: a flag "
        "(through its environment variable), the environment, the config file, or the default.",
        [],
        [arg("--json", action="store_true", help="print them as JSON")],
    ),
    (
        "query",
        "search the index and print the result",
        "Run a search as GET /search does and print it readably, or as JSON; with --format, "
        "print every match as CSV or JSON lines.",
        [INDEX],
        [
            arg("q", nargs="?", default="", help="query text (empty: everything)"),
            arg(
                "-f",
                "--filter",
                action="append",
                default=[],
                metavar="FACET=VALUE",
                help="filter, repeatable (same facet: OR; different facets: AND)",
            ),
            arg("--from", dest="date_from", **DATE),
            arg("--to", dest="date_to", **DATE),
            arg("--sort", default="relevance", help="relevance, date or -date (newest first)"),
            arg("--page", default="1", help="page number, from 1"),
            arg("--per-page", default="10", help="hits per page"),
            arg("--facets", default="", help="facets to count, comma-separated"),
            arg("--json", action="store_true", help="print the API's JSON"),
            arg(
                "--format",
                choices=("csv", "jsonl"),
                help="print every match (not one page) as CSV or JSON lines, as "
                "GET /search.csv and /search.jsonl do",
            ),
            arg("--fields", default="", help="with --format: fields, comma-separated"),
            arg("--body", action="store_true", help="with --format: add the article's text"),
        ],
    ),
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="search", description="Full-text search for conflict-news archives."
    )
    top.add_argument("--version", action="version", version=f"search {__version__}")
    top.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    top.add_argument(
        "--config", metavar="FILE", help="TOML file of settings (see `search settings`)"
    )
    subparsers = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary, description, parents, args in COMMANDS:
        command = subparsers.add_parser(
            name, help=summary, description=description, parents=parents
        )
        for names, options in args:
            command.add_argument(*names, **options)
        command.set_defaults(run=getattr(commands, f"run_{name}"))
    return top


DASHED_VALUES = ("--sort",)  # options whose value may start with a dash: `--sort -date`


def _joined(argv: Sequence[str]) -> list[str]:
    """`--sort -date` as `--sort=-date`: argparse takes a value starting with a dash for an
    option of its own and stops with "expected one argument"."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in DASHED_VALUES:
            following = next(args, None)
            out.append(arg if following is None else f"{arg}={following}")
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(_joined(sys.argv[1:] if argv is None else argv))
    if args.config:  # through the environment, so that server workers read the same file
        os.environ[settings.SETTINGS["config"].env] = str(Path(args.config).resolve())
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="search: %(levelname)s: %(message)s",
    )
    try:
        whoosh_ext.install()
        return args.run(args)
    except SearchError as error:
        print(f"search: error: {error.message}", file=sys.stderr)
        return EXIT_ERROR
    except (UsageError, SettingError, whoosh_ext.UnsupportedWhoosh) as error:
        print(f"search: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `search export | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (IndexNotFoundError, GazetteerError, OSError) as error:
        print(f"search: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except LockError as error:
        reason = str(error) or "another run is writing to this index"
        print(f"search: error: {reason}; try again when it ends", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nsearch: interrupted; the index keeps its last commit", file=sys.stderr)
        return 130
