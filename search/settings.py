"""Settings as data: each has a name, a default, a help text and an environment variable
SEARCH_<NAME>, and may also come from a TOML file (`--config FILE`, or SEARCH_CONFIG).

Precedence: a command-line flag, then the environment, then the config file, then the default.
`search serve` turns its flags into the environment variables (and passes the config file as
SEARCH_CONFIG), so every worker process sees the same values. The server reads them at start.
"""

from __future__ import annotations

import math
import os
import tomllib
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
    maximum: float = math.inf

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
            wanted = "a whole number" if kind is int else "a number"
            raise SettingError(f"{self.env}={raw!r}: expected {wanted}") from None
        if not math.isfinite(value) or value < self.minimum or value > self.maximum:
            raise SettingError(
                f"{self.env}={raw!r}: must be a number from {self.minimum:g} to {self.maximum:g}"
            )
        return value


SETTINGS = {
    s.name: s
    for s in (
        Setting("config", None, "TOML file of settings (names as below, lower case)"),
        Setting("index", "index", "index folder"),
        Setting("host", "127.0.0.1", "address `search serve` listens on"),
        Setting("port", 8000, "port `search serve` listens on", maximum=65535),
        Setting("workers", 1, "worker processes of `search serve`"),
        Setting("log_level", "info", "debug, info, warning or error"),
        Setting("log_format", "plain", "plain, or json for one JSON object per line"),
        Setting("fragments", 3, "body fragments per hit when a request does not say", minimum=0),
        Setting("fragment_size", 160, "characters per fragment when a request does not say"),
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
            "cache_size",
            256,
            "recent /search answers each worker keeps until the index changes; 0: none",
            minimum=0,
        ),
        Setting(
            "postings_cache_mb",
            192,
            "MiB of decoded postings each worker keeps (search.segment_arrays)",
            minimum=1,
        ),
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
        Setting(
            "index_jobs",
            0,
            "processes that tag and index a new build (`search index` into a new index or "
            "with --rebuild); 0: one per core",
            minimum=0,
        ),
        Setting(
            "story_jaccard",
            0.8,
            "two bodies sharing this Jaccard share of their 5-word shingles are one story",
            minimum=0.5,
            maximum=1,
        ),
        Setting(
            "story_containment",
            0.8,
            "...or when this share of the shorter body's shingles is in the longer body...",
            minimum=0.5,
            maximum=1,
        ),
        Setting(
            "story_overlap",
            0.5,
            "...and this share of the longer body's shingles is in the shorter (reposts that "
            "add or drop paragraphs)",
            minimum=0.5,
            maximum=1,
        ),
        Setting(
            "story_min_shared",
            50,
            "...and they share at least this many shingles (two short texts quoting one "
            "sentence are not one report)",
        ),
        Setting(
            "story_min_words",
            25,
            "bodies with fewer words than this are stories of their own (too short to tell)",
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


CHOICES = {"log_level": ("debug", "info", "warning", "error"), "log_format": ("plain", "json")}


def get(name: str) -> int | float | str | None:
    """The setting's value: its environment variable when set and not empty, else the config
    file's value, else the default."""
    return lookup(name)[0]


def integer(name: str) -> int:
    """The value of a setting whose default is a whole number."""
    value = get(name)
    assert isinstance(value, int), name
    return value


def number(name: str) -> float:
    """The value of a setting whose default is a number."""
    value = get(name)
    assert isinstance(value, int | float), name
    return value


def text(name: str) -> str | None:
    """The value of a setting whose default is text, or None (unset)."""
    value = get(name)
    assert value is None or isinstance(value, str), name
    return value


def lookup(name: str) -> tuple[int | float | str | None, str]:
    """The value and where it came from: "env SEARCH_X", "config FILE" or "default"."""
    setting = SETTINGS[name]
    raw = os.environ.get(setting.env)
    if raw is not None and raw != "":
        return _valid(setting, setting.parse(raw)), f"env {setting.env}"
    path = os.environ.get(SETTINGS["config"].env)
    if path and name != "config":
        values = _config(path)
        if name in values:
            value = values[name]
            text = value if isinstance(value, str) else str(value)
            try:
                return _valid(setting, setting.parse(text)), f"config {path}"
            except SettingError as error:
                raise SettingError(
                    f"{path}: {name}: {error}".replace(setting.env + "=", "")
                ) from None
    return setting.default, "default"


def _valid(setting: Setting, value):
    allowed = CHOICES.get(setting.name)
    if allowed and value not in allowed:
        raise SettingError(f"{setting.env}={value!r}: must be one of {', '.join(allowed)}")
    return value


_CONFIGS: dict[str, dict] = {}


def _config(path: str) -> dict:
    """The settings of a TOML file, read once; unknown names are errors, not ignored."""
    if path not in _CONFIGS:
        try:
            with open(path, "rb") as handle:
                values = tomllib.load(handle)
        except OSError as error:
            raise SettingError(f"config file {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise SettingError(f"config file {path}: {error}") from None
        except UnicodeDecodeError:
            raise SettingError(f"config file {path}: not UTF-8") from None
        unknown = sorted(set(values) - set(SETTINGS) | ({"config"} & set(values)))
        if unknown:
            raise SettingError(f"config file {path}: unknown setting {unknown[0]!r}")
        bad = [
            k
            for k, v in values.items()
            if isinstance(v, bool) or not isinstance(v, str | int | float)
        ]
        if bad:
            raise SettingError(f"config file {path}: {bad[0]} must be text or a number")
        _CONFIGS[path] = values
    return _CONFIGS[path]


def check() -> None:
    """Raise SettingError naming every environment variable or config value that is bad."""
    problems = []
    for name in SETTINGS:
        try:
            get(name)
        except SettingError as error:
            problems.append(str(error))
    if problems:
        raise SettingError("; ".join(dict.fromkeys(problems)))


def effective() -> list[dict]:
    """Every setting with its value (keys masked) and where it came from."""
    out = []
    for setting in SETTINGS.values():
        value, source = lookup(setting.name)
        if setting.secret and value is not None:
            value = "*" * 8
        out.append({"name": setting.name, "env": setting.env, "value": value, "source": source})
    return out
