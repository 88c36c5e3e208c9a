"""Query tree -> Whoosh query, with the domain knowledge: aliases become entity tokens.

A run of plain words that names a gazetteer entity (`Deir Ezzor`, `daesh`) matches every
spelling of it through its entity token, and the highlight marks the words each article wrote.
Acronym aliases of three letters or more match in any case in a query (`isis`, `sdf`), the
two-letter ones (`IS`, `US`) only as written, as in articles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.searching import Searcher

from search import gazetteer, limits
from search.analysis import text_analyzer
from search.errors import QuerySyntaxError
from search.querylang import FACET_FIELDS, TEXT_FIELDS, All, And, Node, Not, Or, Phrase, Word

_ANALYZER = text_analyzer()
# facet -> the gazetteer kind whose names it holds (a province is a place of kind governorate)
_GAZETTEER_KIND = {
    "faction": "faction",
    "place": "place",
    "province": "place",
    "country": "country",
    "operation": "operation",
    "side": "side",  # side:rebels is the armed opposition
}


@dataclass
class Compiled:
    """The Whoosh query and what the compiler recognised, for the response."""

    query: wq.Query
    entities: list[dict] = field(default_factory=list)


def term_text(term: bytes | str) -> str:
    """A term from a Whoosh lexicon as text (lexicons yield bytes)."""
    return term.decode("utf-8") if isinstance(term, bytes) else term


def stems(text: str) -> list[str]:
    """Query words as indexed: folded and stemmed, no entity tokens."""
    return [token.text for token in _ANALYZER(text, mode="query")]


class Compiler:
    """Compiles one query tree against one searcher (for prefix and facet-value lookups)."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.gaz = gazetteer.load()
        self.entities: list[dict] = []
        self.expanded = 0  # words and values all prefixes so far expanded to
        self.max_expansion = limits.current().max_expansion

    def _spend(self, count: int, what: str, unit: str, start: int, text: str) -> None:
        """Prefixes share one budget: 64 prefixes of 256 words each would be 16,384 terms."""
        self.expanded += count
        most = self.max_expansion
        if count > most:
            message = f"{what} matches more than {most} {unit}; use a longer prefix"
            raise QuerySyntaxError(message, start, text)
        if self.expanded > most:
            raise QuerySyntaxError(
                f"the prefixes of this query match more than {most} words and values "
                "together; use longer or fewer prefixes",
                start,
                text,
            )

    def compile(self, node: Node) -> Compiled:
        return Compiled(self.node(node), self.entities)

    def node(self, node: Node) -> wq.Query:
        if isinstance(node, All):
            return wq.Every()
        if isinstance(node, Not):
            return wq.Not(self.node(node.node))
        if isinstance(node, Or):
            return wq.Or([self.node(n) for n in node.nodes])
        if isinstance(node, Phrase):
            return self.phrase(node)
        if isinstance(node, And):
            return self.conjunction(node.nodes)
        if node.field is None and not node.prefix:
            return self.words([node])[0]  # a lone word may still name an entity
        return self.word(node)

    def conjunction(self, nodes: tuple[Node, ...]) -> wq.Query:
        """AND of the parts; runs of plain words are first read as entity names."""
        parts: list[wq.Query] = []
        run: list[Word] = []
        for node in (*nodes, None):
            if isinstance(node, Word) and node.field is None and not node.prefix:
                run.append(node)
                continue
            parts += self.words(run)
            run = []
            if node is not None:
                parts.append(self.node(node))
        if all(isinstance(p, wq.Not) for p in parts):
            parts.insert(0, wq.Every())
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def words(self, run: list[Word]) -> list[wq.Query]:
        """Plain words in a row: entity names among them match every spelling."""
        if not run:
            return []
        text, starts = "", []
        for word in run:
            starts.append(len(text))
            text += word.text + " "
        ends = [start + len(word.text) for start, word in zip(starts, run, strict=True)]
        out: list[wq.Query] = []
        index = 0
        for mention in gazetteer.find_in_query(text):
            # whole words only: `US-led` is not the United States, `Raqqa-based` not Raqqa
            if mention.start not in starts or mention.end not in ends:
                continue
            first, last = starts.index(mention.start), ends.index(mention.end)
            if first < index:
                continue
            out += [self.word(w) for w in run[index:first]]
            words = [w.text for w in run[first : last + 1]]
            out.append(self.entity(mention, " ".join(words), TEXT_FIELDS))
            index = last + 1
        out += [self.word(w) for w in run[index:]]
        return out

    def entity(self, mention: gazetteer.Mention, written: str, fields) -> wq.Query:
        """Any spelling of the entity (and a place's namesake governorate). The entity token
        stands at every place an alias is written, so the words themselves add nothing, and
        would add wrong hits (`Syrian Army` inside `Free Syrian Army`); only an acronym read
        loosely (`tip`) keeps the plain word too."""
        entity = mention.entity
        names = gazetteer.meant(mention)
        self.entities.append(
            {
                "text": written,
                "kind": entity.kind,
                "name": entity.name,
                "also": [e.name for e in names[1:]],
            }
        )
        terms = [wq.Term(f, e.token) for e in names for f in fields]
        if mention.loose:
            terms.append(self.text_match(written, fields))
        return wq.Or(terms)

    def text_match(self, text: str, fields) -> wq.Query:
        words = stems(text)
        if not words:
            return wq.NullQuery
        if len(words) == 1:
            per_field = [wq.Term(f, words[0]) for f in fields]
        else:  # a phrase, or one written word that analyses to several ("US-led")
            per_field = [wq.Phrase(f, words) for f in fields]
        return per_field[0] if len(per_field) == 1 else wq.Or(per_field)

    def word(self, node: Word) -> wq.Query:
        if node.field in FACET_FIELDS:
            return self.facet_value(node.field, node.text, node.prefix, node.start)
        fields = (node.field,) if node.field else TEXT_FIELDS
        if node.prefix:
            return self.prefix(node, fields)
        # plain words were already read for entity names, in a row, by words()
        whole = _whole_mention(node.text) if node.field else None
        if whole is not None:  # title:Daesh
            return self.entity(whole, node.text, fields)
        return self.text_match(node.text, fields)

    def phrase(self, node: Phrase) -> wq.Query:
        if node.field in FACET_FIELDS:
            return self.facet_value(node.field, node.text, False, node.start)
        fields = (node.field,) if node.field else TEXT_FIELDS
        whole = _whole_mention(node.text)
        if whole is not None:
            return self.entity(whole, node.text, fields)
        return self.text_match(node.text, fields)

    def prefix(self, node: Word, fields) -> wq.Query:
        """Expand over the unstemmed words of the index, then search their stems."""
        folded = gazetteer.fold(node.text)
        if len(folded) < 2:  # e.g. two accents alone fold to nothing, which matches everything
            raise QuerySyntaxError(
                "a prefix needs at least 2 letters before *", node.start, node.text + "*"
            )
        words: set[str] = set()
        for name in fields:
            spell = f"spell_{name}"
            for term in self.reader.expand_prefix(spell, folded):
                text = term_text(term)
                if ":" in text:  # entity tokens are not words
                    continue
                words.add(text)
                if len(words) > self.max_expansion:
                    break
        self._spend(len(words), f"{node.text}*", "words", node.start, node.text + "*")
        terms = sorted({stem for word in words for stem in stems(word)})
        if not terms:
            return wq.NullQuery
        return wq.Or([wq.Term(f, t) for t in terms for f in fields])

    def facet_value(self, facet: str, value: str, prefix: bool, start: int) -> wq.Query:
        """A facet value: an alias names its entity; otherwise values match ignoring case."""
        values = resolve_facet_values(self.reader, facet, value, prefix)
        if prefix:
            self._spend(len(values), f"{facet}:{value}*", "values", start, value + "*")
        if not values:
            return wq.NullQuery
        return wq.Or([wq.Term(facet, v) for v in values])


