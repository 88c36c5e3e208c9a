"""Arabic script, normalised for matching and indexing in one place.

- fold: diacritics (tashkeel), Quranic marks and tatweel go; alef forms (أ إ آ ٱ) become ا,
  ى becomes ي, ة becomes ه (a final ta marbuta is written both ways); Arabic-Indic and Eastern
  digits become 0-9. Hamza on a seat (أ ؤ ئ) is a mark under NFD, so it goes too.
- match_key: what the gazetteer matches a folded word by: without the article ال, so that a
  name listed as الرقة is found written رقة, and the reverse.
- clitic_forms: a word without the conjunctions, prepositions and article attached in
  front of it (و ف ب ل ك ال and their combinations: بحلب, والرقة, للنظام), shortest first;
  the matcher tries them only when the word as written is not a name, so a name beginning
  with those letters (بغداد, لبنان, كركوك, فلسطين) is never cut.
"""

from __future__ import annotations

import re
import unicodedata

# Marks removed by fold (beyond the Latin combining marks the gazetteer removes already).
MARKS = (
    dict.fromkeys(range(0x0610, 0x061B))
    | dict.fromkeys(range(0x064B, 0x0660))
    | {0x0670: None, 0x0640: None}  # superscript alef, tatweel
    | dict.fromkeys(range(0x06D6, 0x06EE))
)
LETTERS = {0x0671: "\u0627", 0x0649: "\u064a", 0x0629: "\u0647"}  # ٱ -> ا, ى -> ي, ة -> ه
DIGITS = {0x0660 + i: str(i) for i in range(10)} | {0x06F0 + i: str(i) for i in range(10)}
# Marks and tatweel inside a word keep it one word (حَلَب is one token, not three).
WORD_MARKS = "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
_SCRIPT = re.compile(r"[\u0600-\u06ff]")
_ARTICLE = "\u0627\u0644"  # ال
# Attached words, shortest first (a name that begins with one of these letters loses as
# little as can be): و/ف (and), then ب/ل/ك (in, to, like), then ال (the); ل before ال drops
# the alef: لل.
_PREFIXES = tuple(
    sorted(
        (
            {
                conj + prep + art
                for conj in ("", "\u0648", "\u0641")
                for prep in ("", "\u0628", "\u0644", "\u0643")
                for art in ("", _ARTICLE)
            }
            | {conj + "\u0644\u0644" for conj in ("", "\u0648", "\u0641")}
        )
        - {""},
        key=len,
    )
)
MIN_STEM = 2  # letters a name keeps after its clitics are taken away


_FOLD_TEXT = str.maketrans(MARKS | LETTERS | DIGITS)


def fold_text(text: str) -> str:
    """Text with its Arabic folded (see fold) and Eastern digits as 0-9; other letters kept.
    Hamza seats fold through NFD."""
    if not has_arabic(text) and text.isascii():
        return text
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_FOLD_TEXT))


def has_arabic(text: str) -> bool:
    return _SCRIPT.search(text) is not None


def is_arabic(word: str) -> bool:
    """True when a (folded) word is written in Arabic script."""
    return bool(word) and "\u0600" <= word[0] <= "\u06ff"


def match_key(key: str) -> str:
    """A folded Arabic word without its article: الرقة -> رقه."""
    if key.startswith(_ARTICLE) and len(key) - 2 >= MIN_STEM:
        return key[2:]
    return key


def clitic_forms(key: str, keep: frozenset[str] = frozenset()) -> list[str]:
    """The folded word without the clitics in front of it, shortest cut first, each without
    its article too (`match_key`): بالرقه -> [الرقه -> رقه, ...]. A word in `keep` keeps its
    article, with or without clitics (القطر, بالقطر)."""
    out: list[str] = []
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) - len(prefix) >= MIN_STEM:
            rest = key[len(prefix) :]
            if _ARTICLE + rest in keep or rest in keep:
                continue
            rest = match_key(rest)
            if rest not in out:
                out.append(rest)
    return out


def without_conjunction(word: str) -> str:
    """A folded word without a leading و/ف when a preposition or the article follows it
    (وبالرقه -> بالرقه): ISRI takes off three letters of prefix at most."""
    if len(word) > 5 and word[0] in "\u0648\u0641" and word.startswith(_LONG, 1):
        return word[1:]
    return word


_LONG = ("\u0628\u0627\u0644", "\u0643\u0627\u0644", "\u0644\u0644", "\u0627\u0644")
