"""Operations on a whole index for running it as a service: export, optimize, check, snapshot,
and an export for OpenSearch / Elasticsearch.

- export_records / export_jsonl: every live document as a JSON record that `search index`
  reads back into the same document (the "tags" key is for readers; of it the indexer reads
  only "origin", where the article was first read, which a restore keeps).
- optimize: merge the live generation's segments into one, holding the write lock.
- check: what is wrong with an index, as messages; never raises, whatever the damage.
- snapshot: a consistent copy of the live index into a new folder, usable as an index root.
- opensearch_bulk / opensearch_mapping: the bulk NDJSON of every document and an index
  definition whose search analyzer knows the gazetteer's aliases as synonyms.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC
from whoosh.searching import Searcher

from search import gazetteer
from search.generations import (
    POINTER,
    IndexNotFoundError,
    built_generation,
    index_root,
    live_generation,
    open_index,
    point,
)
from search.index import cancel, new_writer
from search.locking import WriteLock
from search.query import View, build, docnums
from search.query import search as run_search
from search.request import parse_request
from search.schema import FACETS
from search.whoosh_ext import (
    INDEX_NAME,
    fsync_path,
    latest_generation,
    segment_count,
    toc_filename,
)

EXPORT_KEYS = (
    "id",
    "title",
    "body",
    "date",
    "source",
    "author",
    "url",
    "original_source",
    "original_date",
    "region",
    "theme",
    "report",
    "credit",
)
# The warning parse_record leaves for a date it cannot read (articles._date): exporting that
# text again gives back the same article, with the same warning.
_UNRECOGNISED_DATE = re.compile(r"^unrecognised date (?P<text>'.*'|\".*\") left empty$")


# --- reading the live index in id order ------------------------------------------------------


def _by_id(searcher: Searcher) -> Iterator[dict]:
    """Stored fields of every live document, in id order (code points: Whoosh keeps the id
    terms sorted by their UTF-8 bytes, which is the same order). Reads one document at a
    time: an export of a large index never holds every body at once."""
    reader = searcher.reader()
    for term in reader.lexicon("id"):
        doc_id = term.decode("utf-8") if isinstance(term, bytes) else term
        for docnum in searcher.document_numbers(id=doc_id):  # deleted versions left out
            yield reader.stored_fields(docnum)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _day(value: Any) -> str | None:
    return value.date().isoformat() if isinstance(value, datetime) else None


# --- export ----------------------------------------------------------------------------------


def to_record(stored: dict) -> dict:
    """The JSON record of one stored document: the fields `search index` reads (EXPORT_KEYS)
    from which it makes the same article again, and "tags", the stored tags, for readers
    (`search index` takes its "origin" as where the article was first read).

    Regions and themes are the declared ones only: the indexer infers the others again from
    the text. A document stored without tags (not written by this service) falls back on its
    facets."""
    tags = stored.get("tags") or {}
    if not tags:
        sources = _split(stored.get("source"))
        record = {
            "id": stored["id"],
            "title": stored.get("title", ""),
            "body": stored.get("body", ""),
            "date": _day(stored.get("date")),
            "source": sources[0] if sources else None,
            "author": _split(stored.get("author")),
            "url": None,
            "original_source": sources[1] if len(sources) > 1 else None,
            "original_date": None,
            "region": _split(stored.get("region")),
            "theme": _split(stored.get("theme")),
            "report": _split(stored.get("report")),
            "credit": None,
        }
        return {**record, "tags": {}}
    date = tags.get("date") or _day(stored.get("date")) or _unrecognised_date(tags)
    return {
        "id": stored["id"],
        "title": stored.get("title", ""),
        "body": stored.get("body", ""),
        "date": date,
        "source": tags.get("source"),
        "author": list(tags.get("authors") or []),
        "url": tags.get("url"),
        "original_source": tags.get("original_source"),
        "original_date": tags.get("original_date"),
        "region": list((tags.get("regions") or {}).get("declared") or []),
        "theme": list((tags.get("themes") or {}).get("declared") or []),
        "report": list(tags.get("reports") or []),
        "credit": tags.get("credit"),
        "tags": tags,
    }


def _unrecognised_date(tags: dict) -> str | None:
    """The date text the article gave and the parser could not read, as its warning quotes it
    (at most 40 characters, which is all the warning would quote again)."""
    for warning in tags.get("warnings") or []:
        match = _UNRECOGNISED_DATE.match(warning)
        if match:
            try:
                text = ast.literal_eval(match["text"])
            except (ValueError, SyntaxError):
                continue
            if isinstance(text, str) and text:
                return text
    return None


def export_records(root: Path | str | None = None) -> Iterator[dict]:
    """Every document of the live index as a record for `search index` (see to_record), in
    id order. Raises IndexNotFoundError when there is no index."""
    with open_index(root).searcher() as searcher:
        for stored in _by_id(searcher):
            yield to_record(stored)


def export_jsonl(root: Path | str | None, out: TextIO) -> int:
    """Write every document as one JSON line (readable by `search index dump.jsonl`); return
    how many."""
    count = 0
    for record in export_records(root):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


# --- optimize --------------------------------------------------------------------------------


def optimize(root: Path | str | None = None) -> tuple[int, int]:
    """Merge the live generation's segments into one (purging deleted documents), holding the
    write lock (IndexBusy after write_wait seconds). Returns (segments before, after)."""
    root = index_root(root)
    with WriteLock(root):
        folder = built_generation(root)
        ix = whoosh_index.open_dir(str(folder))
        before = segment_count(ix)
        writer = None
        try:
            writer = new_writer(ix)
            writer.commit(optimize=True)  # on the disk when it returns
        except BaseException:
            cancel(writer)
            raise
        after = segment_count(whoosh_index.open_dir(str(folder)))
    return before, after


# --- snapshot --------------------------------------------------------------------------------


class _MissingSegment(FileNotFoundError):
    """The table of contents names a segment whose files are not in the folder."""


def _toc_files(folder: Path) -> list[str]:
    """The files of the latest commit in a generation folder: its table of contents and the
    files of the segments it names. Stale files of killed commits and locks are left out."""
    storage = FileStorage(str(folder))
    toc = TOC.read(storage, INDEX_NAME)
    names = [toc_filename(toc.generation)]
    for segment in toc.segments:
        files = segment.list_files(storage)
        if not files:
            raise _MissingSegment(
                f"segment {segment.segment_id()}, which the table of contents "
                f"{names[0]} names, has no file in {folder}"
            )
        names += files
    return names


def snapshot(root: Path | str | None, dest: Path | str) -> int:
    """Copy the live index into `dest` (a folder that does not exist or is empty) as an index
    root of its own (dest/CURRENT, dest/gen-XXXXXX); return its document count.

    Writes may go on meanwhile: the copy is made holding the write lock (so writers wait
    while it runs, and answer busy past write_wait), and Whoosh never changes a file once a
    commit has written it, so the copy is one commit whole. A failed copy leaves `dest` as it
    was (removed if this made it)."""
    root = index_root(root)
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} exists and is not an empty folder")
    made = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with WriteLock(root):
            folder = built_generation(root)
            target = dest / folder.name
            target.mkdir()
            for name in _toc_files(folder):
                shutil.copyfile(folder / name, target / name)
        for path in target.iterdir():
            fsync_path(path)
        fsync_path(target)
        point(dest, folder.name)
        with open_index(dest).searcher() as searcher:
            return searcher.doc_count()
    except BaseException:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for path in dest.iterdir():
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise


# --- check -----------------------------------------------------------------------------------

SAMPLE_SEARCHES = 5
MAX_REPORTED = 10  # problems of one kind listed one by one; more are counted


def check(
    root: Path | str | None = None, samples: int = SAMPLE_SEARCHES, postings: bool = True
) -> list[str]:
    """What is wrong with the index in `root`, one message per problem; empty when healthy.

    Looks at CURRENT and the generation it names, the table of contents and the segment files
    it names, opens the index, reads every stored document (counted against doc_count; each
    needs an id and a title; ids unique and found by the id index), with `postings` reads
    every term's postings and every column (about a second per 1,000 documents: most damage
    inside a segment shows only there), and runs `samples` searches for a word of a title
    through the search pipeline, each of which must find its document.
    Never raises: damage of any kind is reported as a problem."""
    root = index_root(root)
    problems: list[str] = []
    try:
        _check(root, problems, samples, postings)
    except Exception as error:  # damaged files fail in ways no list can foresee
        problems.append(f"the index cannot be read: {_describe(error)}")
    return problems


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__


def _term(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return repr(text[:40])


def _check(root: Path, problems: list[str], samples: int, postings: bool) -> None:
    """Check, and check again when the index changed meanwhile: a commit or a rebuild may
    remove the files of the state the check began with, which is no damage."""
    for attempt in range(3):
        state = _state(root)
        found: list[str] = []
        try:
            _check_once(root, found, samples, postings)
        except Exception as error:  # damaged files fail in ways no list can foresee
            found.append(f"the index cannot be read: {_describe(error)}")
        if not found or attempt == 2 or _state(root) == state:
            problems += found
            return


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
        _toc_files(folder)
    except _MissingSegment as error:
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
            found = docnum in set(docnums(view, query))
        except Exception as error:
            problems.append(f"the search for {word!r} failed: {_describe(error)}")
            continue
        if not found or answer["total"] == 0:
            problems.append(
                f"the search for {word!r} does not find document {stored.get('id')!r}, "
                "whose title has it"
            )


# --- OpenSearch / Elasticsearch --------------------------------------------------------------

SYNONYMS_FILTER = "gazetteer_synonyms"
ACRONYMS_FILTER = "short_acronyms"
INDEX_ANALYZER = "article_text"
SEARCH_ANALYZER = "article_search"
_ACRONYM_MARK = "_acronym"


def opensearch_bulk(root: Path | str | None, out: TextIO, index_name: str = "articles") -> int:
    """Write every document in the bulk NDJSON format of OpenSearch and Elasticsearch (an
    action line, then the document), ending with a newline; return how many documents.
    Load with `curl -H 'Content-Type: application/x-ndjson' --data-binary @FILE
    HOST/_bulk` after creating the index with opensearch_mapping()."""
    count = 0
    with open_index(root).searcher() as searcher:
        for stored in _by_id(searcher):
            action = {"index": {"_index": index_name, "_id": stored["id"]}}
            out.write(json.dumps(action, ensure_ascii=False) + "\n")
            out.write(json.dumps(opensearch_source(stored), ensure_ascii=False) + "\n")
            count += 1
    return count


def opensearch_source(stored: dict) -> dict:
    """The OpenSearch document of one stored document: text, date (yyyy-MM-dd, absent when
    the article has none), url, and every facet as an array of its values."""
    source: dict[str, Any] = {
        "id": stored["id"],
        "title": stored.get("title", ""),
        "body": stored.get("body", ""),
    }
    day = _day(stored.get("date"))
    if day:
        source["date"] = day
    url = (stored.get("tags") or {}).get("url")
    if url:
        source["url"] = url
    for facet in FACETS:
        source[facet] = _split(stored.get(facet))
    return source


def _gazetteer_data() -> dict[str, list[dict]]:
    folder = resources.files("search") / "data"
    out = {}
    for kind, name in (
        ("faction", "factions.toml"),
        ("place", "places.toml"),
        ("country", "countries.toml"),
    ):
        out[kind] = tomllib.loads((folder / name).read_text(encoding="utf-8")).get(kind, [])
    return out


def entity_aliases() -> dict[tuple[str, str], list[str]]:
    """(kind, canonical name) -> the name and every alias (and demonym) of each faction,
    place and country, as written in search/data."""
    gazetteer.load()  # GazetteerError when the data is inconsistent
    out: dict[tuple[str, str], list[str]] = {}
    for kind, items in _gazetteer_data().items():
        for item in items:
            words = [item["name"], *item.get("aliases", []), *item.get("demonyms", [])]
            # an alias without a letter or digit never matches (the tagger skips it too)
            words = [w for w in words if re.search(r"[^\W_]", w)]
            out[(kind, item["name"])] = list(dict.fromkeys(words))
    return out


def _escape(alias: str) -> str:
    """A name inside a Solr-format synonym rule: backslashes, commas and the `=` of `=>`
    escaped."""
    return alias.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def synonym_rules() -> list[str]:
    """One equivalence rule per entity: its canonical name and every alias, e.g.
    "Islamic State, ISIS, ISIL, IS, Daesh, ...". Rules are parsed by the analyzer chain
    before the synonym filter, so they match in any case, as queries do."""
    return [", ".join(_escape(a) for a in aliases) for aliases in entity_aliases().values()]


def short_acronyms() -> list[str]:
    """Aliases of one word without lowercase letters and at most two characters (IS, US):
    the service matches them only in capitals, since `is` and `us` are words."""
    out = []
    for aliases in entity_aliases().values():
        for alias in aliases:
            if re.fullmatch(r"[^\W_]{1,2}", alias) and not any(c.islower() for c in alias):
                out.append(alias)
    return sorted(set(out))


def opensearch_mapping() -> dict:
    """Index settings and mappings for OpenSearch / Elasticsearch (PUT /articles with this
    body). Title and body are indexed with the standard tokenizer, lowercase and ASCII
    folding; the search analyzer adds the gazetteer's aliases as synonym_graph rules, so
    `Daesh` also finds `ISIS` and `Islamic State`. Short acronyms (IS, US) are marked before
    lowercasing, in the text as in queries and rules, so that `IS` names the Islamic State
    and `is` stays a verb. Facets are keywords holding canonical names."""
    acronyms = short_acronyms()
    filters: dict[str, dict] = {}
    if acronyms:
        filters[ACRONYMS_FILTER] = {
            "type": "pattern_replace",
            "pattern": "^(" + "|".join(map(re.escape, acronyms)) + ")$",
            "replacement": "$1" + _ACRONYM_MARK,
        }
    filters[SYNONYMS_FILTER] = {"type": "synonym_graph", "synonyms": synonym_rules()}
    text_filters = [*([ACRONYMS_FILTER] if acronyms else []), "lowercase", "asciifolding"]
    keyword = {"type": "keyword"}
    text = {"type": "text", "analyzer": INDEX_ANALYZER, "search_analyzer": SEARCH_ANALYZER}
    return {
        "settings": {
            "analysis": {
                "filter": filters,
                "analyzer": {
                    INDEX_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": text_filters,
                    },
                    SEARCH_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": [*text_filters, SYNONYMS_FILTER],
                    },
                },
            }
        },
        "mappings": {
            "properties": {
                "id": keyword,
                "title": text,
                "body": text,
                "date": {"type": "date", "format": "yyyy-MM-dd"},
                "url": {"type": "keyword", "index": False},
                **{facet: keyword for facet in FACETS},
            }
        },
    }
