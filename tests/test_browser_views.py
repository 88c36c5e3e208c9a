"""The page's timeline, map, tag chips and states, in headless Chromium over a real server
(the fixtures and helpers of tests/test_browser.py), and the same on FA-KES, where the
screenshots of the README are taken."""

# ruff: noqa: F811 (the fixtures of test_browser.py are imported, then named as parameters)

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.live import ROOT, Server
from tests.test_browser import (  # noqa: F401 (fixtures); it skips without Chromium
    WAIT,
    ActionChains,
    By,
    Keys,
    api,
    arm,
    browser,
    hit_ids,
    hits,
    is_hidden,
    page,
    params,
    press,
    probed,
    type_query,
    wait_for,
    wait_hits,
    wait_rendered,
)

DOCS = ROOT / "docs"


def bars(driver) -> list[dict]:
    return driver.execute_script(
        """return [...document.querySelectorAll('#timeline .bar')].map((b) => ({
            period: b.dataset.period, count: Number(b.dataset.count),
            label: b.getAttribute('aria-label'), pressed: b.getAttribute('aria-pressed'),
            height: b.querySelector('.fill').getBoundingClientRect().height}));"""
    )


def ticks(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#timeline .tick.labelled')]"
        ".map((t) => t.textContent);"
    )


def marks(driver) -> dict[str, int]:
    return driver.execute_script(
        """const out = {};
        for (const m of document.querySelectorAll('#map circle.mark'))
            out[m.dataset.place] = Number(m.dataset.count);
        return out;"""
    )


def bar(driver, period: str):
    return driver.find_element(By.CSS_SELECTOR, f'#timeline .bar[data-period="{period}"]')


def open_at(driver, probed, query: str, state: str = "ready") -> None:
    arm(driver)
    driver.get(f"{probed.url}/?{query}")
    wait_for(
        driver,
        lambda d: (
            d.execute_script("return document.body.dataset.state") == state
            and d.execute_script("return typeof window.lastRenderMs") == "number"
        ),
        f"/?{query} to render in state {state}",
    )


# ---------------------------------------------------------------- timeline


def test_the_timeline_draws_empty_months_with_an_axis_and_says_each_count(page, probed):
    type_query(page, "Mosul")  # May and July 2017, none in June
    drawn = bars(page)
    assert [(b["period"], b["count"]) for b in drawn] == [
        ("2017-05", 1),
        ("2017-06", 0),
        ("2017-07", 1),
    ]
    assert drawn[1]["height"] == 0 and drawn[0]["height"] > 0
    assert [b["label"] for b in drawn] == [
        "May 2017: 1 article",
        "Jun 2017: 0 articles",
        "Jul 2017: 1 article",
    ]  # what a screen reader reads on each bar
    assert ticks(page) == ["May 2017", "Jun", "Jul"]
    june = bar(page, "2017-06")
    tip = june.find_element(By.CSS_SELECTOR, ".tip")
    assert not tip.is_displayed()
    ActionChains(page).move_to_element(june).perform()
    wait_for(page, lambda d: tip.is_displayed(), "the tip of June on hover")
    assert tip.text == "Jun 2017: 0 articles"
    page.execute_script("arguments[0].focus()", bar(page, "2017-07"))
    assert bar(page, "2017-07").find_element(By.CSS_SELECTOR, ".tip").is_displayed()


def test_a_click_keeps_one_period_and_a_drag_a_range(page, probed):
    type_query(page, "Daesh")
    periods = [b["period"] for b in bars(page)]
    assert periods == ["2017-05", "2017-06", "2017-07", "2017-08"]
    arm(page)
    bar(page, "2017-06").click()
    wait_for(page, lambda d: params(d).get("from") == ["2017-06"], "from=2017-06 in the URL")
    assert params(page).get("to") == ["2017-06"]
    wait_rendered(page, "Daesh")
    wait_hits(page, 1, "Daesh in June 2017")
    arm(page)
    ActionChains(page).click_and_hold(bar(page, "2017-05")).move_to_element(
        bar(page, "2017-07")
    ).release().perform()
    wait_for(
        page,
        lambda d: (params(d).get("from"), params(d).get("to")) == (["2017-05"], ["2017-07"]),
        "from=2017-05&to=2017-07 after a drag",
    )
    wait_rendered(page, "Daesh")
    expected = api(probed, "/search", q="Daesh", **{"from": "2017-05", "to": "2017-07"})
    wait_hits(page, expected["total"], "Daesh, May to July 2017")
    pressed = [b["period"] for b in bars(page) if b["pressed"] == "true"]
    assert pressed == ["2017-05", "2017-06", "2017-07"]
    arm(page)
    page.back()
    wait_for(page, lambda d: params(d).get("from") == ["2017-06"], "back to the one month")


# ---------------------------------------------------------------- map


