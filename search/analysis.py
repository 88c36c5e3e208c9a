"""Whoosh analyzers: word tokens (split with a regular expression, gazetteer.word_spans),
lowercased, folded and stemmed (Snowball; nltk's ISRI for Arabic), plus entity tokens.

At every gazetteer mention the tokenizer adds an entity token (`faction:islamic-state`,
`place:raqqa`, `country:syria`) at the position of the mention's first word, spanning the
characters actually written. A search for the entity token finds every spelling, and a
highlight of it marks the words in the text. Entity tokens skip the later filters.

Whoosh pickles the schema, and these classes with it: keep them importable at this path.
Nothing here touches the network (the ISRI stemmer needs no nltk data).
"""

from __future__ import annotations

import itertools
import pickle
from collections import defaultdict
from collections.abc import Iterator, Sequence

from whoosh.analysis import Analyzer, Filter, Token, Tokenizer
from whoosh.fields import TEXT
from whoosh.formats import Characters
from whoosh.lang.snowball.english import EnglishStemmer
from whoosh.system import pack_uint

from search import arabic, gazetteer
from search.words import folded_words

ENTITY_KINDS = ("faction", "place", "country", "operation")
# Longer "words" are left as written: no English word is this long, and Whoosh's Snowball
# rebuilds the word at each vowel-and-y, quadratic in a crafted one.
LONGEST_STEMMED = 64


class ArticleTokenizer(Tokenizer):
    """Word tokens where gazetteer.word_spans' regular expression finds words (the tagger's
    words: runs of letters and digits, Arabic marks inside a word included); entity tokens
    too unless `entities` is False or the analyzer runs in query mode (query parsing maps
    aliases to entities itself)."""

    def __init__(self, entities: bool = True) -> None:
        self.entities = entities

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.entities == self.entities

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.entity = False
            token.pos, token.startchar, token.endchar = (
                start_pos,
                start_char,
                start_char + len(value),
            )
            yield token
            return
        spans, keys, at_word = self.words(value, self.entities and mode != "query")
        for index, (start, end) in enumerate(spans):
            token.text = value[start:end]
            token.folded = keys[index] if keys is not None else None
            token.entity = False
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = start_pos + index
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token
            for text, span_start, span_end in at_word.get(index, ()):
                token.text = text
                token.entity = True
                if keeporiginal:
                    token.original = value[span_start:span_end]
                if chars:
                    token.startchar, token.endchar = start_char + span_start, start_char + span_end
                yield token

    @staticmethod
    def words(
        value: str, with_entities: bool
    ) -> tuple[Sequence[tuple[int, int]], Sequence[str] | None, dict]:
        """The word spans of `value`, their folded texts when the tagger made them (else None),
        and the entity tokens at each word index."""
        # Text from tagging.Tagged.text carries the mentions the tagger settled on.
        found = None
        if with_entities:
            found = getattr(value, "mentions", None) or gazetteer.find(value)
        if not found:
            return gazetteer.word_spans(value), None, {}
        return found.spans, found.keys, _entity_tokens(found)


def _entity_tokens(found: gazetteer.Mentions) -> dict[int, list[tuple[str, int, int]]]:
    """word index -> [(entity token, start, end)]; a faction unit also yields its parents,
    a neighbourhood its city (a search for Aleppo finds Bustan al-Qasr)."""
    gaz = gazetteer.load()
    out: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for kind in ENTITY_KINDS:
        for mention in found.of(kind):
            entities = gaz.lineage(mention.entity)
            if mention.entity.city and not mention.candidates:
                entities = [*entities, gaz.entities["place"][mention.entity.city]]
            for entity in entities:
                out[mention.word].append((entity.token, mention.start, mention.end))
    return out


