"""The page's stories, in headless Chromium over a real `search serve` (as tests/test_browser.py,
whose driver and helpers this uses; skipped with it when Chromium is missing): "also in N
outlets" under a hit opens the story's list; "one hit per story" is kept in the URL and the
counts follow it."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.live import Server, run

# the driver fixture and helpers of the page's tests (that module skips when Chromium is missing)
from tests.test_browser import By, arm, browser, params, wait_for, wait_rendered  # noqa: F401

COPY_ID = "copy-of-seed-0"


@pytest.fixture(scope="module")
def copied(tmp_path_factory, seeds_index, seed_paths):
    """The seeds and a copy of the first one by another outlet, served."""
    folder = tmp_path_factory.mktemp("stories-page") / "ix"
    shutil.copytree(seeds_index, folder)
    served = Server(folder)
    original = served.client.get(f"/documents/{seed_paths[0].stem}").json()
    served.stop()
    copy = tmp_path_factory.mktemp("stories-input") / "copy.json"
    body = original["body"] + "\n\nRepublished by Another Outlet."
    article = {"id": COPY_ID, "title": original["title"], "body": body}
    copy.write_text(json.dumps({**article, "source": "Another Outlet", "date": "2017-07-12"}))
    assert run("index", copy, "--index", folder, "-q").returncode == 0
    live = Server(folder)
    yield live
    live.stop()


def _open(driver, url: str) -> None:
    arm(driver)
    driver.get(url)
    wait_rendered(driver)


def _hits(driver) -> list[str]:
    return [e.get_attribute("data-id") for e in driver.find_elements(By.CSS_SELECTOR, "li.hit")]


def _count(driver, facet: str, value: str) -> int:
    for label in driver.find_elements(By.CSS_SELECTOR, f"section[data-facet={facet}] label"):
        if label.find_element(By.CSS_SELECTOR, ".name").text == value:
            return int(label.find_element(By.CSS_SELECTOR, ".count").text.replace(",", ""))
    pytest.fail(f"no {facet} value {value!r} on the page")


def test_copies_are_listed_under_a_hit_and_collapse_into_one(copied, browser, seed_paths):  # noqa: F811
    seed = seed_paths[0].stem
    _open(browser, copied.url + "/?q=Sukhna")
    assert sorted(_hits(browser)) == sorted([seed, COPY_ID])
    assert "2 results" in browser.find_element(By.CSS_SELECTOR, "#status").text
    factions = _count(browser, "faction", "Islamic State")
    assert factions >= 2

    # "1 more copy of this report" opens the story's members, the first one first
    hit = browser.find_element(By.CSS_SELECTOR, f"li.hit[data-id='{COPY_ID}']")
    button = hit.find_element(By.CSS_SELECTOR, "button.story")
    assert button.get_attribute("aria-expanded") == "false"
    button.click()
    wait_for(
        browser,
        lambda d: len(hit.find_elements(By.CSS_SELECTOR, ".story-members li")) == 2,
        "the story's two members under the hit",
    )
    members = hit.find_elements(By.CSS_SELECTOR, ".story-members li")
    assert [m.get_attribute("data-id") for m in members] == [seed, COPY_ID]
    assert "first" in members[0].text and "% different" in members[1].text

    # one hit per story: in the URL, the copies collapse, the counts count stories
    arm(browser)
    browser.find_element(By.CSS_SELECTOR, "#one-per-story").click()
    wait_rendered(browser)
    assert params(browser).get("collapse") == ["story"]
    assert len(_hits(browser)) == 1
    assert "1 story" in browser.find_element(By.CSS_SELECTOR, "#status").text
    assert _count(browser, "faction", "Islamic State") == factions - 1
    label = browser.find_element(By.CSS_SELECTOR, "li.hit button.story").text
    assert label == "also in 1 outlet"

    # kept in the URL: a reload shows the same, the switch on
    _open(browser, browser.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "#one-per-story").is_selected()
    assert len(_hits(browser)) == 1
