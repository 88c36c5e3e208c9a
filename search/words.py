"""Words as the gazetteer and the analyzer see them: word spans and folded forms.

A word is a run of letters and digits (Arabic marks inside a word keep it whole). Folding makes
a word case- and diacritic-insensitive, reads Kurdish and Turkish letters as English
transliterates them, and Arabic as search/arabic.py says.
"""

from __future__ import annotations

import re
import unicodedata

from search import arabic

# Runs of letters and digits. Plain `re`, not nltk's RegexpTokenizer: nltk 3.9 wraps every
# pattern in a wall-clock timeout check. Unrolled (letters, then marks and letters), so a word
# without marks is one run of a single character class.
_WORDS = re.compile(rf"[^\W_]+(?:[{arabic.WORD_MARKS}]+[^\W_]*)*")
_SLUG = re.compile(r"[^a-z0-9]+")
_MARKS = (
    dict.fromkeys(i for i in range(0x300, 0x370))
    | {0x2BE: None, 0x2BF: None, 0x2BB: None}
    | arabic.MARKS
    | arabic.LETTERS
    | arabic.DIGITS
)
# Letters that Kurdish and Turkish write and English transliterates with two (Qamişlo).
_LETTERS = str.maketrans({"ş": "sh", "Ş": "Sh", "ç": "ch", "Ç": "Ch", "ı": "i", "İ": "I"})


def fold(word: str) -> str:
    """Case- and diacritic-insensitive form of a word (`Ḥalab` -> `halab`, `Qamişlo` ->
    `qamishlo`, `حَلَب` -> `حلب`; see search/arabic.py)."""
    if word.isascii():
        return word.casefold()
    word = word.translate(_LETTERS)
    return unicodedata.normalize("NFD", word).translate(_MARKS).casefold()


def folded_words(text: str, spans) -> list[str]:
    """fold() of each word of `text` at `spans`, with fold()'s ASCII case inline: no Python
    call for most words of an English text (tagging and indexing fold every word)."""
    return [w.casefold() if (w := text[s:e]).isascii() else fold(w) for s, e in spans]


def slugify(name: str) -> str:
    return _SLUG.sub("-", fold(name)).strip("-")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the word tokens of a text."""
    return [match.span() for match in _WORDS.finditer(text)]
