"""The routes that follow a search or take its results away:

GET /search.atom  /search.csv  /search.jsonl           (every parameter of /search)
GET /saved-searches  /saved-searches/{id}  /saved-searches/{id}.atom
    /saved-searches/{id}/new?since=TOKEN
POST /saved-searches  DELETE /saved-searches/{id}      (with the API key)
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from search import feeds, limits, news, streaming
from search.auth import authorize_write, reads
from search.errors import BadParameter, TooLarge
from search.feeds import Feed
from search.request import Params, integer, known_only, parameters, params_of, parse_request
from search.responses import Json
from search.saved import SavedSearch, Store, body_params, since_of
from search.service import Service
from search.view import View, build

MAX_SAVED_BODY = 65_536  # bytes of a POST /saved-searches body
ATOM = "application/atom+xml; charset=utf-8"


def _service(request: Request) -> Service:
    return request.app.state.service


def _store(request: Request) -> Store:
    return Store(_service(request).root)


def _feed_params(params: Params) -> dict[str, list[str]]:
    """A feed's defaults where the request says nothing: newest first, ENTRIES entries."""
    out = {name: list(values) for name, values in params.items()}
    if not (out.get("sort") or [""])[0]:
        out["sort"] = ["-date"]
    if not (out.get("per_page") or [""])[0]:
        out["per_page"] = [str(feeds.ENTRIES)]
    return out


def _answer(request: Request, feed: Feed) -> Response:
    validators = {"ETag": feed.etag, "Last-Modified": feed.last_modified}
    headers = {**validators, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    inm, ims = request.headers.get("if-none-match"), request.headers.get("if-modified-since")
    if feeds.not_modified(feed, inm, ims):
        return Response(status_code=304, headers=headers)
    return Response(feeds.atom(feed), media_type=ATOM, headers=headers)


@reads
async def search_atom(request: Request) -> Response:
    """GET /search.atom: the search's first hits as an Atom feed, newest first by default."""
    params = _feed_params(params_of(request.query_params.multi_items()))
    search_request = parse_request(params)
    view = _service(request).view()
    base = str(request.base_url)
    query_string = urlencode(params_of(request.query_params.multi_items()), doseq=True)
    remembered = ("atom", str(request.url))  # until the index changes (see View.recall)
    feed = view.recall(remembered)
    if feed is None:
        feed = Feed(
            title=f"search: {search_request.q}" if search_request.q else "search: every article",
            key=str(sorted(params.items())),
            self_url=str(request.url),
            page_url=f"{base}?{query_string}" if query_string else base,
            base_url=base,
            entries=news.entries(view, search_request, False, search_request.per_page),
        )
        view.remember(remembered, feed)
    return _answer(request, feed)


def _exporter(form: str):
    @reads
    async def export(request: Request) -> StreamingResponse:
        """GET /search.csv, /search.jsonl: every match, streamed."""
        params = params_of(request.query_params.multi_items())
        search_request = parse_request(params, allowed=tuple(streaming.PARAMETERS))
        fields = streaming.fields_of(params)
        service = _service(request)

        def start() -> streaming.Export:
            view = service.pin()
            return streaming.Export(view, search_request, lambda: service.unpin(view))

        exported = await run_in_threadpool(start)  # a bad query raises here: a 400
        headers = {
            "Content-Disposition": f'attachment; filename="search.{form}"',
            "X-Total-Count": str(exported.total),
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(
            exported.lines(fields, form), media_type=streaming.MEDIA_TYPES[form], headers=headers
        )

    export.__name__ = f"search_{form}"
    return export


search_csv = _exporter("csv")
search_jsonl = _exporter("jsonl")


# --- saved searches ----------------------------------------------------------------------------


def _links(request: Request, saved: SavedSearch) -> dict:
    base = str(request.base_url)
    here = f"{base}saved-searches/{quote(saved.id)}"
    return {
        **saved.to_json(),
        "url": here,
        "feed": f"{here}.atom",
        "new": f"{here}/new?since={saved.since}",
        "search": f"{base}search?{urlencode(saved.params, doseq=True)}",
    }


async def saved_searches(request: Request) -> Json:
    """GET (list) or POST (save, with the key) /saved-searches."""
    if request.method == "POST":
        return await _save(request)
    return await _list(request)


@reads
async def _list(request: Request) -> Json:
    known_only(params_of(request.query_params.multi_items()), ())
    found = await run_in_threadpool(_store(request).all)
    return Json({"saved_searches": [_links(request, s) for s in found]})


async def _save(request: Request) -> Json:
    authorize_write(request)
    known_only(params_of(request.query_params.multi_items()), ())
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_SAVED_BODY:
            raise TooLarge(f"request body is larger than {MAX_SAVED_BODY} bytes", "body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadParameter("the body is not JSON", "body") from None
    allowed = [n for n in _search_parameter_names() if n not in ("page",)]
    name, params = body_params(body, allowed)
    view = _service(request).view()
    build(view, parse_request(params))  # checked now: a search that cannot run is refused
    since = news.latest(view)
    saved = await run_in_threadpool(_store(request).add, name, params, since)
    links = _links(request, saved)
    return Json(links, status_code=201, headers={"Location": links["url"]})


def _search_parameter_names() -> list[str]:
    return list(parameters(limits.current()))


async def saved_search(request: Request) -> Response:
    """GET or DELETE (with the key) /saved-searches/{id}."""
    saved_id: str = request.path_params["id"]
    if request.method == "DELETE":
        authorize_write(request)
        known_only(params_of(request.query_params.multi_items()), ())
        await run_in_threadpool(_store(request).delete, saved_id)
        return Json({"id": saved_id, "status": "deleted"})
    return await _one(request)


@reads
async def _one(request: Request) -> Json:
    saved_id = request.path_params["id"]
    known_only(params_of(request.query_params.multi_items()), ())
    saved = await run_in_threadpool(_store(request).get, saved_id)
    return Json(_links(request, saved))


@reads
async def saved_feed(request: Request) -> Response:
    """GET /saved-searches/{id}.atom: its matches, latest indexed first."""
    saved_id = request.path_params["id"]
    params = params_of(request.query_params.multi_items())
    known_only(params, ("per_page",))
    size = integer(params, "per_page", feeds.ENTRIES, 1, 100)
    saved = await run_in_threadpool(_store(request).get, saved_id)
    links = _links(request, saved)
    view: View = _service(request).view()
    key = f"{saved.id}\0{sorted(saved.params.items())}\0{size}"
    remembered = ("saved-atom", key, str(request.base_url))
    feed = view.recall(remembered)
    if feed is None:
        feed = Feed(
            title=saved.name,
            key=key,
            self_url=links["feed"],
            page_url=str(request.base_url) + "?" + urlencode(saved.params, doseq=True),
            base_url=str(request.base_url),
            entries=news.entries(view, parse_request(saved.params), True, size),
        )
        view.remember(remembered, feed)
    return _answer(request, feed)


@reads
async def saved_new(request: Request) -> Json:
    """GET /saved-searches/{id}/new?since=TOKEN: its matches indexed after the token."""
    params = params_of(request.query_params.multi_items())
    known_only(params, ("since", "size"))
    size = integer(params, "size", 100, 1, news.MAX_NEW)
    saved = await run_in_threadpool(_store(request).get, request.path_params["id"])
    raw = (params.get("since") or [""])[0]
    since = since_of(raw or saved.since)
    view = _service(request).view()
    answer = news.new_since(view, parse_request(saved.params), since, size)
    return Json({"id": saved.id, "name": saved.name, **answer})