def test_the_map_marks_each_located_place_and_a_click_filters(page, probed):
    type_query(page, "Raqqa")
    geo = api(probed, "/geo", q="Raqqa")
    wait_for(page, lambda d: marks(d), "marks on the map")
    assert marks(page) == {
        f["properties"]["place"]: f["properties"]["count"] for f in geo["features"]
    }
    outlines = page.find_elements(By.CSS_SELECTOR, "#map path.country")
    assert len(outlines) >= 8 and page.find_elements(By.CSS_SELECTOR, "#map path.province")
    mark = page.find_element(By.CSS_SELECTOR, '#map circle.mark[data-place="Mosul"]')
    assert mark.get_attribute("role") == "button" and mark.get_attribute("tabindex") == "0"
    assert mark.get_attribute("aria-label").startswith("Mosul: ")
    arm(page)
    mark.click()
    wait_for(page, lambda d: params(d).get("place") == ["Mosul"], "place=Mosul in the URL")
    wait_rendered(page, "Raqqa")
    expected = api(probed, "/search", q="Raqqa", place="Mosul")
    wait_hits(page, expected["total"], "Raqqa in Mosul")
    box = page.find_element(By.CSS_SELECTOR, 'input[data-facet="place"][value="Mosul"]')
    assert box.is_selected()  # the place facet, the map's text equivalent, agrees


def test_a_map_mark_is_reached_and_used_with_the_keyboard(page, probed):
    type_query(page, "Raqqa")
    wait_for(page, lambda d: marks(d), "marks on the map")
    page.execute_script("document.querySelector('#map circle.mark[data-place=\"Raqqa\"]').focus()")
    focused = page.execute_script("return document.activeElement.dataset.place")
    assert focused == "Raqqa"
    arm(page)
    press(page, Keys.ENTER)
    wait_for(page, lambda d: params(d).get("place") == ["Raqqa"], "Enter on a mark to filter")


# ---------------------------------------------------------------- chips


def test_chips_are_styled_by_kind_filter_on_click_and_say_how_many_more(page, probed):
    type_query(page, "Teym")  # the RFE/RL article: 22 tags
    wait_hits(page, 1, "Teym")
    legend = page.find_element(By.CSS_SELECTOR, "#legend").text
    assert all(kind in legend for kind in ("Side", "Faction", "Operation", "Place"))
    hit = hits(page)[0]
    document = api(probed, f"/documents/{hit.get_attribute('data-id')}")
    chips = hit.find_elements(By.CSS_SELECTOR, "ul.tags button.chip")
    kinds = {c.get_attribute("data-facet") for c in chips}
    assert kinds == {"side", "faction", "operation", "place"}
    for chip in chips:
        facet = chip.get_attribute("data-facet")
        assert f"chip-{facet}" in chip.get_attribute("class")
    total = sum(len(document["facets"][k]) for k in kinds)
    shown = [c for c in chips if c.is_displayed()]
    more = hit.find_element(By.CSS_SELECTOR, "button.more")
    assert more.text == f"+{total - len(shown)} more" and len(shown) == 8
    more.click()
    assert all(c.is_displayed() for c in hit.find_elements(By.CSS_SELECTOR, "button.chip"))
    chip = hit.find_element(By.CSS_SELECTOR, 'button.chip[data-facet="operation"]')
    value = chip.get_attribute("data-value")
    arm(page)
    chip.click()
    wait_for(page, lambda d: params(d).get("operation") == [value], f"operation={value}")
    wait_rendered(page, "Teym")


def test_the_document_view_shows_the_words_each_tag_came_from(page, probed):
    open_at(page, probed, "q=Mayadin&doc=004_bc0f7c810eb851fd")
    tags = page.find_element(By.CSS_SELECTOR, "article#document .doc-tags")
    wait_for(page, lambda d: "Deir ez-Zor" in tags.text, "the document's tags")
    assert "Deir ez-Zor (written “Deir al-Zour”)" in tags.text, tags.text


# ---------------------------------------------------------------- states


def test_loading_shows_after_a_moment_with_aria_busy(page, probed):
    type_query(page, "Raqqa")
    page.execute_script(
        """const real = window.fetch;
        window.fetch = (url, options) => new Promise((resolve) =>
            setTimeout(() => resolve(real(url, options)), 1500));"""
    )
    box = page.find_element(By.CSS_SELECTOR, "input#q")
    arm(page)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Mosul")
    main = page.find_element(By.CSS_SELECTOR, "#main")
    loading = page.find_element(By.CSS_SELECTOR, "#loading")
    wait_for(page, lambda d: main.get_attribute("aria-busy") == "true", "aria-busy on #main")
    wait_for(page, lambda d: loading.is_displayed(), "the loading indicator")
    assert "Searching" in loading.text
    wait_rendered(page, "Mosul")
    assert is_hidden(loading) and main.get_attribute("aria-busy") is None