def _whole_mention(
    text: str, kinds: tuple[str, ...] = gazetteer.QUERY_KINDS
) -> gazetteer.Mention | None:
    """The one entity `text` names from end to end, if it does."""
    mentions = gazetteer.find_in_query(text, kinds)
    if len(mentions) == 1 and mentions[0].start == 0 and mentions[0].end >= len(text.rstrip()):
        return mentions[0]
    return None


def _province_of(place: gazetteer.Entity) -> str | None:
    """`province:raqqa` means Raqqa Governorate; `province:Mosul` the one Mosul lies in."""
    if place.place_kind == "governorate":
        return place.name
    namesakes = gazetteer.load().namesakes(place)
    return namesakes[1].name if len(namesakes) > 1 else place.province


def resolve_facet_values(reader, facet: str, value: str, prefix: bool = False) -> list[str]:
    """Indexed values of a facet that `value` names: a gazetteer alias (`ISIS` ->
    `Islamic State`), or values equal (or, with `prefix`, starting with) it ignoring case."""
    kind = _GAZETTEER_KIND.get(facet)
    whole = _whole_mention(value.strip(), (kind,)) if kind and not prefix else None
    if whole is not None and whole.entity.kind == kind:
        entities = whole.candidates or (whole.entity,)  # al-Midan: of Aleppo and of Damascus
        names = [_province_of(e) if facet == "province" else e.name for e in entities]
        if any(names):
            return list(dict.fromkeys(n for n in names if n))
    wanted = gazetteer.fold(value.strip())
    out = []
    for term in reader.lexicon(facet):
        text = term_text(term)
        folded = gazetteer.fold(text)
        if folded == wanted or (prefix and folded.startswith(wanted)):
            out.append(text)
    return out
