"""Saved searches: named searches kept in the index folder, and "new since" tokens.

They live in `saved-searches.json` beside CURRENT, outside every generation, so a rebuild
(which switches generations) keeps them; a snapshot copies the file; `search saved-searches
export` and `import` move them with an export of the documents. Every change rewrites the
file whole (a temporary file, fsync, rename, fsync of the folder) under an flock shared by
the workers of one server and the CLI: a 2xx means the change is on disk.

A `since` token marks how far a reader has seen: an article is new when it was indexed
after it (`indexed_at`, not its date: an old report added today is new).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from search.errors import BadParameter, NotFound
from search.whoosh_ext import fsync_path

FILE = "saved-searches.json"
LOCK = "saved-searches.lock"
MAX_SAVED = 1000  # saved searches in one index folder
MAX_NAME = 200


@dataclass(frozen=True)
class Since:
    """Seen: every article indexed before `stamp`, and those of `stamp` up to id `last`
    (None: all of them)."""

    stamp: int
    last: str | None = None

    def encode(self) -> str:
        raw = orjson.dumps([self.stamp, self.last])
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def is_new(self, stamp: int, doc_id: str) -> bool:
        """Whether an article indexed at `stamp` with `doc_id` comes after this mark."""
        if stamp != self.stamp:
            return stamp > self.stamp
        return self.last is not None and doc_id > self.last


def since_of(token: str) -> Since:
    """The mark of a `since` token; BadParameter naming `since` when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        stamp, last = orjson.loads(raw)
        if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp < 0:
            raise ValueError
        if last is not None and not isinstance(last, str):
            raise ValueError
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadParameter(
            "since is not a token of this service: pass the `since` or `next` of an answer",
            "since",
        ) from None
    return Since(stamp, last)


@dataclass(frozen=True)
class SavedSearch:
    """A named search: the parameters of /search it runs, and where it started."""

    id: str
    name: str
    params: dict[str, list[str]]
    created: str  # ISO 8601 UTC
    since: str  # the token of its creation: everything indexed later is new

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "params": self.params,
            "created": self.created,
            "since": self.since,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> SavedSearch:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            params={str(k): [str(v) for v in vs] for k, vs in dict(data["params"]).items()},
            created=str(data["created"]),
            since=str(data["since"]),
        )


def body_params(body: object, allowed: Sequence[str]) -> tuple[str, dict[str, list[str]]]:
    """The name and search parameters of a POST /saved-searches body: a JSON object with
    `name` and any parameter of /search (a string, or a list of strings for several)."""
    if not isinstance(body, dict):
        raise BadParameter("the body must be a JSON object with name and search parameters", "body")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise BadParameter(f"name must be a text of 1 to {MAX_NAME} characters", "name")
    params: dict[str, list[str]] = {}
    for key, value in body.items():
        if key == "name":
            continue
        if key not in allowed:
            raise BadParameter(f"unknown parameter {key[:40]!r}", key[:40])
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise BadParameter(f"{key} must be a text or a list of texts", key)
        params[key] = list(values)
    return name.strip(), params


class Store:
    """The saved searches of the index folder `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / FILE

    def all(self) -> list[SavedSearch]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        return [SavedSearch.from_json(item) for item in data.get("saved_searches", [])]

    def get(self, saved_id: str) -> SavedSearch:
        for saved in self.all():
            if saved.id == saved_id:
                return saved
        raise NotFound(f"no saved search with id {saved_id[:80]!r}", "id")

    def add(self, name: str, params: dict[str, list[str]], since: Since) -> SavedSearch:
        """Save a search; on disk when this returns."""
        with self._locked():
            current = self.all()
            if len(current) >= MAX_SAVED:
                raise BadParameter(f"at most {MAX_SAVED} saved searches; delete some", "body")
            saved = SavedSearch(
                id=secrets.token_urlsafe(9),
                name=name,
                params=params,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                since=since.encode(),
            )
            self._write([*current, saved])
        return saved

    def delete(self, saved_id: str) -> None:
        """Delete a saved search (NotFound when there is none); on disk when this returns."""
        with self._locked():
            current = self.all()
            kept = [s for s in current if s.id != saved_id]
            if len(kept) == len(current):
                raise NotFound(f"no saved search with id {saved_id[:80]!r}", "id")
            self._write(kept)

    def merge(self, searches: Sequence[SavedSearch]) -> int:
        """Add searches (an import), replacing those with the same id; returns how many."""
        with self._locked():
            incoming = {s.id: s for s in searches}
            kept = [s for s in self.all() if s.id not in incoming]
            self._write([*kept, *incoming.values()])
        return len(incoming)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _write(self, searches: Sequence[SavedSearch]) -> None:
        write_file(self.path, {"saved_searches": [s.to_json() for s in searches]})


def write_file(path: Path, data: object) -> None:
    """Write JSON to `path` durably: a temporary file synced, renamed over it, the folder
    synced. A reader sees the old file or the new one, never part of one."""
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_path(path.parent)
