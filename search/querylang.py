"""The query language: text -> a small syntax tree, with errors that say where.

    raqqa offensive          words, all required (AND)
    "tiger forces"           a phrase
    mosul OR raqqa           either
    NOT raqqa, -raqqa        exclude
    faction:Hezbollah        a field (title, body, faction, place, province, country,
    place:"Deir ez-Zor"        region, theme, report, source, author)
    negotiat*                a prefix
    (a OR b) c               grouping
    \\"  \\(  \\:              a backslash keeps the next character literal

AND, OR and NOT are operators only in capitals; OR binds looser than AND.
"""

from __future__ import annotations

from dataclasses import dataclass

from search import limits
from search.errors import QuerySyntaxError
from search.schema import FACETS

TEXT_FIELDS = ("title", "body")
FACET_FIELDS = FACETS
FIELDS = TEXT_FIELDS + FACET_FIELDS
_SPECIAL = set('()"')


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    field: str | None = None
    prefix: bool = False  # written with a trailing *


@dataclass(frozen=True)
class Phrase:
    text: str
    start: int
    field: str | None = None


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class All:
    """Every document: an empty query, or a lone `*`."""


Node = Word | Phrase | Not | And | Or | All


@dataclass(frozen=True)
class _Token:
    kind: str  # word, all, phrase, field, lparen, rparen, and, or, not, minus
    text: str
    start: int
    prefix: bool = False


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "(":
            tokens.append(_Token("lparen", char, i))
            i += 1
        elif char == ")":
            tokens.append(_Token("rparen", char, i))
            i += 1
        elif char == '"':
            start, i, chars = i, i + 1, []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise QuerySyntaxError("unclosed quote", start, text[start : start + 20])
            tokens.append(_Token("phrase", "".join(chars), start))
            i += 1
        elif char in "-+" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            if char == "-":
                tokens.append(_Token("minus", char, i))
            i += 1
        else:
            token, i = _read_word(text, i)
            tokens.append(token)
    return tokens


def _read_word(text: str, i: int) -> tuple[_Token, int]:
    """A word, an operator or a `field:` starting at `i`; returns it and where it ends.
    A backslash makes the next character literal: `\\AND` is a word, `ab\\*` ends in a star."""
    start, n = i, len(text)
    chars: list[str] = []
    escaped: list[bool] = []
    while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
        if text[i] == "\\" and i + 1 < n:
            chars.append(text[i + 1])
            escaped.append(True)
            i += 2
            continue
        if text[i] == ":" and chars and not any(escaped) and "".join(chars).isalpha():
            name = "".join(chars)
            if name.lower() in FIELDS:
                if i + 1 >= n or text[i + 1].isspace() or text[i + 1] == ")":
                    raise QuerySyntaxError(f"{name}: needs a value", start, name + ":")
                return _Token("field", name.lower(), start), i + 1
            if i + 1 < n and not text[i + 1].isspace():
                raise QuerySyntaxError(
                    f"unknown field {name!r} (fields: {', '.join(FIELDS)})", start, name
                )
        chars.append(text[i])
        escaped.append(False)
        i += 1
    word = "".join(chars)
    if not any(escaped) and word in ("AND", "OR", "NOT", "&&", "||"):
        return _Token({"&&": "and", "||": "or"}.get(word, word.lower()), word, start), i
    if word == "*" and not escaped[0]:
        return _Token("all", "*", start), i
    prefix, stem = False, word
    while stem.endswith("*") and not escaped[len(stem) - 1]:  # `ab**` is the prefix ab
        prefix, stem = True, stem[:-1]
    for position, (char, literal) in enumerate(zip(stem, escaped, strict=False)):
        if char == "*" and not literal:
            raise QuerySyntaxError("only a trailing * is supported", start + position, word)
    if prefix and len(stem) < 2:
        raise QuerySyntaxError("a prefix needs at least 2 characters before *", start, word)
    return _Token("word", stem, start, prefix), i


def _flat(nodes: list[Node], kind: type[And] | type[Or]) -> tuple[Node, ...]:
    """`a OR (b OR c)` is `a OR b OR c`: one canonical tree for one meaning."""
    return tuple(n for node in nodes for n in (node.nodes if isinstance(node, kind) else (node,)))


