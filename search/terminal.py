"""A search result as text for a terminal: hits with highlighted snippets, then facets."""

from __future__ import annotations


def _marked(fragment: dict, color: bool) -> str:
    text, out, position = fragment["text"], [], 0
    for start, end in fragment["ranges"]:
        out.append(text[position:start])
        word = text[start:end]
        out.append(f"\033[1;33m{word}\033[0m" if color else f"[{word}]")
        position = end
    out.append(text[position:])
    return "".join(out)


def render(result: dict, color: bool = False) -> str:
    lines = [f"{result['total']} hits ({result['took_ms']} ms), page {result['page']}"]
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
            f"did you mean: {result['suggestion']['q']} ({result['suggestion']['total']} hits)",
        ]
    return "\n".join(lines) + "\n"
