"""What each command of the CLI does (search.cli parses the command line and turns errors into
one line and an exit code)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from search import settings
from search.articles import RECORD_KEYS
from search.files import Item, find_files, read_paths
from search.generations import POINTER, index_root, open_index
from search.index import Entry, Summary, write
from search.tagging import tag
from search.terminal import Progress, render

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


def _entries(items: Iterator[Item], progress: Progress) -> Iterator[Entry]:
    for item in items:
        progress.done_bytes = item.done_bytes
        yield item.problem or item.article


def _log_commit(summary: Summary) -> None:
    logging.getLogger("search.index").info("committed %d documents", summary.committed)


def _existing(paths: list[str]) -> None:
    """A path that is not there is a typo, not input to skip: stop before creating anything."""
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"no such file or folder: {path}")


def run_index(args: argparse.Namespace) -> int:
    columns = _columns(args.columns)
    _existing(args.paths)
    root = index_root(args.index)
    total, items = read_paths(args.paths, columns)
    progress = Progress(total, args.quiet)
    summary = write(
        _entries(items, progress),
        root,
        rebuild=args.rebuild,
        on_progress=progress,
        on_problem=progress.problem,
        on_commit=_log_commit,
    )
    progress.finish(summary)
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
    if args.build:
        _existing(args.build)
    if args.build and _stale(root, args.build):
        total, items = read_paths(args.build)
        progress = Progress(total, False)
        summary = write(
            _entries(items, progress),
            root,
            rebuild=True,
            on_progress=progress,
            on_problem=progress.problem,
        )
        progress.finish(summary)
        print(f"{summary.line()} -> {root}", file=sys.stderr)
    os.environ[settings.SETTINGS["index"].env] = str(
        root
    )  # the app factory reads it, in every worker
    _readable(root)
    from search import logs, metrics, serving, sockets

    host, port = str(settings.get("host")), settings.integer("port")
    if serving.port_taken(host, port):
        raise UsageError(
            f"port {port} on {host} is in use by another program; "
            f"pick another with --port N (or ${settings.SETTINGS['port'].env})"
        )
    serving.announce_when_ready(host, port, _ready)
    sockets.bind_tcp()
    metrics.prepare_multiprocess_dir()  # counters of all workers add up at /metrics
    uvicorn.run(
        "search.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=settings.integer("workers"),
        log_level="warning",
        log_config=logs.uvicorn_log_config(settings.text("log_format") or "plain"),
    )
    return EXIT_OK


def _ready(url: str) -> None:
    print(f"search: serving {url} (Ctrl-C to stop)", file=sys.stderr, flush=True)


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


def run_saved(args: argparse.Namespace) -> int:
    from search.saved import SavedSearch, Store

    store = Store(index_root(args.index))
    if args.source is None:
        json.dump({"saved_searches": [s.to_json() for s in store.all()]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return EXIT_OK
    try:
        data = json.loads(args.source.read_text(encoding="utf-8"))
        searches = [SavedSearch.from_json(item) for item in data["saved_searches"]]
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{args.source} is not a file of `search saved`: {error}") from None
    count = store.merge(searches)
    print(f"imported {count} saved searches into {store.path}", file=sys.stderr)
    return EXIT_OK


def run_settings(args: argparse.Namespace) -> int:
    rows = settings.effective()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    values = ["(unset)" if row["value"] is None else str(row["value"]) for row in rows]
    width = max(len(r["name"]) for r in rows)
    value_width = max(len(v) for v in values)  # long values push the column, not into it
    for row, value in zip(rows, values, strict=True):
        print(f"{row['name']:<{width}}  {value:<{value_width}}  {row['source']}".rstrip())
    return EXIT_OK


def run_query(args: argparse.Namespace) -> int:
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
    if args.format:
        return _export(args, params)
    request = parse_request(params)
    result = search(Service(index_root(args.index)).view(), request)
    if args.json:
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render(result, color=sys.stdout.isatty()))
    return EXIT_OK


def _export(args: argparse.Namespace, params: dict[str, list[str]]) -> int:
    """`search query --format csv|jsonl`: every match, streamed to stdout."""
    from search import streaming
    from search.request import parse_request
    from search.view import View

    params = {k: v for k, v in params.items() if k not in ("page", "per_page")}
    params |= {"fields": [args.fields], "body": ["true" if args.body else "false"]}
    request = parse_request(params, allowed=tuple(streaming.PARAMETERS))
    fields = streaming.fields_of(params)
    view = View(open_index(index_root(args.index)).searcher())
    exported = streaming.Export(view, request, view.close)
    out = sys.stdout.buffer
    for chunk in exported.lines(fields, args.format):
        out.write(chunk)
    out.flush()
    return EXIT_OK
