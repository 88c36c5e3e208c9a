"""The HTTP API over the seeds: its contract through the application in this process (the
`app` fixture), and the real `search serve` (the `app` fixture) answering byte for byte the
same."""

from __future__ import annotations

import json
import re

import pytest

from search.files import read_paths
from search.index import write
from tests.live import ROOT, InProcess, Server

S0, S1, S2, S3, S4 = (
    "000_26f141be685b02d9",
    "001_ec32c9c98140bc5b",
    "002_ba0c41fe0ac4e9c0",
    "003_6b8fefc9ed8c73f5",
    "004_bc0f7c810eb851fd",
)
ALL = {S0, S1, S2, S3, S4}


def get(app, path, **params):
    response = app.client.get(path, params=params)
    assert response.headers["content-type"].startswith("application/json")
    return response


# (query string, the ids found)
FINDS = [
    ({}, ALL),
    ({"q": ""}, ALL),
    ({"q": "Daesh"}, ALL),  # the seeds write ISIS, IS and Islamic State
    ({"q": "isis"}, ALL),
    ({"q": "Deir Ezzor"}, {S0, S1, S3, S4}),  # S0: "province of Deir Ezzor"; S4: Deir al-Zour
    ({"q": "Raqqa"}, {S0, S1, S3, S4}),  # S0 and S3 write Raqqah
    ({"q": "Mosul NOT Raqqa"}, {S2}),
    ({"q": "Mosul -Raqqa"}, {S2}),
    ({"q": "(Mosul OR Aleppo) NOT Raqqa"}, {S2}),
    ({"q": "SDF OR Peshmerga"}, ALL),
    ({"q": '"Tiger Forces"'}, {S3}),
    ({"q": '"joint operations room"'}, {S1}),
    ({"q": "title:Raqqah"}, {S3}),
    ({"q": "faction:ISIS place:Mosul"}, {S0, S2, S4}),
    ({"q": 'source:"rfe/rl"'}, {S4}),
    ({"q": "offens*"}, {S4}),
    ({"q": "-ISIS"}, set()),
    ({"faction": "Peshmerga"}, {S2}),
    ({"faction": ["Peshmerga", "Tiger Forces"]}, {S2, S3}),  # one facet: OR
    ({"faction": "Peshmerga", "place": "Mosul"}, {S2}),  # two facets: AND
    ({"faction": "Peshmerga", "place": "Raqqa"}, set()),
    ({"faction": "Daesh"}, ALL),  # filter values are aliases too
    ({"place": "Raqqah"}, {S0, S1, S3, S4}),
    ({"province": "Nineveh Governorate"}, {S0, S2, S4}),
    ({"country": "Iraq"}, {S0, S2, S3, S4}),
    ({"source": "South Front"}, {S0, S1, S2, S3}),
    ({"source": "RFE/RL"}, {S4}),
    ({"region": "Middle East & North Africa"}, ALL),
    ({"report": "IRAQ REPORT"}, {S0}),
    ({"from": "2017-06", "to": "2017-07"}, {S0, S3}),
    ({"from": "2017-07-11"}, {S0, S1}),  # the undated article is outside any range
    ({"to": "2017"}, {S0, S1, S2, S3}),
]


