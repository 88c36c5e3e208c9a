"""Read article files of every kind: text, JSON, JSON Lines and CSV, from files or folders.

Bad input never raises: each unreadable file, broken line or bad record becomes a Problem
naming where it is, and reading goes on with the rest.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from search.articles import (
    RECORD_KEYS,
    Article,
    ArticleError,
    parse_record,
    parse_text,
    record_value,
)

JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".jsonlines"}
CSV_SUFFIXES = {".csv", ".tsv"}
STREAMED = JSON_SUFFIXES | JSONL_SUFFIXES | CSV_SUFFIXES  # many articles: no one-article limit
MAX_TEXT_BYTES = 10 * 1024 * 1024  # one article file; larger is not an article
MAX_ID_LENGTH = 256
csv.field_size_limit(MAX_TEXT_BYTES)


def _latin1_bytes(error: UnicodeError) -> tuple[str, int]:
    """The five bytes Windows-1252 leaves undefined decode as their Latin-1 code points."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("latin-1-bytes", _latin1_bytes)


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input. `skipped` problems lost an article; others are warnings."""

    origin: str
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass(frozen=True)
class Item:
    """One result of reading: an article or a problem, and the bytes of input read so far."""

    article: Article | None
    problem: Problem | None
    done_bytes: int


def find_files(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Problem]]:
    """Expand folders recursively (hidden entries skipped), in a stable order."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files += [Path(folder, n) for n in sorted(names) if not n.startswith(".")]
        elif path.is_file():
            files.append(path)
        elif path.exists():
            problems.append(Problem(str(path), "not a regular file"))
        else:
            problems.append(Problem(str(path), "no such file or folder"))
    return files, problems


def read_paths(
    paths: Iterable[str | os.PathLike], columns: Mapping[str, str] | None = None
) -> tuple[int, Iterator[Item]]:
    """Total input bytes, and a stream of every article and problem found under `paths`."""
    files, problems = find_files(paths)
    total = sum(_size(f) for f in files)

    def stream() -> Iterator[Item]:
        for met in problems:
            yield Item(None, met, 0)
        done = 0
        for path in files:
            for article, problem, offset in read_file(path, columns):
                yield Item(article, problem, done + offset)
            done += _size(path)
            yield Item(None, None, done)

    return total, stream()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


Read = tuple[Article | None, Problem | None, int]


def read_file(path: Path, columns: Mapping[str, str] | None = None) -> Iterator[Read]:
    """Articles and problems of one file, each with the byte offset reached."""
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES and not _utf16(path):
        yield from _jsonl_lines(path, columns or {})
        return
    try:
        if suffix not in STREAMED and _size(path) > MAX_TEXT_BYTES:
            yield None, Problem(str(path), f"larger than {MAX_TEXT_BYTES} bytes"), 0
            return
        data = path.read_bytes()
    except OSError as error:
        yield None, Problem(str(path), f"cannot read: {error.strerror or error}"), 0
        return
    text, warning = decode(data)
    if text is None:
        yield None, Problem(str(path), warning or "cannot decode"), 0
        return
    if warning:
        yield None, Problem(str(path), warning, skipped=False), 0
    if not text.strip():
        yield None, Problem(str(path), "empty file"), 0
        return
    if suffix in JSON_SUFFIXES:
        yield from _json(path, text, columns or {})
    elif suffix in JSONL_SUFFIXES:
        yield from _jsonl(path, text, columns or {})
    elif suffix in CSV_SUFFIXES:
        yield from _csv(path, text, columns or {})
    else:
        yield _article(lambda: parse_text(text, path.stem, str(path)), str(path), 0)


