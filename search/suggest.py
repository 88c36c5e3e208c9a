"""Suggestions: "did you mean" for a query with few hits, and completions for a search box."""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any

import numpy as np
from whoosh.automata.lev import levenshtein_automaton
from whoosh.codec.base import Automata

from search import arabic, gazetteer
from search.compiler import stems, term_text
from search.querylang import And, Node, Or, Word, parse
from search.request import SearchRequest
from search.view import View, build, match

MAX_CORRECTED = 3  # words of a query corrected: past that, "did you mean" guesses at random
MAX_LETTERS = 24  # no longer word is a typo of a name or of a word of the news
JOINERS = str.maketrans("", "", "-'’")  # within a word (al-Nusra, Assad's), not letters


@cache
def _alias_words() -> dict[str, str]:
    """folded alias -> the canonical name to suggest (`mosol` is close to `mosul` -> Mosul)."""
    gaz = gazetteer.load()
    out: dict[str, str] = {}
    for kind in ("faction", "place"):
        for alias in gaz.matchers[kind].aliases():
            if alias.exact is None:
                out.setdefault(" ".join(alias.keys), alias.entity.name)
    return out


@cache
def _alias_letters() -> tuple[list[str], np.ndarray, np.ndarray]:
    """The folded aliases, their lengths, and how often each letter class (code point mod 64)
    occurs in each: one row per alias."""
    aliases = list(_alias_words())
    lengths = np.array([len(a) for a in aliases])
    rows = np.repeat(np.arange(len(aliases)), lengths)
    letters = np.array([ord(c) & 63 for c in "".join(aliases)], np.intp)
    counts = np.zeros((len(aliases), 64), np.uint8)
    np.add.at(counts, (rows, letters), 1)
    return aliases, lengths.astype(np.float64), counts


def _close_alias(word: str, cutoff: float = 0.8) -> str | None:
    """difflib.get_close_matches(word, aliases, n=1, cutoff), the same answer in a tenth of
    the time: letter counts by class bound difflib's quick_ratio from above, so the aliases
    they rule out would fail it, and difflib sees only the rest, in the same order."""
    aliases, lengths, counts = _alias_letters()
    wanted = np.zeros(64, np.uint8)
    np.add.at(wanted, [ord(c) & 63 for c in word], 1)
    bound = 2.0 * np.minimum(counts, wanted).sum(axis=1) / (lengths + len(word))
    kept = [aliases[i] for i in np.flatnonzero(bound >= cutoff)]
    close = difflib.get_close_matches(word, kept, n=1, cutoff=cutoff)
    return _alias_words()[close[0]] if close else None


def _words(node: Node) -> list[Word]:
    if isinstance(node, Word):
        return [node] if node.field is None and not node.prefix else []
    if isinstance(node, (And, Or)):
        return [w for n in node.nodes for w in _words(n)]
    return []  # NOT branches, phrases, everything: nothing to correct


def _unknown(reader, q: str) -> list[Word]:
    """The first MAX_CORRECTED words of `q` to correct: written as they are (escaped words are
    left alone), of letters only (not a number or a code), of 3 to MAX_LETTERS letters, and
    not in the index. Each costs a search of the lexicon, which grows with the word."""
    out = []
    for word in sorted(_words(parse(q)), key=lambda w: w.start):
        written = q[word.start : word.start + len(word.text)] == word.text
        letters = gazetteer.fold(word.text).translate(JOINERS)
        if not written or not 3 <= len(word.text) <= MAX_LETTERS or not letters.isalpha():
            continue
        if not any(reader.doc_frequency("body", s) for s in stems(word.text)):
            out.append(word)
            if len(out) == MAX_CORRECTED:
                break
    return out


def suggestion(view: View, request: SearchRequest) -> dict | None:
    """'Did you mean': unknown words replaced by the closest place or faction name, else by
    the closest word of the index vocabulary. None when nothing better is found."""
    reader = view.searcher.reader()
    text, changed = request.q, False
    for word in reversed(_unknown(reader, request.q)):  # from the end: starts stay valid
        folded = gazetteer.fold(word.text)
        better = _close_alias(folded) or _closest_word(reader, folded)
        if better is None:
            continue
        text = text[: word.start] + better + text[word.start + len(word.text) :]
        changed = True
    if not changed:
        return None
    query, _ = build(
        view,
        SearchRequest(
            q=text, filters=request.filters, date_from=request.date_from, date_to=request.date_to
        ),
    )
    return {"q": text, "total": int(match(view, query).mask.sum())}


def _closest_word(reader, word: str) -> str | None:
    """The index word within two edits of `word`, most frequent first, as Whoosh's
    corrector ranks them. Asked of each segment (Whoosh's multi-segment reader has no
    automaton and measures the distance to every word of the lexicon) with one automaton:
    SegmentReader.terms_within would build it again for each."""
    found = set()
    dfa = levenshtein_automaton(word, 2).to_dfa()
    spelling = reader.schema["body"].spelling_fieldname("body")
    for leaf, _ in reader.leaf_readers():
        found.update(Automata.find_matches(dfa, leaf.cursor(spelling)))
    found = {w for w in found if ":" not in w and w != word}
    if not found:
        return None
    return min(found, key=lambda w: (-(reader.frequency("body", w) or 1), w))


def _completes(entity: gazetteer.Entity, wanted: str) -> bool:
    """True when the folded prefix `wanted` begins the entity's name, or its Arabic name
    (with or without the article: حل and الرق both complete)."""
    if gazetteer.fold(entity.name).startswith(wanted):
        return True
    if not entity.arabic:
        return False
    arabic_name = gazetteer.fold(entity.arabic)
    return arabic_name.startswith(wanted) or arabic.match_key(arabic_name).startswith(wanted)


def suggest(view: View, text: str, size: int = 10) -> dict:
    """Completions for a search box: faction and place names, then title words."""
    wanted = gazetteer.fold(text.strip())
    out: list[dict[str, Any]] = []
    if not wanted:
        return {"q": text, "suggestions": []}
    for kind in ("faction", "place"):
        counter = view.totals(kind)
        for entity in gazetteer.load().entities[kind].values():
            if _completes(entity, wanted) and counter.get(entity.name):
                item = {"text": entity.name, "kind": kind, "count": counter[entity.name]}
                if entity.arabic:
                    item["arabic"] = entity.arabic
                out.append(item)
    out.sort(key=lambda s: (-s["count"], s["text"]))
    reader = view.searcher.reader()
    words: list[dict[str, Any]] = []
    for term in reader.expand_prefix("spell_title", wanted):
        word = term_text(term)
        if ":" not in word:
            # The spelling lexicon only says a word occurs: count the titles with its stem.
            count = max((reader.doc_frequency("title", s) for s in stems(word)), default=0)
            words.append({"text": word, "kind": "word", "count": count})
    words.sort(key=lambda s: (-s["count"], s["text"]))
    seen = {s["text"].casefold() for s in out}
    out += [w for w in words if w["text"] not in seen]
    return {"q": text, "suggestions": out[:size]}
