"""The command line: a thin layer that turns the library's results and errors into output.

Exit codes: 0 success; 1 done, but some input was skipped; 2 an error (nothing changed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from whoosh.index import LockError

from search import __version__, settings, whoosh_ext
from search.articles import RECORD_KEYS
from search.errors import SearchError
from search.files import Item, Problem, find_files, read_paths
from search.gazetteer import GazetteerError
from search.generations import POINTER, IndexNotFoundError, index_root, open_index
from search.index import Entry, Summary, write
from search.settings import SettingError
from search.tagging import tag

EXIT_OK, EXIT_SKIPPED, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A bad command-line value; the message names it."""


def _columns(text: str | None) -> dict[str, str]:
    """`title=article_title,body=article_content` -> {'title': 'article_title', ...}."""
    if not text:
        return {}
    out = {}
    for pair in text.split(","):
        name, sep, column = pair.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not column or name not in RECORD_KEYS:
            raise UsageError(
                f"--columns: bad entry {pair!r}; use FIELD=COLUMN "
                f"with FIELD one of {', '.join(RECORD_KEYS)}"
            )
        out[name] = column
    return out


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="search", description="Full-text search for conflict-news archives."
    )
    top.add_argument("--version", action="version", version=f"search {__version__}")
    top.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    top.add_argument(
        "--config", metavar="FILE", help="TOML file of settings (see `search settings`)"
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser(
        "index",
        help="parse, tag and index article files and folders",
        description="Index text, JSON, JSONL and CSV article files; folders are read recursively. "
        "Articles whose id is already in the index replace it.",
    )
    index.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to index")
    index.add_argument(
        "--index",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"index folder (default: ${settings.SETTINGS['index'].env} or ./index)",
    )
    index.add_argument(
        "--rebuild",
        action="store_true",
        help="build a new index from PATHs alone and swap it in atomically when complete",
    )
    index.add_argument(
        "--columns",
        metavar="FIELD=COLUMN,...",
        help="CSV/JSON column names when the guess is wrong, e.g. title=headline,body=text",
    )
    index.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
    index.set_defaults(run=run_index)

    tags = commands.add_parser(
        "tags",
        help="print what the parser and tagger extract from files, as JSON",
        description="Parse and tag files without indexing them, and print every field and tag "
        "with the spellings that produced it.",
    )
    tags.add_argument("paths", nargs="+", metavar="FILE", help="files or folders to read")
    tags.add_argument("--columns", metavar="FIELD=COLUMN,...", help="as for `search index`")
    tags.add_argument("--body", action="store_true", help="include each article's full body text")
    tags.set_defaults(run=run_tags)

    serve = commands.add_parser(
        "serve",
        help="serve the JSON API over HTTP",
        description="Run the API on uvicorn. With --build, first (re)build the index from PATHs "
        "when it is missing or older than any file under them.",
    )
    serve.add_argument("--index", type=Path, default=None, metavar="DIR", help="index folder")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", help="port to listen on (default 8000)")
    serve.add_argument("--workers", help="worker processes (default 1)")
    serve.add_argument(
        "--build", nargs="+", metavar="PATH", help="article files or folders to build from"
    )
    serve.add_argument(
        "--cors", metavar="ORIGINS", help="allowed CORS origins, comma-separated (default *)"
    )
    serve.add_argument(
        "--api-key",
        metavar="KEY",
        help="key for the write routes (prefer $SEARCH_API_KEY: a flag shows in `ps`)",
    )
    serve.add_argument(
        "--read-key", metavar="KEY", help="require this key (or the API key) for reads too"
    )
    serve.set_defaults(run=run_serve)

    export = commands.add_parser(
        "export",
        help="write every document to stdout: JSONL for `search index`, or OpenSearch bulk",
        description="Back up or move an archive: `search export > dump.jsonl` writes every "
        "document with its tags; `search index dump.jsonl` restores it. With --format "
        "opensearch, an OpenSearch / Elasticsearch bulk file; --mapping prints the index "
        "mapping (analyzers with every faction and place alias as synonyms).",
    )
    export.add_argument("--index", type=Path, default=None, metavar="DIR", help="index folder")
    export.add_argument(
        "--format",
        choices=("jsonl", "opensearch"),
        default="jsonl",
        help="jsonl (default, for `search index`) or opensearch (a bulk file)",
    )
    export.add_argument("--mapping", action="store_true", help="print the OpenSearch mapping")
    export.add_argument("--name", default="articles", help="OpenSearch index name")
    export.set_defaults(run=run_export)

    optimize = commands.add_parser(
        "optimize",
        help="merge the index's segments into one (faster searches, less disk)",
        description="Merge every segment of the live index into one, dropping deleted "
        "documents, under the write lock (writes wait meanwhile).",
    )
    optimize.add_argument("--index", type=Path, default=None, metavar="DIR", help="index folder")
    optimize.set_defaults(run=run_optimize)

    check = commands.add_parser(
        "check",
        help="verify an index: exit 0 when healthy, 2 with each problem when damaged",
        description="Open the index, read every document, term and column, and run sample "
        "searches. Prints each problem found; exits 2 when there is any.",
    )
    check.add_argument("--index", type=Path, default=None, metavar="DIR", help="index folder")
    check.add_argument("--quick", action="store_true", help="skip reading every posting")
    check.set_defaults(run=run_check)

    snap = commands.add_parser(
        "snapshot",
        help="copy the live index consistently into DIR, while writes go on",
        description="A read-only replica or a backup: DIR (new or empty) becomes an index "
        "folder holding the last commit. Writes wait only while the files are copied.",
    )
    snap.add_argument("dest", type=Path, metavar="DIR", help="where to put the copy")
    snap.add_argument("--index", type=Path, default=None, metavar="DIR", help="index folder")
    snap.set_defaults(run=run_snapshot)

    shown = commands.add_parser(
        "settings",
        help="print every setting's value and where it came from",
        description="Print the effective settings (keys masked) and their source: a flag "
        "(through its environment variable), the environment, the config file, or the default.",
    )
    shown.add_argument("--json", action="store_true", help="print them as JSON")
    shown.set_defaults(run=run_settings)

    search = commands.add_parser(
        "query",
        help="search the index and print the result",
        description="Run a search as GET /search does and print it readably, or as JSON.",
    )
    search.add_argument("q", nargs="?", default="", help="query text (empty: everything)")
    search.add_argument("--index", type=Path, default=None, metavar="DIR", help="index folder")
    search.add_argument(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="FACET=VALUE",
        help="filter, repeatable (same facet: OR; different facets: AND)",
    )
    search.add_argument("--from", dest="date_from", metavar="DATE", help="YYYY[-MM[-DD]]")
    search.add_argument("--to", dest="date_to", metavar="DATE", help="YYYY[-MM[-DD]]")
    search.add_argument(
        "--sort", default="relevance", help="relevance, date or -date (--sort=-date)"
    )
    search.add_argument("--page", default="1", help="page number, from 1")
    search.add_argument("--per-page", default="10", help="hits per page")
    search.add_argument("--facets", default="", help="facets to count, comma-separated")
    search.add_argument("--json", action="store_true", help="print the API's JSON")
    search.set_defaults(run=run_query)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
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


def _entries(items: Iterator[Item], progress: _Progress) -> Iterator[Entry]:
    for item in items:
        progress.done_bytes = item.done_bytes
        yield item.problem or item.article


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal, and the
    problems met, one line each."""

    def __init__(self, total_bytes: int, quiet: bool) -> None:
        self.total = max(total_bytes, 1)
        self.done_bytes = 0
        self.quiet = quiet
        self.shown = False
        self.tty = sys.stderr.isatty() and not quiet
        self.drawn = 0.0

    def __call__(self, summary: Summary) -> None:
        now = time.monotonic()
        if not self.tty or now - self.drawn < 0.1:  # redraw at most ten times a second
            return
        self.drawn = now
        share = min(self.done_bytes / self.total, 1.0)
        bar = "#" * int(share * 30)
        docs = summary.indexed + summary.replaced
        sys.stderr.write(
            f"\r[{bar:<30}] {share:4.0%} {docs} docs, {len(summary.skipped)} skipped, "
            f"{summary.docs_per_second:.0f} docs/s "
        )
        sys.stderr.flush()
        self.shown = True

    def problem(self, problem: Problem) -> None:
        if self.quiet:
            return
        self.clear()
        print(f"{'skipped' if problem.skipped else 'warning'}: {problem}", file=sys.stderr)

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            self.shown = False


def _log_commit(summary: Summary) -> None:
    logging.getLogger("search.index").info("committed %d documents", summary.committed)


def run_index(args: argparse.Namespace) -> int:
    columns = _columns(args.columns)
    root = index_root(args.index)
    total, items = read_paths(args.paths, columns)
    progress = _Progress(total, args.quiet)
    summary = write(
        _entries(items, progress),
        root,
        rebuild=args.rebuild,
        on_progress=progress,
        on_problem=progress.problem,
        on_commit=_log_commit,
    )
    progress.clear()
    print(f"{summary.line()} -> {root}")
    return EXIT_SKIPPED if summary.skipped else EXIT_OK


def run_tags(args: argparse.Namespace) -> int:
    _, items = read_paths(args.paths, _columns(args.columns))
    out, skipped = [], False
    for item in items:
        if item.problem is not None:
            skipped = skipped or item.problem.skipped
            kind = "skipped" if item.problem.skipped else "warning"
            print(f"{kind}: {item.problem}", file=sys.stderr)
        elif item.article is not None:
            tagged = tag(item.article)
            data = tagged.to_json()
            data["spellings"] = tagged.spellings()
            data["rules"] = tagged.rules()
            data["body_chars"] = len(item.article.body)
            if args.body:
                data["body"] = item.article.body
            out.append(data)
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return EXIT_SKIPPED if skipped else EXIT_OK


def _stale(root: Path, paths: list[str]) -> bool:
    """True when the index is missing or older than any file under `paths`."""
    pointer = root / POINTER
    if not pointer.exists():
        return True
    built = pointer.stat().st_mtime
    files, _ = find_files(paths)
    return any(f.stat().st_mtime > built for f in files)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn  # imported here: the other commands need no server

    flags = {
        "index": args.index,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "cors_origins": args.cors,
        "api_key": args.api_key,
        "read_key": args.read_key,
    }
    for name, value in flags.items():
        if value is not None:  # the app factory reads settings from the environment
            os.environ[settings.SETTINGS[name].env] = str(value)
    settings.check()
    root = index_root().resolve()
    if args.build and _stale(root, args.build):
        total, items = read_paths(args.build)
        progress = _Progress(total, False)
        summary = write(_entries(items, progress), root, rebuild=True, on_problem=progress.problem)
        print(f"{summary.line()} -> {root}", file=sys.stderr)
    os.environ[settings.SETTINGS["index"].env] = str(
        root
    )  # the app factory reads it, in every worker
    _readable(root)
    from search import logs, metrics, sockets

    sockets.share_port()
    metrics.prepare_multiprocess_dir()  # counters of all workers add up at /metrics
    uvicorn.run(
        "search.server:create_app",
        factory=True,
        host=settings.get("host"),
        port=settings.get("port"),
        workers=settings.get("workers"),
        log_level="warning",
        log_config=logs.uvicorn_log_config(settings.text("log_format") or "plain"),
    )
    return EXIT_OK


def _readable(root: Path) -> None:
    """Refuse to serve an index that exists but cannot be read (no index at all is served:
    searches answer 503 until one is built or written)."""
    if not (root / POINTER).exists():
        return
    try:
        with open_index(root).searcher() as searcher:
            searcher.doc_count()
    except Exception as error:  # any failure: the reason, on one line
        reason = " ".join(str(error).split()) or type(error).__name__
        raise UsageError(f"cannot read the index in {root}: {reason}") from None


def run_export(args: argparse.Namespace) -> int:
    from search import export, opensearch

    root = index_root(args.index)
    if args.mapping:
        json.dump(opensearch.opensearch_mapping(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    started = time.perf_counter()
    if args.format == "opensearch":
        count = opensearch.opensearch_bulk(root, sys.stdout, args.name)
    else:
        count = export.export_jsonl(root, sys.stdout)
    seconds = time.perf_counter() - started
    print(f"exported {count} documents in {seconds:.1f} s", file=sys.stderr)
    return EXIT_OK


def run_optimize(args: argparse.Namespace) -> int:
    from search import maintenance

    before, after = maintenance.optimize(index_root(args.index))
    print(f"segments: {before} -> {after}")
    return EXIT_OK


def run_check(args: argparse.Namespace) -> int:
    from search import verify

    root = index_root(args.index)
    problems = verify.check(root, postings=not args.quick)
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{root}: {'damaged' if problems else 'healthy'}", file=sys.stderr)
    return EXIT_ERROR if problems else EXIT_OK


def run_snapshot(args: argparse.Namespace) -> int:
    from search import maintenance

    count = maintenance.snapshot(index_root(args.index), args.dest)
    print(f"snapshot of {count} documents -> {args.dest}")
    return EXIT_OK


def run_settings(args: argparse.Namespace) -> int:
    rows = settings.effective()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        value = "(unset)" if row["value"] is None else row["value"]
        print(f"{row['name']:<{width}}  {value!s:<24} {row['source']}")
    return EXIT_OK


def run_query(args: argparse.Namespace) -> int:
    from search import terminal
    from search.query import search
    from search.request import parse_request
    from search.service import Service

    params: dict[str, list[str]] = {
        "q": [args.q],
        "sort": [args.sort],
        "page": [args.page],
        "per_page": [args.per_page],
        "facets": [args.facets],
    }
    for pair in args.filter:
        name, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--filter: bad entry {pair!r}; use FACET=VALUE")
        params.setdefault(name.strip(), []).append(value)
    if args.date_from:
        params["from"] = [args.date_from]
    if args.date_to:
        params["to"] = [args.date_to]
    request = parse_request(params)
    result = search(Service(index_root(args.index)).view(), request)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(terminal.render(result, color=sys.stdout.isatty()))
    return EXIT_OK