class LowercaseFilter(Filter):
    """Lowercase and strip diacritics from word tokens (`Ḥalab` -> `halab`)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.entity:
                token.text = gazetteer.fold(token.text)
            yield token


class StemFilter(Filter):
    """Stemming of word tokens, chosen per word by script: nltk's ISRI stemmer for Arabic
    (it needs no data download), Snowball (Porter2) for the rest; with a cache, as news
    vocabulary repeats.

    English Snowball is Whoosh's port of nltk's (the same stems: tests/test_analysis.py
    compares them over every word of FA-KES), because importing nltk takes a third of a
    second (its __init__ loads most of nltk) and every start paid it. nltk is imported at
    the first Arabic word, and for another language."""

    is_morph = True  # Whoosh skips it when indexing the unstemmed words kept for spelling

    def __init__(self, language: str = "english", cachesize: int = 50000) -> None:
        self.language = language
        self.cachesize = cachesize
        if language == "english":
            self._stemmer = EnglishStemmer()
        else:
            from nltk.stem.snowball import SnowballStemmer

            self._stemmer = SnowballStemmer(language)
        self._arabic = None
        self._cache: dict[str, str] = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.language == self.language

    def __getstate__(self) -> dict:
        return {"language": self.language, "cachesize": self.cachesize}

    def __setstate__(self, state: dict) -> None:
        StemFilter.__init__(self, **state)

    def stem(self, word: str) -> str:
        stem = self._cache.get(word)
        if stem is None:
            if len(word) <= 2:
                stem = word
            elif arabic.is_arabic(word):
                stem = self._arabic_stemmer().stem(arabic.without_conjunction(word))
            elif len(word) > LONGEST_STEMMED:
                stem = word
            else:
                stem = self._stemmer.stem(word)
            if len(self._cache) >= self.cachesize:
                self._cache.clear()
            self._cache[word] = stem
        return stem

    def _arabic_stemmer(self):
        if self._arabic is None:
            from nltk.stem.isri import ISRIStemmer

            self._arabic = ISRIStemmer()
        return self._arabic

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.entity:
                token.text = self.stem(token.text)
            yield token


class ArticleAnalyzer(Analyzer):
    """ArticleTokenizer | LowercaseFilter | StemFilter in one loop: the same tokens, without
    two generator layers per token (a large share of the time of indexing a body). `no_morph`
    (Whoosh's spelling pass) skips stemming; a `words` set collects the unstemmed token
    texts as a side effect, so the spelling words come out of the indexing pass itself."""

    def __init__(self, language: str = "english") -> None:
        self.tokenizer = ArticleTokenizer()
        self.stemmer = StemFilter(language)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.stemmer == self.stemmer

    def has_morph(self) -> bool:
        return True

    def __call__(
        self,
        value: str,
        no_morph: bool = False,
        words: set[str] | None = None,
        **kwargs,
    ) -> Iterator[Token]:
        stem = None if no_morph or kwargs.pop("nomorph", False) else self.stemmer.stem
        fold = gazetteer.fold
        for token in self.tokenizer(value, **kwargs):
            if not token.entity:
                token.text = token.folded if token.folded is not None else fold(token.text)
                if words is not None:
                    words.add(token.text)
                if stem is not None:
                    token.text = stem(token.text)
            elif words is not None:
                words.add(token.text)
            yield token

    def postings(self, value: str, words: set[str], field_boost: float) -> list[tuple]:
        """(word, count, weight, value) for each token text of `value`, what Whoosh's
        Characters.word_values and FieldType.index make of this analyzer's tokens, byte for
        byte (in another order: entity tokens last), and the unstemmed texts added to
        `words`; without a Token and two generators per word, which were most of the time
        of indexing a body."""
        spans, keys, at_word = self.tokenizer.words(value, self.tokenizer.entities)
        if keys is None:
            keys = folded_words(value, spans)
        words.update(keys)
        cache, stem = self.stemmer._cache, self.stemmer.stem
        stems = [cache.get(key) or stem(key) for key in keys]
        entities = [(i, token, (s, e)) for i in sorted(at_word) for token, s, e in at_word[i]]
        words.update(token for _, token, _ in entities)
        seen: dict[str, list] = {}
        _code(seen, zip(itertools.count(), stems, spans))
        _code(seen, entities)
        return [
            (
                text.encode("utf-8"),
                len(deltas),
                len(deltas) * field_boost,
                pack_uint(len(deltas)) + pickle.dumps(deltas, 2),
            )
            for text, (_, _, deltas) in seen.items()
        ]


def _code(seen: dict[str, list], occurrences) -> None:
    """Add each (word index, token, (start, end)), in order, to `seen`: token -> [last
    index, last end, its (index, start, length) deltas as Characters.encode codes them]."""
    for index, token, (start, end) in occurrences:
        entry = seen.get(token)
        if entry is None:
            seen[token] = [index, end, [(index, start, end - start)]]
        else:
            entry[2].append((index - entry[0], start - entry[1], end - start))
            entry[0], entry[1] = index, end


class ArticleText(TEXT):
    """A TEXT field whose spelling words (the unstemmed `spell_` lexicon) come from the
    indexing pass, and each only once per writer.

    Whoosh re-analyses every value for its spelling words and adds a posting per word per
    document, all at document 0: the lexicon only says that a word occurs. Repeats change
    nothing but cost a large share of commit time. `reset()` starts the set of words already
    given, and must be called for each new writer (see index.new_writer)."""

    def reset(self) -> None:
        self._given: set[str] = set()
        self._last: tuple[str, set[str]] | None = None

    def index(self, value, **kwargs):
        words: set[str] = set()
        self._last = (value, words)
        if (
            not kwargs
            and isinstance(value, str)
            and type(self.format) is Characters
            and isinstance(self.analyzer, ArticleAnalyzer)
        ):
            return iter(self.analyzer.postings(value, words, self.format.field_boost))
        return super().index(value, words=words, **kwargs)

    def spellable_words(self, value):
        last = getattr(self, "_last", None)
        if last is not None and last[0] is value:
            words = last[1]
        else:
            words = {token.text for token in self.analyzer(value, no_morph=True)}
        given = self.__dict__.setdefault("_given", set())
        new = words - given
        given |= new
        return iter(sorted(new))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_given", None)
        state.pop("_last", None)
        return state


def fresh_spelling(schema) -> None:
    """Start a new writer's set of spelling words given (see ArticleText)."""
    for _, fieldtype in schema.items():
        if isinstance(fieldtype, ArticleText):
            fieldtype.reset()


def text_analyzer():
    """The analyzer of title and body: words stemmed, entity tokens added."""
    return ArticleAnalyzer()


def entity_tokens(text: str) -> list[str]:
    """The entity tokens to search for the entities a query names, in order (`Daesh near
    Raqqah` -> ['faction:islamic-state', 'place:raqqa', 'place:raqqa-governorate']): how a
    query finds every spelling. A place brings its namesake governorate along, a name several
    places share every one of them."""
    mentions = gazetteer.find_in_query(text)  # as the query compiler reads it: `isis` too
    return list(dict.fromkeys(e.token for m in mentions for e in gazetteer.meant(m)))