@pytest.mark.parametrize(("params", "expected"), FINDS)
def test_search_finds(app, params, expected):
    response = get(app, "/search", per_page=100, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {hit["id"] for hit in body["hits"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("sort", "order"),
    [("-date", [S1, S0, S3, S2, S4]), ("date", [S2, S3, S0, S1, S4])],
)
def test_sort_by_date_puts_undated_last(app, sort, order):
    body = get(app, "/search", sort=sort).json()
    assert [hit["id"] for hit in body["hits"]] == order
    assert body["hits"][-1]["date"] is None and all(h["score"] is None for h in body["hits"])


def test_paging(app):
    first = get(app, "/search", sort="date", per_page=2).json()
    third = get(app, "/search", sort="date", per_page=2, page=3).json()
    assert [h["id"] for h in first["hits"]] == [S2, S3]
    assert [h["id"] for h in third["hits"]] == [S4]
    assert (first["total"], first["pages"], third["page"]) == (5, 3, 3)
    assert get(app, "/search", per_page=0).json()["hits"] == []
    beyond = get(app, "/search", sort="date", per_page=2, page=4).json()
    assert (beyond["hits"], beyond["total"], beyond["page"]) == ([], 5, 4)  # no clamping


def test_facets_are_disjunctive(app):
    body = get(app, "/search", faction="Peshmerga", facets="faction,place").json()
    assert body["total"] == 1
    factions = {v["value"]: v["count"] for v in body["facets"]["faction"]["values"]}
    assert factions["Syrian Democratic Forces"] == 4  # counted without the faction filter
    places = {v["value"]: v["count"] for v in body["facets"]["place"]["values"]}
    assert places == {"Mosul": 1, "Hasakah": 1}  # other facets count the filtered hits
    assert set(body["facets"]) == {"faction", "place"}


def test_facet_size_and_truncation(app):
    facet = get(app, "/search", facets="place", facet_size=2).json()["facets"]["place"]
    assert [v["value"] for v in facet["values"]] == ["Raqqa", "Deir ez-Zor"]
    assert facet["truncated"] is True
    region = get(app, "/search", facets="region").json()["facets"]["region"]
    assert region == {
        "values": [{"value": "Middle East & North Africa", "count": 5}],
        "truncated": False,
    }


def test_date_histogram_ignores_the_date_filter(app):
    body = get(app, "/search", **{"from": "2017-08"}).json()
    assert body["total"] == 1
    assert body["histogram"]["year"] == [{"value": "2017", "count": 4}]
    assert [m["value"] for m in body["histogram"]["month"]] == [
        "2017-05",
        "2017-06",
        "2017-07",
        "2017-08",
    ]


def test_highlights_mark_the_words_written(app):
    body = get(app, "/search", q="Daesh", fragments=2, fragment_size=80).json()
    hit = next(h for h in body["hits"] if h["id"] == S4)
    title = hit["highlights"]["title"]
    assert title["html"] == "U.S.-Backed Forces Advance Against <mark>IS</mark> In East Syria"
    assert title["ranges"] == [[35, 37]]
    fragments = hit["highlights"]["body"]
    assert 1 <= len(fragments) <= 2
    for fragment in fragments:
        assert len(fragment["text"]) <= 120
        for start, end in fragment["ranges"]:
            assert fragment["text"][start:end] in ("IS", "Islamic State")
    assert body["query"]["entities"] == [
        {"text": "Daesh", "kind": "faction", "name": "Islamic State", "also": []}
    ]


def test_place_highlight_marks_each_spelling(app):
    body = get(app, "/search", q="Deir Ezzor", per_page=10).json()
    marked = {
        fragment["text"][start:end]
        for hit in body["hits"]
        for fragment in hit["highlights"]["body"]
        for start, end in fragment["ranges"]
    }
    assert {"Deir Ezzor", "Deir al-Zour"} <= marked
    assert body["query"]["entities"][0]["also"] == ["Deir ez-Zor Governorate"]


def test_highlight_off(app):
    body = get(app, "/search", q="Mosul", highlight="false").json()
    assert "highlights" not in body["hits"][0]


def test_the_timeline_has_every_period_from_first_to_last(app):
    body = get(app, "/search", q="Mosul").json()  # May and July, none in June
    assert body["histogram"]["month"] == [
        {"value": "2017-05", "count": 1},
        {"value": "2017-06", "count": 0},
        {"value": "2017-07", "count": 1},
    ]
    trends = get(app, "/trends", q="Mosul", facet="faction", facet_size=1).json()
    assert [(p["period"], p["total"]) for p in trends["periods"]] == [
        ("2017-05", 1),
        ("2017-06", 0),
        ("2017-07", 1),
    ]
    assert trends["periods"][1]["counts"] == {trends["values"][0]["value"]: 0}


def test_query_parsed_shows_dates_as_dates(app):
    body = get(app, "/search", q="Raqqa", **{"from": "2017-03", "to": "2017-07"}).json()
    assert "date:[2017-03-01 TO 2017-07-31]" in body["query"]["parsed"]
    trends = get(app, "/trends", q="Raqqa", **{"from": "2017-03"}).json()
    assert "date:[2017-03-01 TO ]" in trends["query"]["parsed"]


def test_a_lone_minus_is_a_syntax_error(app):
    error = get(app, "/search", q="-").json()["error"]
    assert (error["code"], error["offset"]) == ("query_syntax", 0)
    assert error["message"].endswith("at character 1")


def test_hits_and_documents_use_the_same_names(app):
    hit = get(app, "/search", q="Tiger").json()["hits"][0]
    document = get(app, f"/documents/{hit['id']}").json()
    for name in ("author", "authors", "facets", "tags"):
        assert hit[name] == document[name], name
    assert hit["tags"] == hit["facets"] and document["authors"] == ["South Front"]


def test_hit_shape(app):
    hit = get(app, "/search", q="Tiger").json()["hits"][0]
    assert hit["id"] == S3 and hit["date"] == "2017-06-08"
    assert hit["source"] == "Global Research" and hit["author"] == "South Front"
    assert "Tiger Forces" in hit["tags"]["faction"]
    assert "Syrian government forces" in hit["tags"]["faction"]
    assert hit["tags"]["theme"] == ["Terrorism", "US NATO War Agenda"]


def test_suggestion_when_few_hits(app):
    body = get(app, "/search", q="Mosol").json()
    assert body["total"] == 0
    assert body["suggestion"] == {"q": "Mosul", "total": 3}
    assert get(app, "/search", q="Mosul").json()["suggestion"] is None


def test_document(app):
    body = get(app, f"/documents/{S4}").json()
    assert body["title"] == "U.S.-Backed Forces Advance Against IS In East Syria"
    assert body["credit"] == "With reporting by AP and AFP"
    assert body["date"] is None and body["source"] == "RFE/RL"
    assert body["regions"] == {"declared": [], "inferred": ["Middle East & North Africa"]}
    assert body["factions"]["Islamic State"] == 18
    assert body["body"].startswith("U.S.-backed fighters launched")
    assert "With reporting" not in body["body"]


def test_similar(app):
    body = get(app, f"/documents/{S3}/similar", size=3).json()
    ids = [hit["id"] for hit in body["hits"]]
    assert len(ids) == 3 and S3 not in ids


def test_facet_route(app):
    body = get(app, "/facets/faction", prefix="syr").json()
    assert body["values"] == [
        {"value": "Syrian Democratic Forces", "count": 4},
        {"value": "Syrian government forces", "count": 4},
        {"value": "Syrian Elite Forces", "count": 1},
    ]
    narrowed = get(app, "/facets/place", q="Mosul", size=1).json()
    assert narrowed["values"] == [{"value": "Mosul", "count": 3}] and narrowed["truncated"]


def test_suggest(app):
    body = get(app, "/suggest", q="raq").json()
    assert body["suggestions"][0] == {
        "text": "Raqqa",
        "kind": "place",
        "count": 4,
        "arabic": "الرقة",
    }
    assert get(app, "/suggest", q="").json()["suggestions"] == []


def test_trends(app):
    body = get(app, "/trends", facet="faction", interval="month", q="Raqqa", facet_size=2).json()
    assert body["total"] == 4 and body["undated"] == 1
    assert [v["value"] for v in body["values"]] == ["Islamic State", "Syrian Democratic Forces"]
    assert [list(p["counts"]) for p in body["periods"]] == [
        ["Islamic State", "Syrian Democratic Forces"]
    ] * 3  # the order of `values`
    assert body["periods"] == [
        {
            "period": "2017-06",
            "total": 1,
            "counts": {"Islamic State": 1, "Syrian Democratic Forces": 1},
        },
        {
            "period": "2017-07",
            "total": 1,
            "counts": {"Islamic State": 1, "Syrian Democratic Forces": 1},
        },
        {
            "period": "2017-08",
            "total": 1,
            "counts": {"Islamic State": 1, "Syrian Democratic Forces": 1},
        },
    ]


def test_stats_and_health(app):
    stats = get(app, "/stats").json()
    assert stats["documents"] == 5 and stats["index_bytes"] > 0
    assert stats["facets"]["region"] == 1
    health = get(app, "/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_openapi_describes_every_route(app):
    spec = get(app, "/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/search",
        "/documents",
        "/documents/{id}",
        "/documents/{id}/similar",
        "/stories/{id}",
        "/facets/{name}",
        "/geo",
        "/suggest",
        "/trends",
        "/stats",
        "/health",
        "/openapi.json",
        "/metrics",
        "/search.atom",
        "/search.csv",
        "/search.jsonl",
        "/saved-searches",
        "/saved-searches/{id}",
        "/saved-searches/{id}.atom",
        "/saved-searches/{id}/new",
    }
    assert set(spec["paths"]["/documents/{id}"]) == {"get", "put", "delete"}
    assert spec["paths"]["/documents"]["post"]["security"] == [{"apiKey": []}]
    documented = {p["name"] for p in spec["paths"]["/search"]["get"]["parameters"]}
    assert {"q", "faction", "from", "to", "sort", "page", "per_page", "facets"} <= documented


# (method, path, query string, status, the parameter the error names)
ERRORS = [
    ("GET", "/search", {"q": "title:("}, 400, "q"),
    ("GET", "/search", {"q": '"unclosed'}, 400, "q"),
    ("GET", "/search", {"q": "color:red"}, 400, "q"),
    ("GET", "/search", {"q": "x" * 1001}, 400, "q"),
    ("GET", "/search", {"page": "0"}, 400, "page"),
    ("GET", "/search", {"per_page": "101"}, 400, "per_page"),
    ("GET", "/search", {"per_page": "ten"}, 400, "per_page"),
    ("GET", "/search", {"facets": "colour"}, 400, "facets"),
    ("GET", "/search", {"sort": "oldest"}, 400, "sort"),
    ("GET", "/search", {"from": "2017-13-01"}, 400, "from"),
    ("GET", "/search", {"from": "2018", "to": "2017"}, 400, "to"),
    ("GET", "/search", {"bogus": "1"}, 400, "bogus"),
    ("POST", "/search", {}, 405, None),
    ("GET", "/documents/nope", {}, 404, "id"),
    ("GET", "/documents/nope/similar", {}, 404, "id"),
    ("GET", f"/documents/{S0}/similar", {"size": "0"}, 400, "size"),
    ("GET", "/facets/colour", {}, 400, "name"),
    ("GET", "/facets/place", {"size": "x"}, 400, "size"),
    ("GET", "/suggest", {"q": "x" * 101}, 400, "q"),
    ("GET", "/trends", {"facet": "colour"}, 400, "facet"),
    ("GET", "/trends", {"interval": "week"}, 400, "interval"),
    ("GET", "/stats", {"x": "1"}, 400, "x"),
    ("DELETE", "/health", {}, 405, None),
    ("GET", "/no/such/route", {}, 404, None),
]


@pytest.mark.parametrize(("method", "path", "params", "status", "param"), ERRORS)
def test_errors_have_one_shape(app, method, path, params, status, param):
    response = app.client.request(method, path, params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "param"}
    assert error["param"] == param and error["message"]


def test_syntax_error_says_where(app):
    error = get(app, "/search", q="raqqa AND (mosul").json()["error"]
    assert error["code"] == "query_syntax"
    assert error["offset"] == 10 and error["text"] == "("


def test_cors(app):
    response = app.client.get("/search", headers={"Origin": "https://newsroom.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_api_http_requests_all_answer(index):
    """Every request in api.http, with its headers and body, runs in order against a live
    server started with the file's key, and gets the status it expects."""
    text = (ROOT / "api.http").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^@(\w+) = (.*)$", text, flags=re.MULTILINE))
    for name, value in variables.items():
        text = text.replace("{{" + name + "}}", value)
    requests = []
    for block in text.split("###"):
        _title, _, rest = block.partition("\n")
        lines = [line for line in rest.strip().split("\n") if not line.startswith("#")]
        match = re.match(r"^(GET|POST|PUT|DELETE) (\S+)$", lines[0]) if lines else None
        if match is None:  # the header, with the variables
            continue
        blank = lines.index("") if "" in lines else len(lines)
        headers = dict(line.split(": ", 1) for line in lines[1:blank])
        body = "\n".join(lines[blank + 1 :]).strip()
        expected = re.search(r"^# expect (\d{3})", block, flags=re.MULTILINE)
        requests.append((*match.groups(), headers, body, int(expected[1]) if expected else 200))
    assert len(requests) >= 20
    live = Server(index, env={"SEARCH_API_KEY": variables["key"]})
    try:
        for method, url, headers, body, want in requests:
            url = url.replace(variables["base"], live.url)
            response = live.client.request(method, url, headers=headers, content=body or None)
            assert response.status_code == want, (method, url, response.text[:300])
            if response.headers["content-type"].startswith("application/json"):
                json.loads(response.text)
            else:  # a feed or an export
                assert response.text.strip(), (method, url)
        assert live.client.get("/stats").json()["documents"] == 5  # the examples delete theirs
    finally:
        live.stop()


def test_no_index_is_503(tmp_path):
    with InProcess(tmp_path / "empty") as served:
        health = served.client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        search = served.client.get("/search")
        assert search.status_code == 503
        assert search.json()["error"]["code"] == "index_unavailable"


def test_article_html_comes_back_escaped(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "xss.json").write_text(
        json.dumps(
            {
                "id": "xss",
                "title": "Raqqa <script>alert(1)</script>",
                "body": 'Fighting in Raqqa. <img src=x onerror="alert(2)"> '
                "& more <b>bold</b> Raqqa.",
            }
        )
    )
    _, items = read_paths([tmp_path / "in"])  # as `search index` reads them
    assert write((item.problem or item.article for item in items), tmp_path / "ix").indexed == 1
    with InProcess(tmp_path / "ix") as served:
        hit = served.client.get("/search", params={"q": "Raqqa"}).json()["hits"][0]
        title_html = hit["highlights"]["title"]["html"]
        assert title_html == "<mark>Raqqa</mark> &lt;script&gt;alert(1)&lt;/script&gt;"
        body_html = "".join(f["html"] for f in hit["highlights"]["body"])
        assert (
            "<img" not in body_html
            and "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in body_html
        )
        assert "&amp; more &lt;b&gt;bold&lt;/b&gt;" in body_html
        assert re.sub(r"</?mark>", "", body_html).count("<") == 0
        document = served.client.get("/documents/xss")
        assert document.headers["content-type"] == "application/json"
        assert document.headers["x-content-type-options"] == "nosniff"
        assert document.json()["title"] == "Raqqa <script>alert(1)</script>"  # data, not HTML
        assert document.json()["title_html"] == "Raqqa &lt;script&gt;alert(1)&lt;/script&gt;"
        assert "&lt;img src=x" in document.json()["body_html"]
        assert hit["title_html"] == "Raqqa &lt;script&gt;alert(1)&lt;/script&gt;"


def test_the_search_page_and_its_files(app):
    page = app.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        response = app.client.get(src)
        assert response.status_code == 200, src
    assert "http" not in re.sub(r"https?://\S*openapi", "", page.text.split("<body")[0])
    assert app.client.get("/static/nope.js").status_code == 404


# --- the real server answers as the application in process ------------------------------------

# every request above that reads: (method, path, query string)
READS = [
    *(("GET", "/search", {"per_page": 100, **params}) for params, _ in FINDS),
    *(("GET", "/search", {"sort": sort}) for sort in ("-date", "date")),
    ("GET", "/search", {"sort": "date", "per_page": 2, "page": 3}),
    ("GET", "/search", {"sort": "date", "per_page": 2, "page": 4}),
    ("GET", "/search", {"per_page": 0}),
    ("GET", "/search", {"faction": "Peshmerga", "facets": "faction,place"}),
    ("GET", "/search", {"facets": "place", "facet_size": 2}),
    ("GET", "/search", {"from": "2017-08"}),
    ("GET", "/search", {"q": "Daesh", "fragments": 2, "fragment_size": 80}),
    ("GET", "/search", {"q": "Deir Ezzor", "per_page": 10}),
    ("GET", "/search", {"q": "Mosul", "highlight": "false"}),
    ("GET", "/search", {"q": "Mosol"}),
    ("GET", "/search", {"q": "raqqa AND (mosul"}),
    ("GET", f"/documents/{S4}", {}),
    ("GET", f"/documents/{S3}/similar", {"size": 3}),
    ("GET", "/facets/faction", {"prefix": "syr"}),
    ("GET", "/facets/place", {"q": "Mosul", "size": 1}),
    ("GET", "/suggest", {"q": "raq"}),
    ("GET", "/suggest", {"q": ""}),
    ("GET", "/trends", {"facet": "faction", "interval": "month", "q": "Raqqa", "facet_size": 2}),
    ("GET", "/stats", {}),
    ("GET", "/health", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/", {}),
    *((method, path, params) for method, path, params, _, _ in ERRORS),
]
# what differs from one answer to the next (the length: took_ms), or says which server answered
VARYING = {"content-length", "date", "server", "x-request-id", "x-cache"}


def answer(response) -> tuple:
    body = re.sub(rb'"took_ms":[0-9.e-]+', b'"took_ms":0', response.content)
    headers = sorted((k, v) for k, v in response.headers.items() if k not in VARYING)
    # Starlette lists a route's methods from a set: their order changes with each process
    headers = [(k, ", ".join(sorted(v.split(", "))) if k == "allow" else v) for k, v in headers]
    return response.status_code, headers, body


def test_the_server_answers_byte_for_byte_as_the_application_in_process(server, app):
    """The tables above run in process; `search serve` (uvicorn, the app factory, settings
    from the command line) gives the same status, headers and body to each of their reads."""
    page = app.client.get("/").text
    files = [("GET", src, {}) for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page)]
    assert files
    origin = {"Origin": "https://newsroom.example"}
    for method, path, params in [*READS, *files]:
        live = server.client.request(method, path, params=params, headers=origin)
        in_process = app.client.request(method, path, params=params, headers=origin)
        assert answer(live) == answer(in_process), (method, path, params)


def test_a_document_says_which_words_made_each_tag(app):
    body = get(app, f"/documents/{S4}").json()
    assert body["spellings"]["place"]["Deir ez-Zor"] == ["Deir al-Zour"]
    assert "IS" in body["spellings"]["faction"]["Islamic State"]
    assert set(body["spellings"]["faction"]) <= set(body["facets"]["faction"])