def test_the_empty_state_offers_the_suggestion_each_filter_and_the_help(page, probed):
    open_at(page, probed, "q=Mosol&faction=Islamic+State&from=2017", state="empty")
    empty = page.find_element(By.CSS_SELECTOR, "#empty")
    assert "No articles match “Mosol”" in empty.text
    assert is_hidden(page.find_element(By.CSS_SELECTOR, "#pager"))
    removals = empty.find_elements(By.CSS_SELECTOR, "button.remove-filter")
    assert [r.get_attribute("data-facet") for r in removals] == ["faction", "dates"]
    empty.find_element(By.XPATH, ".//button[text()='the query syntax']").click()
    assert page.find_element(By.CSS_SELECTOR, "#help").get_attribute("open") is not None
    arm(page)
    removals[0].click()
    wait_for(page, lambda d: "faction" not in params(d), "the faction filter to go")
    wait_rendered(page, "Mosol", state="empty")
    arm(page)
    page.find_element(By.CSS_SELECTOR, "#empty button.suggestion").click()
    wait_rendered(page, "Mosul")
    assert hits(page)


def test_the_pager_shows_only_with_more_than_one_page(page, probed):
    type_query(page, "Raqqa")
    assert is_hidden(page.find_element(By.CSS_SELECTOR, "#pager"))


def test_the_error_state_has_no_pager_timeline_or_map(page, probed):
    type_query(page, "Raqqa")
    type_query(page, "raqqa AND (", state="error")
    for selector in ("#pager", "#timeline", "#map"):
        assert is_hidden(page.find_element(By.CSS_SELECTOR, selector)), selector
    assert not hits(page)


# ---------------------------------------------------------------- FA-KES


@pytest.fixture(scope="module")
def fakes_server(tmp_path_factory, fakes_csv):
    """A server over an index of FA-KES (read in place, indexed into a temporary folder)."""
    folder = tmp_path_factory.mktemp("fakes") / "ix"
    subprocess.run(
        [sys.executable, "-m", "search", "index", str(fakes_csv), "--index", str(folder), "-q"],
        cwd=ROOT,
        capture_output=True,
    )  # exit 1: FA-KES repeats an id with other text
    live = Server(folder)
    yield live
    live.stop()


def test_fakes_chemical_attack_timeline_map_and_screenshots(browser, fakes_server):
    browser.set_window_size(1400, 1000)
    open_at(browser, fakes_server, "q=chemical+attack")
    answer = api(fakes_server, "/search", q="chemical attack", facets="none")
    months = [m["value"] for m in answer["histogram"]["month"]]
    drawn = bars(browser)
    assert [b["period"] for b in drawn] == months  # every month, first hit to last
    first, last = months[0], months[-1]
    assert (first, last) == ("2011-02", "2017-11"), (first, last)
    assert len(months) == (2017 - 2011) * 12 + 11 - 2 + 1
    assert ticks(browser) == [str(year) for year in range(2011, 2018)]
    assert not is_hidden(browser.find_element(By.CSS_SELECTOR, "#pager"))  # 83 hits
    wait_for(browser, lambda d: "Damascus" in marks(d), "a Damascus mark")
    DOCS.mkdir(exist_ok=True)
    tallest = max(drawn, key=lambda b: b["count"])["period"]
    ActionChains(browser).move_to_element(bar(browser, tallest)).perform()  # its tip shows
    wait_for(
        browser,
        lambda d: bar(d, tallest).find_element(By.CSS_SELECTOR, ".tip").is_displayed(),
        "the tip of the tallest bar",
    )
    browser.find_element(By.CSS_SELECTOR, "#timeline").screenshot(
        str(DOCS / "screenshot-timeline.png")
    )
    browser.find_element(By.CSS_SELECTOR, "#map").screenshot(str(DOCS / "screenshot-map.png"))
    damascus = browser.find_element(By.CSS_SELECTOR, '#map circle.mark[data-place="Damascus"]')
    arm(browser)
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click'))", damascus)
    wait_for(browser, lambda d: params(d).get("place") == ["Damascus"], "place=Damascus")
    wait_rendered(browser, "chemical attack")
    expected = api(fakes_server, "/search", q="chemical attack", place="Damascus", per_page=10)
    assert hit_ids(browser) == [hit["id"] for hit in expected["hits"]]
    assert all("Damascus" in hit["tags"]["place"] for hit in expected["hits"])
    open_at(browser, fakes_server, "q=chemicel+atack&place=Aleppo&from=2016", state="empty")
    browser.find_element(By.CSS_SELECTOR, "main").screenshot(str(DOCS / "screenshot-empty.png"))
    for name in ("timeline", "map", "empty"):
        assert (DOCS / f"screenshot-{name}.png").stat().st_size > 5_000
