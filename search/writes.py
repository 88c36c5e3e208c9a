"""The write routes: POST /documents, PUT and DELETE /documents/{id}, with the API key.

Bodies are read up to max_body_bytes, parsed and tagged in a thread, and committed by the
process's writer thread (search.updates); an answer means the change is on disk.
"""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request

from search import intake, limits
from search.auth import authorize_write
from search.errors import BadArticle, BadParameter, NotFound, TooLarge
from search.request import boolean, known_only, params_of
from search.responses import Json
from search.schema import Change


async def _body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes max_body_bytes."""
    limit = limits.current().max_body_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge(f"request body is larger than {limit} bytes", "body")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"request body is larger than {limit} bytes", "body")
            chunks.append(chunk)
    except ClientDisconnect:  # nobody will read the answer; not a server error either
        raise BadParameter("the client went away before sending the whole body", "body") from None
    return b"".join(chunks)


async def _commit(request: Request, changes: list[Change]) -> list[str]:
    """Queue changes with this process's writer; their statuses once they are on disk."""
    future = request.app.state.updater.submit(changes)
    return await asyncio.wrap_future(future)


def _prepare(records: list, strict: bool = False) -> list[Change | BadArticle]:
    out: list[Change | BadArticle] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(records):
        try:
            change = intake.change(record, strict=strict)
        except BadArticle as error:
            out.append(error)
            continue
        if change.id in seen:
            message = f"id {change.id!r} repeats article {seen[change.id]} of this request"
            out.append(BadArticle(message, "id"))
            continue
        seen[change.id] = number
        out.append(change)
    return out


def _checked(request: Request) -> bool:
    """The API key, and the one query parameter of a write: `strict`, which makes a warning
    about an article (a date that cannot be read) an error for it. Returns strict."""
    authorize_write(request)
    params = params_of(request.query_params.multi_items())
    known_only(params, ("strict",))
    return boolean(params, "strict", False)


def _warned(answer: dict, change: Change) -> dict:
    """An item of the answer, with what was left out of its article, when anything was."""
    return {**answer, "warnings": list(change.warnings)} if change.warnings else answer


async def add_documents(request: Request) -> Json:
    strict = _checked(request)
    records = intake.records(await _body(request), request.headers.get("content-type"))
    limit = limits.current().max_articles
    if len(records) > limit:
        raise TooLarge(f"{len(records)} articles in one request; at most {limit}", "body")
    if not records:
        raise BadParameter("the body holds no article", "body")
    prepared = await run_in_threadpool(_prepare, records, strict)
    changes = [p for p in prepared if isinstance(p, Change)]
    statuses = iter(await _commit(request, changes) if changes else [])
    items, counts = [], {"created": 0, "replaced": 0, "errors": 0}
    for number, item in enumerate(prepared):
        if isinstance(item, Change):
            status = next(statuses)
            counts[status] += 1
            items.append(_warned({"index": number, "id": item.id, "status": status}, item))
        else:
            counts["errors"] += 1
            error = item.to_json()["error"]
            items.append({"index": number, "id": None, "status": "error", "error": error})
    return Json({**counts, "items": items}, status_code=200 if changes else 422)


async def put_document(request: Request) -> Json:
    strict = _checked(request)
    doc_id = request.path_params["id"]
    found = intake.record(await _body(request), request.headers.get("content-type"))
    change = await run_in_threadpool(intake.change, found, doc_id, strict)
    [status] = await _commit(request, [change])
    answer = _warned({"id": doc_id, "status": status}, change)
    return Json(answer, status_code=201 if status == "created" else 200)


async def delete_document(request: Request) -> Json:
    authorize_write(request)
    known_only(params_of(request.query_params.multi_items()), ())
    doc_id = request.path_params["id"]
    [status] = await _commit(request, [Change(doc_id, None)])
    if status == "not_found":
        raise NotFound(f"no document with id {doc_id!r}", "id")
    return Json({"id": doc_id, "status": status})
