"""Schema fuzzing: schemathesis generates requests for every route and method of the OpenAPI
description, valid and invalid, and checks each answer against it: no 5xx, documented status
codes, content types and bodies, invalid data rejected, writes refused without the key.

Two built-in checks are narrowed, with reasons:
- positive_data_acceptance wants every schema-valid request accepted, which a query language
  cannot promise (`q=title:(` is a valid string and a syntax error; `from=2017-02-30` fits the
  date pattern). It is replaced by refused_in_the_error_shape: such a refusal must be a 400 or
  422 in the error shape naming the parameter or field at fault.
- negative_data_rejection runs on the routes with JSON bodies only. A query string has no
  types: its "invalid" cases such as null or an empty array go on the wire as `country=null`
  or `facet_size=`, which are valid text (a facet value; the default). Bad query parameters
  are covered by tests/test_request.py and test_api.py.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from search.openapi import spec
from tests.live import Server

KEY = "fuzz-key"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "45"))
AUTH = {"Authorization": f"Bearer {KEY}"}

schema = schemathesis.openapi.from_dict(spec())


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value) -> dict:
    lines = value if isinstance(value, list) else [value]
    return {"data": "".join(json.dumps(line) + "\n" for line in lines).encode()}


counts: dict[str, int] = {}
seconds: dict[str, float] = {}  # spent per route, printed at the end: where the time goes


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, seeds_index):
    """A real server with the key, over its own copy of the seeds: the fuzzing writes. (In
    process, schemathesis would run the application's lifespan around every request.)"""
    index = tmp_path_factory.mktemp("fuzz") / "ix"
    shutil.copytree(seeds_index, index)
    live = Server(index, env={"SEARCH_API_KEY": KEY})
    yield live
    live.stop()


def refused_in_the_error_shape(ctx, response, case) -> None:
    """A 4xx names what is wrong: {"error": {"code", "message", "param"}}; a POST /documents
    whose every article was refused (422) names it per article."""
    if not 400 <= response.status_code < 500:
        return
    body = response.json()
    if response.status_code == 422 and case.operation.path == "/documents":
        errors = [item["error"] for item in body["items"]]
    else:
        errors = [body.get("error") if isinstance(body, dict) else None]
    for error in errors:
        assert isinstance(error, dict), f"a {response.status_code} without the error shape: {body}"
        assert error.get("code") and error.get("message"), f"no code or message: {body}"
        if response.status_code in (400, 422) and case.operation.path != "/documents":
            assert error.get("param") is not None, f"no parameter named: {body}"


def test_the_server_describes_itself_as_the_fuzzed_schema(fuzzed):
    assert fuzzed.client.get("/openapi.json").json() == spec()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_route_answers_as_documented(case, fuzzed):
    key = f"{case.method} {case.path}"
    counts[key] = counts.get(key, 0) + 1
    started = time.perf_counter()
    excluded = [positive_data_acceptance]
    if case.method not in ("POST", "PUT"):  # no JSON body: only a query string or a path
        excluded.append(negative_data_rejection)
    response = case.call_and_validate(
        base_url=fuzzed.url,
        headers=AUTH,
        excluded_checks=excluded,
        additional_checks=[refused_in_the_error_shape],
    )
    assert response.status_code < 500 or response.status_code == 503
    seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - started


def test_the_server_is_healthy_after_the_fuzzing(fuzzed):
    print("\nexamples per route:", dict(sorted(counts.items())))
    print("seconds per route:", {k: round(v, 1) for k, v in sorted(seconds.items())})
    assert fuzzed.client.get("/health").json()["status"] == "ok"
    assert fuzzed.client.get("/search", params={"q": "Raqqa"}).json()["total"] >= 4
