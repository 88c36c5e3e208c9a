"""Settings as data: each has a name, a default, a help text and an environment variable
SEARCH_<NAME>. The server reads them when it starts; `search serve` flags set the same
variables, so every worker process sees the same values.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

MiB = 1024 * 1024


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot take."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: int | float | str | None
    help: str
    secret: bool = False  # never printed or logged
    minimum: float = 1

    @property
    def env(self) -> str:
        return "SEARCH_" + self.name.upper()

    def parse(self, raw: str) -> int | float | str:
        if self.secret and not (raw.isascii() and raw.isprintable() and raw == raw.strip()):
            # an HTTP header carries printable ASCII, and clients trim spaces: such a key
            # could never match
            raise SettingError(
                f"{self.env}: a key must be printable ASCII without spaces at its ends"
            )
        if not isinstance(self.default, int | float):
            return raw
        kind = type(self.default)
        try:
            value = kind(raw.strip().replace("_", ""))
        except ValueError:
            raise SettingError(f"{self.env}={raw!r}: expected a {kind.__name__}") from None
        if not math.isfinite(value) or value < self.minimum:
            raise SettingError(f"{self.env}={raw!r}: must be a number of at least {self.minimum:g}")
        return value


SETTINGS = {
    s.name: s
    for s in (
        Setting("index", "index", "index folder"),
        Setting(
            "api_key",
            None,
            "key for the write routes (Authorization: Bearer KEY); unset: writes refused",
            secret=True,
        ),
        Setting(
            "read_key", None, "key for the read routes too; unset: reads are open", secret=True
        ),
        Setting("cors_origins", "*", "origins allowed by CORS, comma-separated; * for any"),
        Setting("max_body_bytes", 10 * MiB, "largest request body; larger answers 413"),
        Setting("max_articles", 1000, "articles in one POST /documents; more answers 413"),
        Setting("max_field_bytes", 1 * MiB, "largest field of one posted article (UTF-8 bytes)"),
        Setting("max_query_length", 1000, "characters of query text"),
        Setting("max_clauses", 64, "words, phrases and prefixes in one query"),
        Setting("max_depth", 8, "nesting of parentheses and NOTs in one query"),
        Setting("max_expansion", 256, "words and facet values the prefixes of one query expand to"),
        Setting("max_per_page", 100, "hits per page"),
        Setting(
            "commit_docs",
            5000,
            "`search index` into a live index commits after this many documents...",
        ),
        Setting(
            "commit_seconds",
            5.0,
            "...or seconds, letting the server's writes take the lock in between",
            minimum=0,
        ),
        Setting("write_queue", 64, "write requests waiting in one worker; more answers 503"),
        Setting(
            "write_wait",
            10.0,
            "seconds a write waits for another writer (worker or CLI) before 503",
            minimum=0,
        ),
    )
}


def get(name: str) -> int | float | str | None:
    """The setting's value: its environment variable when set and not empty, else the default."""
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is None or raw == "":
        return setting.default
    return setting.parse(raw)


def check() -> None:
    """Raise SettingError naming every environment variable with a bad value."""
    problems = []
    for name in SETTINGS:
        try:
            get(name)
        except SettingError as error:
            problems.append(str(error))
    if problems:
        raise SettingError("; ".join(problems))
