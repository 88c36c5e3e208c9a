"""An export for OpenSearch / Elasticsearch: the bulk NDJSON of every document, and an index
definition whose search analyzer knows the gazetteer's aliases as synonyms."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from search import gazetteer
from search.export import by_id
from search.generations import open_index
from search.schema import FACETS
from search.stored import as_json

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
        for stored in by_id(searcher):
            action = {"index": {"_index": index_name, "_id": stored["id"]}}
            out.write(json.dumps(action, ensure_ascii=False) + "\n")
            out.write(json.dumps(opensearch_source(stored), ensure_ascii=False) + "\n")
            count += 1
    return count


def opensearch_source(stored: dict) -> dict:
    """The OpenSearch document of one stored document: text, date (yyyy-MM-dd, absent when
    the article has none), url, and every facet as an array of its values."""
    fields = as_json(stored)
    source: dict[str, Any] = {key: fields[key] for key in ("id", "title", "body")}
    for key in ("date", "url"):
        if fields[key]:
            source[key] = fields[key]
    return {**source, **fields["facets"]}


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
