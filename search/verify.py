"""`search check`: what is wrong with an index, as messages; never raises, whatever the damage.

It looks at CURRENT and the generation it names, the table of contents and the segment files
it names, every stored document, every posting and column, and runs sample searches.
"""

from __future__ import annotations

import re
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.searching import Searcher

from search import gazetteer, segment_arrays
from search.generations import POINTER, IndexNotFoundError, index_root, live_generation
from search.maintenance import MissingSegment, toc_files
from search.query import search as run_search
from search.request import parse_request
from search.view import View, build, match
from search.whoosh_ext import latest_generation

SAMPLE_SEARCHES = 5
MAX_REPORTED = 10  # problems of one kind listed one by one; more are counted


def check(
    root: Path | str | None = None, samples: int = SAMPLE_SEARCHES, postings: bool = True
) -> list[str]:
    """What is wrong with the index in `root`, one message per problem; empty when healthy.

    Looks at CURRENT and the generation it names, the table of contents and the segment files
    it names, opens the index, reads every stored document (counted against doc_count; each
    needs an id and a title; ids unique and found by the id index), with `postings` reads
    every term's postings and every column (the slow part: most damage inside a segment
    shows only there), and runs `samples` searches for a word of a title
    through the search pipeline, each of which must find its document.
    Never raises: damage of any kind is reported as a problem."""
    root = index_root(root)
    found: list[str] = []
    for _ in range(3):
        state = _state(root)
        found = _look(root, samples, postings)
        # a commit or a rebuild meanwhile may remove the files of the state the check began
        # with, which is no damage: look again
        if not found or _state(root) == state:
            break
    return found


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def _term(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return repr(text[:40])


def _look(root: Path, samples: int, postings: bool) -> list[str]:
    """The problems of one look at the index."""
    problems: list[str] = []
    try:
        _check_once(root, problems, samples, postings)
    except Exception as error:  # damaged files fail in ways no list can foresee
        problems.append(f"the index cannot be read: {_describe(error)}")
    return problems


def _state(root: Path) -> tuple[str, int] | None:
    """What CURRENT names and the latest commit of that generation, or None when unreadable."""
    try:
        name = (root / POINTER).read_text(encoding="utf-8").strip()
        return name, latest_generation(root / name)
    except Exception:
        return None


def _check_once(root: Path, problems: list[str], samples: int, postings: bool) -> None:
    if not root.is_dir():
        problems.append(f"{root} is not a folder")
        return
    try:
        folder = live_generation(root)
    except IndexNotFoundError as error:  # IndexDamagedError: CURRENT unreadable or dangling
        problems.append(str(error))
        return
    if folder is None:
        problems.append(f"no index in {root}: there is no {POINTER}")
        return
    try:
        toc_files(folder)
    except MissingSegment as error:
        problems.append(str(error))
        return
    except Exception as error:
        problems.append(f"the table of contents in {folder} is damaged: {_describe(error)}")
        return
    try:
        ix = whoosh_index.open_dir(str(folder))
        searcher = ix.searcher()
    except Exception as error:
        problems.append(f"the index in {folder} does not open: {_describe(error)}")
        return
    try:
        _check_documents(searcher, problems)
        if postings and not problems:
            _check_postings(searcher, problems)
            _check_sidecars(searcher, problems)
        if not problems:
            _check_searches(searcher, problems, samples)
    finally:
        searcher.close()


class _Reported:
    """Problems of one kind: the first few listed, the rest counted."""

    def __init__(self, problems: list[str], what: str) -> None:
        self.problems, self.what, self.count = problems, what, 0

    def add(self, message: str) -> None:
        self.count += 1
        if self.count <= MAX_REPORTED:
            self.problems.append(message)

    def close(self) -> None:
        if self.count > MAX_REPORTED:
            self.problems.append(f"... and {self.count - MAX_REPORTED} more {self.what}")


def _check_documents(searcher: Searcher, problems: list[str]) -> None:
    reader = searcher.reader()
    expected = searcher.doc_count()
    seen: dict[str, int] = {}
    missing = _Reported(problems, "documents without an id or a title")
    repeated = _Reported(problems, "repeated ids")
    unfound = _Reported(problems, "ids the id index does not find")
    count = 0
    try:
        for docnum in reader.all_doc_ids():
            stored = reader.stored_fields(docnum)
            count += 1
            doc_id = stored.get("id")
            if not doc_id:
                missing.add(f"document {docnum} has no id")
                continue
            if not stored.get("title"):
                missing.add(f"document {doc_id!r} has no title")
            if doc_id in seen:
                repeated.add(f"id {doc_id!r} is stored twice (documents {seen[doc_id]}, {docnum})")
                continue
            seen[doc_id] = docnum
            if searcher.document_number(id=doc_id) != docnum:
                unfound.add(f"the id index does not lead to document {doc_id!r}")
    except Exception as error:
        problems.append(f"reading document {count + 1} failed: {_describe(error)}")
    for reported in (missing, repeated, unfound):
        reported.close()
    if count != expected:
        problems.append(f"doc_count is {expected} but {count} documents are stored")


def _check_postings(searcher: Searcher, problems: list[str]) -> None:
    """Read every posting list and every column: the inverted index and sort columns are most
    of a segment, and damage there shows only when they are read."""
    reader = searcher.reader()
    limit = reader.doc_count_all()
    field, text = "", b""
    try:
        for field, text in reader.all_terms():
            for docnum in reader.postings(field, text).all_ids():
                if not 0 <= docnum < limit:
                    problems.append(
                        f"the postings of {field}:{_term(text)} name document "
                        f"{docnum}, beyond the {limit} of the index"
                    )
                    return
        field, text = "", b""
        # segment by segment: Whoosh's multi-segment column reader leaves out the segments
        # without a column for the field, and would read past its end
        for leaf, _ in reader.leaf_readers():
            for field in leaf.schema.names():
                if leaf.has_column(field):
                    column = leaf.column_reader(field, translate=False)
                    for docnum in range(leaf.doc_count_all()):
                        column[docnum]
    except Exception as error:
        where = f"the postings of {field}:{_term(text)}" if text else f"the {field} column"
        problems.append(f"reading {where} failed: {_describe(error)}")


def _check_sidecars(searcher: Searcher, problems: list[str]) -> None:
    """Each segment's sidecar (search.sidecars) against the segment: a wrong one would give
    wrong counts and orders silently. Deleting it is safe: the next start writes it again."""
    for leaf, _ in searcher.reader().leaf_readers():
        for problem in segment_arrays.check_sidecar(leaf):
            problems.append(f"segment arrays {problem} (delete the file: it is written again)")


def _single_word_aliases() -> set[str]:
    gaz = gazetteer.load()
    return {
        alias.keys[0]
        for kind in ("faction", "place", "country")
        for alias in gaz.matchers[kind].aliases()
        if len(alias.keys) == 1
    }


_WORD = re.compile(r"[^\W_]{3,}")


def _sample_word(title: str, aliases: set[str]) -> str | None:
    """The longest word of a title (three letters or more) outside every faction, place or
    country mention and not itself an alias: a search for it must find the title, however the
    query parser treats names."""
    mentions = gazetteer.find(title)
    spans = [
        (m.start, m.end) for kind in ("faction", "place", "country") for m in mentions.of(kind)
    ]
    words = [
        match[0].lower()
        for match in _WORD.finditer(title)
        if not any(s < match.end() and match.start() < e for s, e in spans)
        and gazetteer.fold(match[0]) not in aliases
        and len(match[0]) <= 100  # a query must stay within the query limits
    ]
    return max(words, key=len, default=None)


def _check_searches(searcher: Searcher, problems: list[str], samples: int) -> None:
    reader = searcher.reader()
    docs = list(reader.all_doc_ids())
    if not docs or samples <= 0:
        return
    step = max(1, len(docs) // samples)
    aliases = _single_word_aliases()
    view = View(searcher)
    tried = 0
    for docnum in docs[::step]:
        if tried >= samples:
            break
        stored = reader.stored_fields(docnum)
        word = _sample_word(stored.get("title", ""), aliases)
        if word is None:
            continue
        tried += 1
        try:
            request = parse_request({"q": [word], "highlight": ["true"]})
            answer = run_search(view, request)
            query, _ = build(view, request)
            found = bool(match(view, query).mask[docnum])
        except Exception as error:
            problems.append(f"the search for {word!r} failed: {_describe(error)}")
            continue
        if not found or answer["total"] == 0:
            problems.append(
                f"the search for {word!r} does not find document {stored.get('id')!r}, "
                "whose title has it"
            )