def decode(data: bytes) -> tuple[str | None, str | None]:
    """Text of a file and a warning: UTF-8 (with or without BOM) or UTF-16 with a BOM;
    otherwise Windows-1252 (a superset of printable Latin-1), as old archives are;
    binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, "invalid UTF-16"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if b"\x00" in data[:8192]:  # NULs and not UTF-8: not text at all
            return None, "binary file (contains NUL bytes)"
        where = f"byte {error.start}"
    else:
        # Valid UTF-8 with a stray NUL (a corrupt line in an export) is still text: the
        # bad record is refused on its own and the rest is read.
        return text, "contains NUL bytes, dropped" if "\x00" in text else None
    return data.decode("cp1252", "latin-1-bytes"), f"not UTF-8 ({where}); decoded as Windows-1252"


def _article(make, origin: str, offset: int) -> Read:
    try:
        article = make()
    except ArticleError as error:
        return None, Problem(origin, str(error)), offset
    if not article.id or len(article.id) > MAX_ID_LENGTH:
        return None, Problem(origin, f"id must be 1 to {MAX_ID_LENGTH} characters"), offset
    return article, None, offset


def _content_id(path: Path, record: Mapping) -> str:
    """A stable id for a record that has none: the file stem and a hash of its content."""
    digest = hashlib.sha1(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()
    return f"{path.stem}-{digest[:12]}"


def _record(path: Path, record, origin: str, offset: int, columns=None) -> Iterator[Read]:
    if not isinstance(record, dict):
        yield None, Problem(origin, f"expected a JSON object, got {type(record).__name__}"), offset
        return
    article, problem, _ = _article(
        lambda: parse_record(record, _content_id(path, record), origin, columns), origin, offset
    )
    recorded = _recorded_origin(record)
    if article is not None and recorded is not None:
        article = dataclasses.replace(article, recorded_origin=recorded)
    indexed_at = _recorded_indexed_at(record)
    if article is not None and indexed_at is not None:
        article = dataclasses.replace(article, recorded_indexed_at=indexed_at)
    yield article, problem, offset
    if article is not None:
        for warning in article.warnings:
            yield None, Problem(origin, warning, skipped=False), offset


def _recorded_origin(record: Mapping) -> str | None:
    """Where a record of `search export` says its article was first read (its tags'
    "origin"), which a restore keeps; None for any other record."""
    tags = record.get("tags")
    origin = tags.get("origin") if isinstance(tags, dict) else None
    return origin if isinstance(origin, str) else None


def _recorded_indexed_at(record: Mapping) -> int | None:
    """When a record of `search export` says its article was first indexed (its
    "indexed_at", ISO 8601), in microseconds since 1970; None for any other record."""
    text = record.get("indexed_at")
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object that names a key twice is ambiguous (which title?): refuse it. This also
    defuses a "bomb" of one key repeated a million times."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"invalid JSON: key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return out


def loads(text: str) -> tuple[object, str | None, int | None]:
    """Parsed JSON, or None with what is wrong and on which line."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys), None, None
    except _DuplicateKey as error:
        return None, str(error), None
    except json.JSONDecodeError as error:
        return None, f"invalid JSON: {error.msg} (column {error.colno})", error.lineno
    except RecursionError:
        return None, "invalid JSON: nested too deeply", None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        return None, f"invalid JSON: {error}", None


def _json(path: Path, text: str, columns: Mapping[str, str]) -> Iterator[Read]:
    data, error, line = loads(text)
    if error:
        yield None, Problem(f"{path}:{line}" if line else str(path), error), 0
        return
    records = json_records(data)
    if records is None:
        message = f"expected a JSON object or array, got {type(data).__name__}"
        yield None, Problem(str(path), message), 0
        return
    for number, record in enumerate(records):
        yield from _record(path, record, f"{path}[{number}]", 0, columns)


def json_records(data: object) -> list | None:
    """The records of a JSON document: an article object, an array of them, or an object
    holding the array under articles / documents / items / data. None for anything else."""
    if isinstance(data, dict):
        nested = next(
            (
                data[k]
                for k in ("articles", "documents", "items", "data")
                if isinstance(data.get(k), list)
            ),
            None,
        )
        return nested if nested is not None and not _looks_like_article(data) else [data]
    if isinstance(data, list):
        return data
    return None


