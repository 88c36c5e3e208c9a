"""The words of the actor rules (search/data/actors.toml), compiled once, and the questions
the rules (search/actors.py) ask of a text's words."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from search import gazetteer
from search.gazetteer import Entity, Mention

# Between the words of one phrase: spaces, hyphens, apostrophes, a period after an
# abbreviation, commas and slashes in a list of states ("Russian, Syrian and Iranian jets").
_GAP = re.compile(r"[\s\-'\u2019\u2013\u2014.,/]{1,3}")


@dataclass(frozen=True)
class State:
    country: str
    forces: Entity
    air: Entity
    led: Entity


@dataclass(frozen=True)
class Rules:
    """actors.toml, compiled: phrase matchers and word sets."""

    states: dict[str, State]  # country name -> its forces
    modifiers: frozenset[str]
    joiners: frozenset[str]
    verbs: tuple[tuple[str, ...], ...]
    helpers: frozenset[str]
    attacks: frozenset[str]
    followers: frozenset[str]  # words that may follow a state in some rule (besides nouns)
    reach: int
    by: tuple[tuple[str, ...], ...]
    not_before: tuple[tuple[str, ...], ...]
    not_after: frozenset[str]
    demonyms: frozenset[str]  # folded demonyms of every country
    name_nouns: frozenset[tuple[str, ...]]  # the nouns a bare state name may take
    coalition: Entity  # "the coalition" with a force noun
    coalition_not_after: frozenset[str]
    side_in_country: dict[tuple[str, str], Entity]  # (country, side) -> faction


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(gazetteer.fold(phrase[s:e]) for s, e in gazetteer.word_spans(phrase))


@cache
def rules() -> Rules:
    data = gazetteer.read_data("actors.toml")
    gaz = gazetteer.load()
    factions = gaz.entities["faction"]
    states = {}
    for item in data["state"]:
        forces = factions[item["forces"]]
        air = factions[item.get("air", item["forces"])]
        led = factions[item.get("led", item["forces"])]
        states[item["country"]] = State(item["country"], forces, air, led)
    nouns, government = data["nouns"], data["government"]
    countries = gazetteer.read_data("countries.toml")["country"]
    demonyms = {_words(d)[-1] for c in countries for d in c.get("demonyms", [])}
    return Rules(
        states=states,
        modifiers=frozenset(nouns["modifiers"]),
        joiners=frozenset(nouns["joiners"]),
        verbs=tuple(_words(v) for v in nouns["verbs"]),
        helpers=frozenset(nouns["helpers"]),
        attacks=frozenset(nouns["attacks"]),
        followers=frozenset(
            {"led", "s"}
            | set(nouns["modifiers"])
            | set(nouns["joiners"])
            | set(nouns["helpers"])
            | set(nouns["attacks"])
            | {_words(v)[0] for v in nouns["verbs"]}
        ),
        reach=int(nouns["reach"]),
        by=tuple(_words(v) for v in nouns["by"]),
        not_before=tuple(_words(v) for v in government["not_before"]),
        not_after=frozenset(gazetteer.fold(w) for w in government["not_after"]),
        demonyms=frozenset(demonyms),
        name_nouns=frozenset(_words(n) for n in nouns["name_nouns"]),
        coalition=factions[data["coalition"]["faction"]],
        coalition_not_after=frozenset(gazetteer.fold(w) for w in data["coalition"]["not_after"]),
        side_in_country={
            (country, side): factions[faction]
            for country, table in data.get("side_in_country", {}).items()
            for side, faction in table.items()
        },
    )


class Text:
    """One text's words, and the questions the rules ask about them."""

    def __init__(self, text: str, mentions: gazetteer.Mentions) -> None:
        self.text, self.spans, self.keys = text, mentions.spans, mentions.keys
        self.starts = mentions.starts

    def last(self, mention: Mention) -> int:
        """Index of the last word of a mention."""
        return bisect_right(self.starts, mention.end - 1) - 1

    def joined(self, word: int) -> bool:
        """True when word `word` follows the word before it within one phrase."""
        if word <= 0 or word >= len(self.spans):
            return False
        return bool(_GAP.fullmatch(self.text, self.spans[word - 1][1], self.spans[word][0]))

    def at(self, word: int, phrase: tuple[str, ...]) -> bool:
        """True when `phrase` is written from word `word` on, as one phrase."""
        end = word + len(phrase)
        return (
            end <= len(self.keys)
            and tuple(self.keys[word:end]) == phrase
            and all(self.joined(w) for w in range(word + 1, end))
        )

    def after(self, word: int) -> int:
        """The word after `word`, past a possessive `'s`."""
        following = word + 1
        if following < len(self.keys) and self.keys[following] == "s" and self.joined(following):
            between = self.text[self.spans[word][1] : self.spans[following][0]]
            if between in ("'", "\u2019"):
                return following + 1
        return following
