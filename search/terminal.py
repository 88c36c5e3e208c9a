"""Output for a terminal: a progress bar for indexing, and a search result as text (hits with
highlighted snippets, then facets)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from search.files import Problem

if TYPE_CHECKING:
    from search.index import Summary


def _marked(fragment: dict, color: bool) -> str:
    text, out, position = fragment["text"], [], 0
    for start, end in fragment["ranges"]:
        out.append(text[position:start])
        word = text[start:end]
        out.append(f"\033[1;33m{word}\033[0m" if color else f"[{word}]")
        position = end
    out.append(text[position:])
    return "".join(out)


def _hits(count: int) -> str:
    return f"{count:,} hit" if count == 1 else f"{count:,} hits"


def render(result: dict, color: bool = False) -> str:
    lines = [f"{_hits(result['total'])} ({result['took_ms']} ms), page {result['page']}"]
    for number, hit in enumerate(
        result["hits"], start=(result["page"] - 1) * result["per_page"] + 1
    ):
        highlights = hit.get("highlights") or {}
        title = _marked(highlights["title"], color) if "title" in highlights else hit["title"]
        meta = ", ".join(str(v) for v in (hit["date"] or "undated", hit["source"], hit["id"]) if v)
        lines += ["", f"{number}. {title}", f"   {meta}"]
        for fragment in highlights.get("body", []):
            lines.append(f"   ... {_marked(fragment, color)} ...")
    for name, facet in result["facets"].items():
        if facet["values"]:
            values = ", ".join(f"{v['value']} ({v['count']})" for v in facet["values"])
            lines += ["", f"{name}: {values}{', ...' if facet['truncated'] else ''}"]
    if result.get("suggestion"):
        lines += [
            "",
            f"did you mean: {result['suggestion']['q']} ({_hits(result['suggestion']['total'])})",
        ]
    return "\n".join(lines) + "\n"


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal, and the
    problems met, one line each. The bar counts the input read; the one rate is the summary's,
    since a build on several cores reads faster than it indexes."""

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
        self._draw(min(self.done_bytes / self.total, 1.0), summary)

    def _draw(self, share: float, summary: Summary) -> None:
        bar = "#" * int(share * 30)
        docs = summary.indexed + summary.replaced
        sys.stderr.write(
            f"\r\033[K[{bar:<30}] {share:4.0%} {docs} docs read, "
            f"{len(summary.skipped)} skipped, {summary.seconds:.1f} s"
        )
        sys.stderr.flush()
        self.shown = True

    def finish(self, summary: Summary) -> None:
        """The bar at 100%, left on its line, once the input is all read and indexed."""
        if self.tty:
            self._draw(1.0, summary)
            sys.stderr.write("\n")
            sys.stderr.flush()
        self.shown = False

    def problem(self, problem: Problem) -> None:
        if self.quiet:
            return
        self.clear()
        print(f"{'skipped' if problem.skipped else 'warning'}: {problem}", file=sys.stderr)

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            self.shown = False