def _looks_like_article(data: dict) -> bool:
    keys = {str(k).lower() for k in data}
    return bool(keys & set(RECORD_KEYS["body"] + RECORD_KEYS["title"]))


def _jsonl(path: Path, text: str, columns: Mapping[str, str]) -> Iterator[Read]:
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        offset += len(line) + 1
        yield from _jsonl_line(path, number, line, offset, columns)


def _jsonl_line(path: Path, number: int, line: str, offset: int, columns) -> Iterator[Read]:
    if not line.strip():
        return
    origin = f"{path}:{number}"
    record, error, _ = loads(line)
    if error:
        yield None, Problem(origin, error), offset
        return
    yield from _record(path, record, origin, offset, columns)


def _utf16(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            return file.read(2) in (b"\xff\xfe", b"\xfe\xff")
    except OSError:
        return False  # reported by the reader


def _jsonl_lines(path: Path, columns: Mapping[str, str]) -> Iterator[Read]:
    """A JSON Lines file read a line at a time: an archive's export can be larger than the
    memory (read whole, 300,000 articles took 8 GB). As decode() reads a file: UTF-8, a line
    that is not decoded as Windows-1252 (with one warning), binary data refused."""
    offset = 0
    try:
        with open(path, "rb") as file:
            head = file.read(8192)
            file.seek(0)
            if b"\x00" in head and _not_utf8(head):
                yield None, Problem(str(path), "binary file (contains NUL bytes)"), 0
                return
            seen, warned = False, set()
            for number, raw in enumerate(file, start=1):
                offset += len(raw)
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as error:
                    line = raw.decode("cp1252", "latin-1-bytes")
                    if "cp1252" not in warned:
                        warned.add("cp1252")
                        where = f"line {number}, byte {error.start}"
                        message = f"not UTF-8 ({where}); such lines decoded as Windows-1252"
                        yield None, Problem(str(path), message, skipped=False), offset
                if "\x00" in line and "nul" not in warned:
                    warned.add("nul")
                    yield None, Problem(str(path), "contains NUL bytes, dropped", False), offset
                seen = seen or bool(line.strip())
                yield from _jsonl_line(path, number, line.rstrip("\r\n"), offset, columns)
    except OSError as error:
        yield None, Problem(str(path), f"cannot read: {error.strerror or error}"), offset
        return
    if not seen:
        yield None, Problem(str(path), "empty file"), 0


def _not_utf8(head: bytes) -> bool:
    """Whether the first bytes of a file are not UTF-8 (a character cut at the end is)."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.reason != "unexpected end of data"
    return False


def _csv(path: Path, text: str, columns: Mapping[str, str]) -> Iterator[Read]:
    sample = text[:65536]
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(sample)
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except (csv.Error, StopIteration) as error:
        yield None, Problem(f"{path}:1", f"unreadable CSV header: {error}"), stream.tell()
        return
    missing = [c for c in columns.values() if c not in header]
    if missing:
        yield (
            None,
            Problem(
                str(path), f"no column named {', '.join(map(repr, missing))}; columns are {header}"
            ),
            0,
        )
        return
    probe = dict.fromkeys(header, "x")
    if not any(_column(probe, name, columns) for name in ("title", "body")):
        yield (
            None,
            Problem(
                str(path),
                f"no title or body column among {header}; "
                "name them with --columns title=NAME,body=NAME",
            ),
            0,
        )
        return
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield None, Problem(f"{path}:{line}", f"malformed CSV row: {error}"), stream.tell()
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield (
                None,
                Problem(f"{path}:{line}", f"expected {len(header)} fields, found {len(row)}"),
                0,
            )
            continue
        yield from _record(
            path, dict(zip(header, row, strict=True)), f"{path}:{line}", stream.tell(), columns
        )


def _column(row: Mapping[str, str], name: str, columns: Mapping[str, str]) -> bool:
    return record_value(row, name, columns) is not None


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","