class _Parser:
    def __init__(self, text: str, tokens: list[_Token], bounds: limits.Limits) -> None:
        self.text = text
        self.tokens = tokens
        self.limits = bounds
        self.pos = 0
        self.clauses = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def next_kind(self) -> str | None:
        """The kind of the next token; None at the end."""
        token = self.peek()
        return token.kind if token is not None else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def error(self, message: str, token: _Token | None) -> QuerySyntaxError:
        if token is None:
            return QuerySyntaxError(message, len(self.text), "")
        return QuerySyntaxError(message, token.start, token.text)

    def parse(self) -> Node:
        if not self.tokens:
            return All()
        node = self.or_expr(0, None)
        if self.peek() is not None:
            raise self.error("unexpected ')'", self.peek())
        return node

    def or_expr(self, depth: int, field: str | None) -> Node:
        nodes = [self.and_expr(depth, field)]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            if self.next_kind() in (None, "rparen", "or", "and"):
                raise self.error("OR needs a term after it", token)
            nodes.append(self.and_expr(depth, field))
        return nodes[0] if len(nodes) == 1 else Or(_flat(nodes, Or))

    def and_expr(self, depth: int, field: str | None) -> Node:
        nodes: list[Node] = []
        while (token := self.peek()) is not None and token.kind not in ("rparen", "or"):
            if token.kind == "and":
                self.take()
                if not nodes or self.next_kind() in (None, "rparen", "or", "and"):
                    raise self.error("AND needs a term on each side", token)
                continue
            nodes.append(self.unary(depth, field))
        if not nodes:
            token = self.peek()
            if token is not None and token.kind == "rparen":
                raise self.error("unexpected ')'", token)
            raise self.error("expected a word, a phrase or '('", token)
        return nodes[0] if len(nodes) == 1 else And(_flat(nodes, And))

    def unary(self, depth: int, field: str | None) -> Node:
        token = self.peek()
        assert token is not None  # the caller looked
        if token.kind in ("not", "minus"):
            self.take()
            if self.next_kind() in (None, "rparen", "or", "and"):
                raise self.error(f"{token.text} needs a term after it", token)
            self.check_depth(depth + 1, token)
            return Not(self.unary(depth + 1, field))
        return self.primary(depth, field)

    def primary(self, depth: int, field: str | None) -> Node:
        token = self.take()
        if token.kind == "lparen":
            self.check_depth(depth + 1, token)
            if self.next_kind() is None:
                raise self.error("unclosed '('", token)
            if self.next_kind() == "rparen":
                raise self.error("empty parentheses", token)
            node = self.or_expr(depth + 1, field)
            if self.next_kind() != "rparen":
                raise self.error("unclosed '('", token)
            self.take()
            return node
        if token.kind == "field":
            if field is not None:
                raise self.error("a field inside a field", token)
            following = self.peek()
            if following is None or following.kind not in ("word", "all", "phrase", "lparen"):
                raise self.error(f"{token.text}: needs a value", token)
            return self.primary(depth, token.text)
        if token.kind == "all":
            return All()
        if token.kind == "word":
            self.count(token)
            return Word(token.text, token.start, field, token.prefix)
        if token.kind == "phrase":
            self.count(token)
            return Phrase(token.text, token.start, field)
        raise self.error(f"unexpected {token.text!r}", token)

    def count(self, token: _Token) -> None:
        self.clauses += 1
        if self.clauses > self.limits.max_clauses:
            raise self.error(f"too many terms (at most {self.limits.max_clauses})", token)

    def check_depth(self, depth: int, token: _Token) -> None:
        if depth > self.limits.max_depth:
            raise self.error(f"nested too deeply (at most {self.limits.max_depth} levels)", token)


def parse(text: str) -> Node:
    """Parse query text into a tree. Raises QuerySyntaxError saying where it went wrong,
    or that it passes a limit (search.limits: length, terms, nesting)."""
    bounds = limits.current()
    longest = bounds.max_query_length
    if len(text) > longest:
        raise QuerySyntaxError(f"query longer than {longest} characters", longest, "")
    tokens = _lex(text)
    signs = [t for t in tokens if t.kind == "word" and text[t.start] in "-+" and t.text in "-+"]
    if signs and len(signs) == len(tokens):  # `q=-` would search for nothing, find nothing
        sign = signs[0]
        raise QuerySyntaxError(
            f"{sign.text} needs a term right after it (\\{sign.text} is the character itself)",
            sign.start,
            sign.text,
        )
    return _Parser(text, tokens, bounds).parse()


def render(node: Node) -> str:
    """The tree as query text; parsing the result gives the same tree (offsets aside). It adds
    parentheses only where needed, so it is never deeper than the input; it can be longer
    (escapes; a field written once before a group is repeated on each word), even past
    max_query_length, which bounds what users send, not what this writes."""
    if isinstance(node, All):
        return "*"
    if isinstance(node, Word):
        text = "".join("\\" + c if c in '()":\\*' or c.isspace() else c for c in node.text)
        if text in ("AND", "OR", "NOT", "&&", "||") or text.startswith(("-", "+")):
            text = "\\" + text
        return (f"{node.field}:" if node.field else "") + text + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        text = node.text.replace("\\", "\\\\").replace('"', '\\"')
        return (f"{node.field}:" if node.field else "") + f'"{text}"'
    if isinstance(node, Not):
        inner = node.node
        return "-" + (f"({render(inner)})" if isinstance(inner, (And, Or)) else render(inner))
    if isinstance(node, Or):
        return " OR ".join(render(n) for n in node.nodes)
    return " ".join(f"({render(n)})" if isinstance(n, Or) else render(n) for n in node.nodes)
