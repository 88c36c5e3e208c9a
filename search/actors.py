"""Actor phrases: a state's forces and the government side named without a group's name.

"Russian jets pounded rebel-held Aleppo" is about Russian forces although no alias of them is
written. The rules read the words of search/data/actors.toml around the country mentions the
gazetteer found, and make faction mentions that say which rule made them (`Mention.rule`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from search import gazetteer
from search.actor_rules import State, Text, rules
from search.gazetteer import Mention

_NEAR = 12  # words between a side word and the place that says which country it stands in
_EXPLICIT = {"syria", "syrian", "assad", "damascus", "bashar"}  # words naming the Syrian state


def find(text: str, mentions: gazetteer.Mentions, context: str | None) -> list[Mention]:
    """Faction mentions made by the actor rules in one text. `context` is the country the
    article is about ("Syria", "Iraq" or None), for the government descriptions."""
    words = Text(text, mentions)
    nouns = {m.word: m for m in mentions.noun}
    countries = {m.word: m for m in mentions.country}
    out = _states(words, countries, nouns) + _by_state(words, countries, nouns)
    out += _government(words, list(mentions.government), countries, nouns, context)
    if context is not None:
        out += _coalition(words, nouns) + _side_words(mentions, context)
    # A phrase inside a named faction adds nothing ("Syrian Army troops" is the Syrian Army);
    # one that reaches past it does ("Syrian army air forces": the air force too).
    if out and mentions.faction:
        out = [m for m in out if not any(_repeats(m, n) for n in _near(mentions.faction, m))]
    out.sort(key=lambda m: m.start)
    return out


def _near(named: tuple[Mention, ...], made: Mention) -> list[Mention]:
    """The named mentions that overlap `made`. Mentions of one kind do not overlap, so in
    text order those are the last ones starting before `made` ends."""
    index = bisect_right([m.start for m in named], made.end - 1) - 1
    out = []
    while index >= 0 and named[index].end > made.start:
        out.append(named[index])
        index -= 1
    return out


def _repeats(made: Mention, named: Mention) -> bool:
    """True when a named faction already says what a made mention says: it holds the
    phrase, or overlaps it naming the same faction ("US-led coalition warplanes")."""
    if named.start <= made.start and made.end <= named.end:
        return True
    return named.entity is made.entity and named.start < made.end and made.start < named.end


def _state(mention: Mention | None) -> State | None:
    return rules().states.get(mention.entity.name) if mention is not None else None


def _states(words: Text, countries: dict[int, Mention], nouns: dict[int, Mention]) -> list:
    """ "Russian jets", "Russian or Syrian war planes", "Russian and regime warplanes",
    "Syrian government air strikes", "U.S.-led air strikes", "Russia launched air strikes",
    "Turkey's army"."""
    config = rules()
    out: list[Mention] = []
    skip_to = -1
    for index, country in sorted(countries.items()):
        state = _state(country)
        if state is None or index < skip_to:
            continue
        last = words.last(country)
        following = words.after(last)
        if following >= len(words.keys) or (
            following not in nouns and words.keys[following] not in config.followers
        ):
            continue  # most mentions of a state: no rule reads the word after it
        written = words.text[country.start : country.end]
        demonym = words.keys[index] in config.demonyms
        possessive = words.after(last) > last + 1
        acronym = not any(c.islower() for c in written)  # US, U.S., UK
        made = _noun_phrase(words, country, countries, nouns)
        if made and not (demonym or possessive or acronym):
            # a bare name: "United States Army" yes, "Syria offensive" (in Syria) no
            phrase = tuple(words.keys[words.after(last) : words.last(made[-1]) + 1])
            made = made if phrase in config.name_nouns else []
        if made:
            out += made
            skip_to = words.last(made[-1]) + 1
            continue
        out += _subject(words, country, state, nouns, demonym)
    return out


def _noun_phrase(
    words: Text, country: Mention, countries: dict[int, Mention], nouns: dict[int, Mention]
) -> list:
    """The state (and the states joined to it) before a force noun, within a few words of
    `led`, joiners and modifiers; [] when no noun ends the phrase."""
    config = rules()
    chain, led, found = [country], False, None
    position = words.after(words.last(country))
    for _ in range(6):
        if position >= len(words.keys) or not words.joined(position):
            break
        key = words.keys[position]
        noun = nouns.get(position)
        if noun is not None and noun.entity.name != "actions":
            found = noun  # a word that is also a modifier may yet lead to a longer phrase
            if key not in config.modifiers:
                break
        elif found is not None:
            break
        if key == "led":
            led = True
        elif key in config.joiners and _state(countries.get(position + 1)):
            chain.append(countries[position + 1])
            position = words.after(words.last(countries[position + 1]))
            continue
        elif key not in config.modifiers and key not in config.joiners:
            break
        position = words.last(noun) + 1 if noun is not None else position + 1
    if found is None:
        return []
    return _made(words, chain, found, "state-led" if led else "state + noun", led)


def _made(words: Text, chain: Sequence[Mention], noun: Mention, rule: str, led: bool) -> list:
    out = []
    phrase = words.text[chain[0].start : noun.end]
    for number, country in enumerate(chain):
        state = _state(country)
        assert state is not None
        faction = state.led if led else state.air if noun.entity.name == "air" else state.forces
        end = noun.end if number == len(chain) - 1 else country.end
        out.append(Mention(faction, country.start, end, country.word, rule=f"{rule}: {phrase}"))
    return out


def _subject(
    words: Text, country: Mention, state: State, nouns: dict[int, Mention], demonym: bool
) -> list:
    """ "Russia launched air strikes", "Israel has carried out a strike", "Russia bombed",
    "the Syrian government carried on with its offensive" (a demonym needs a modifier)."""
    config = rules()
    position = words.after(words.last(country))
    if demonym:
        start = position
        while position < len(words.keys) and words.keys[position] in config.modifiers:
            position += 1
        if position == start or not all(words.joined(w) for w in range(start, position)):
            return []
    while position < len(words.keys) and words.keys[position] in config.helpers:
        if not words.joined(position):
            return []
        position += 1
    if position >= len(words.keys) or not words.joined(position):
        return []
    end = words.spans[position][1]
    if words.keys[position] in config.attacks:
        phrase = words.text[country.start : end]
        return [
            Mention(
                state.forces,
                country.start,
                end,
                country.word,
                rule=f"state + attack verb: {phrase}",
            )
        ]
    key = words.keys[position]
    verb = next((v for v in config.verbs if v[0] == key and words.at(position, v)), None)
    if verb is None:
        return []
    position += len(verb)
    for step in range(config.reach + 1):
        if position + step >= len(words.keys) or (step and not words.joined(position + step)):
            return []
        noun = nouns.get(position + step)
        if noun is not None:
            faction = state.air if noun.entity.name == "air" else state.forces
            phrase = words.text[country.start : noun.end]
            return [
                Mention(
                    faction,
                    country.start,
                    noun.end,
                    country.word,
                    rule=f"state + verb + noun: {phrase}",
                )
            ]
    return []


def _by_state(words: Text, countries: dict[int, Mention], nouns: dict[int, Mention]) -> list:
    """ "air strikes by Russia", "raids carried out by Israel"."""
    out = []
    by = rules().by
    firsts = {phrase[0] for phrase in by}
    for noun in nouns.values():
        following = words.last(noun) + 1
        if following >= len(words.keys) or words.keys[following] not in firsts:
            continue
        for phrase in by:
            if words.joined(following) and words.at(following, phrase):
                after = following + len(phrase)
                if after < len(words.keys) and words.keys[after] == "the":
                    after += 1
                country = countries.get(after)
                state = _state(country)
                if state is not None and words.joined(after):
                    assert country is not None
                    faction = state.air if noun.entity.name == "air" else state.forces
                    text = words.text[noun.start : country.end]
                    out.append(
                        Mention(
                            faction,
                            noun.start,
                            country.end,
                            noun.word,
                            rule=f"noun by state: {text}",
                        )
                    )
                break
    return out


def _coalition(words: Text, nouns: dict[int, Mention]) -> list:
    """ "coalition operations", "coalition air strikes" (Syria or Iraq articles only)."""
    config = rules()
    out: list[Mention] = []
    if "coalition" not in words.keys:
        return out
    for index, key in enumerate(words.keys):
        if key != "coalition":
            continue
        if config.coalition_not_after.intersection(words.keys[max(0, index - 2) : index]):
            continue
        position = index + 1
        while position < len(words.keys) and words.keys[position] in config.modifiers:
            position += 1
        noun = nouns.get(position)
        if noun is None or not all(words.joined(w) for w in range(index + 1, position + 1)):
            continue
        start = words.spans[index][0]
        out.append(
            Mention(
                config.coalition,
                start,
                noun.end,
                index,
                rule=f"coalition + noun: {words.text[start : noun.end]}",
            )
        )
    return out


def _side_words(mentions: gazetteer.Mentions, context: str) -> list:
    """Generic side words that name one faction in the country they stand in ("Kurdish
    forces" in Iraq are the Peshmerga): the country of the place named nearest, within
    _NEAR words, else the article's."""
    table = rules().side_in_country
    out = []
    places = [m for m in mentions.place if m.entity.country and not m.candidates]
    for mention in mentions.side:
        near = min(places, key=lambda p: abs(p.word - mention.word), default=None)
        here = context
        if near is not None and abs(near.word - mention.word) <= _NEAR:
            here = near.entity.country or context
        faction = table.get((here, mention.entity.name))
        if faction is not None:
            out.append(mention._replace(entity=faction, rule=f"side word in {here}"))
    return out


def _government(
    words: Text,
    found: list[Mention],
    countries: dict[int, Mention],
    nouns: dict[int, Mention],
    about: str | None,
) -> list:
    """ "regime forces", "forces loyal to Assad", "government troops" (Syria or Iraq);
    "regime aerial bombardment" (an aircraft noun after the description) the air force."""
    config = rules()
    states = config.states
    out = []
    for mention in found:
        group, last = mention.entity.name, words.last(mention)
        context, before = about, mention.word - 1
        position = last + 1
        while position < len(words.keys) and words.keys[position] in config.modifiers:
            position += 1
        noun = nouns.get(position)
        if noun is not None and noun.entity.name == "air" and words.joined(position):
            group = group if group.endswith("_air") else group + "_air"
        if before >= 0 and words.joined(mention.word):
            if words.keys[before] in config.not_after:
                continue
            country = next((m for w, m in countries.items() if words.last(m) == before), None)
            if country is not None and country.entity.name not in ("Syria", "Iraq"):
                continue  # "the Turkish regime", "Afghan government forces"
            if country is not None:
                context = country.entity.name
        if any(words.joined(last + 1) and words.at(last + 1, p) for p in config.not_before):
            continue
        explicit = bool(_EXPLICIT.intersection(words.keys[mention.word : last + 1]))
        if group.startswith("syria"):
            country_name = "Syria" if explicit or context == "Syria" else None
        else:
            country_name = context
        state = states.get(country_name) if country_name in ("Syria", "Iraq") else None
        if state is None:
            continue
        faction = state.air if group.endswith("_air") else state.forces
        phrase = words.text[mention.start : mention.end]
        out.append(
            Mention(
                faction,
                mention.start,
                mention.end,
                mention.word,
                rule=f"government description: {phrase}",
            )
        )
    return out
