"""Text clean-up shared by every parser: Unicode normalisation and Markdown links."""

from __future__ import annotations

import re
import unicodedata

# Typographic characters folded to their ASCII twins so that tagging and search see one form.
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2004": " ",
        "\u2005": " ",
        "\u2006": " ",
        "\u2008": " ",
        "\u3000": " ",
        "\t": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
        "\u200e": None,
        "\u200f": None,
        "\r": None,
        "\u2028": "\n",
        "\u2029": "\n",
        "\x85": "\n",
        "\x0b": "\n",
        "\x0c": "\n",
    }
)
# Other C0/C1 controls (NUL included) carry no text: drop them rather than index them. So do
# bidirectional embeddings, overrides and isolates: they can make text display otherwise
# than it reads (U+202E turns "gpj.exe" around), and news text has no use for them.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_SPACES = re.compile(r" {2,}")


def normalise(text: str) -> str:
    """NFC, straight quotes, plain spaces and hyphens, no control or zero-width characters."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    return _CONTROLS.sub("", text)


def strip_markdown(text: str) -> str:
    """Markdown links become their text (`[South Front](#)` -> `South Front`), bold marks go.
    Repeated until nothing changes, so that nested marks (`[[a](b)](c)`) go too and cleaning
    cleaned text changes nothing (an export re-indexes to the same text)."""
    while True:
        before = text
        text = _MD_LINK.sub(r"\1", text)
        text = _MD_AUTOLINK.sub(r"\1", text)
        text = _MD_BOLD.sub(r"\2", text)
        if text == before:
            return text


def clean(text: str) -> str:
    """normalise + strip_markdown + collapse runs of spaces, line by line (newlines kept)."""
    lines = (_SPACES.sub(" ", strip_markdown(line)).strip() for line in normalise(text).split("\n"))
    return "\n".join(lines)


def paragraphs(lines: list[str]) -> str:
    """Join non-empty lines into paragraphs separated by one blank line."""
    return "\n\n".join(line for line in lines if line)
