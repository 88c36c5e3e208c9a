"""The web page at GET /, driven in headless Chromium by Selenium over a real `search serve`.

Needs Debian's chromium and chromedriver (/usr/bin); skipped without them, except under CI
(the environment variable CI set), where their absence is a failure. Selenium Manager is never
used: the driver and the browser are named by path, so nothing is downloaded.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from tests.live import ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _unavailable() -> str | None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        return f"{' and '.join(missing)} missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


if (_reason := _unavailable()) is not None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 10  # seconds, the most any condition is waited for
FACETS = ("region", "theme", "faction", "place", "country", "source")
XSS_ID = "xss-probe"
XSS_IMG = '<img src=x onerror="window.pwned=1">'
XSS_SCRIPT = "<script>window.pwned=2</script>"
SCREENSHOT = ROOT / "docs" / "screenshot-results.png"


# An Arabic article about a town the seeds do not name, found by its English name too.
ARABIC = {
    "id": "ar-khan-shaykhun",
    "title": "غارات على خان شيخون في ريف إدلب",
    "body": "قصفت الطائرات الحربية مدينة خان شَيخون في ريف إدلب الجنوبي صباح الثلاثاء.",
    "date": "2017-04-04",
}

# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def probed(tmp_path_factory, seeds_index):
    """A real server over a copy of the seeds and the XSS probe: its own, since the probe is
    one more document than the session's `server` holds."""
    folder = tmp_path_factory.mktemp("browser") / "ix"
    shutil.copytree(seeds_index, folder)
    probe = tmp_path_factory.mktemp("browser-input") / "xss.json"
    probe.write_text(
        json.dumps(
            {
                "id": XSS_ID,
                "title": f"Zubrowka dispatch {XSS_IMG} {XSS_SCRIPT}",
                "body": f"The Zubrowka convoy arrived. {XSS_IMG} then {XSS_SCRIPT} and "
                "zubrowka again.",
                "date": "2016-02-03",
            }
        )
    )
    arabic = probe.with_name("arabic.json")
    arabic.write_text(json.dumps(ARABIC, ensure_ascii=False), encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "search",
            "index",
            str(probe),
            str(arabic),
            "--index",
            str(folder),
            "-q",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    live = Server(folder)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def page(probed, browser):
    """A fresh page at / in a 1280x900 window; returns the driver."""
    browser.set_window_size(1280, 900)
    browser.get(probed.url + "/")
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "input#q"), "no input#q on the page at /"
    )
    wait_rendered(browser)  # its first render done, so that a test's typing starts from rest
    return browser


# ---------------------------------------------------------------- helpers


def params(driver) -> dict[str, list[str]]:
    return parse_qs(urlsplit(driver.current_url).query)


def snapshot(driver) -> str:
    """What the page shows, for failure messages."""
    return json.dumps(
        driver.execute_script(
            """
            const text = (sel) => { const e = document.querySelector(sel);
                                    return e ? e.innerText : `(no ${sel})`; };
            const error = document.querySelector('#error');
            return {url: location.href, state: document.body.dataset.state,
                    lastRenderMs: window.lastRenderMs ?? null,
                    q: document.querySelector('#q')?.value,
                    status: text('#status'), error: text('#error'),
                    errorHidden: error ? error.hidden : null,
                    hits: document.querySelectorAll('#results li.hit').length};
            """
        )
    )


def wait_for(driver, condition, what: str):
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.05).until(lambda d: condition(d))
    except TimeoutException:
        pytest.fail(f"waited {WAIT} s for {what}; the page shows {snapshot(driver)}")


def arm(driver) -> None:
    """Forget the last render, so that waiting for one waits for the next."""
    driver.execute_script("window.lastRenderMs = undefined;")


def wait_rendered(driver, q: str | None = None, state: str = "ready") -> float:
    """Waits for a render (lastRenderMs set and body[data-state] == state) of query q (as in the
    URL); returns lastRenderMs."""

    def rendered(d):
        # one script: read apart, a render of the old query could pass with the new URL
        ms, current, search = d.execute_script(
            "return [window.lastRenderMs, document.body.dataset.state, location.search];"
        )
        if not isinstance(ms, int | float) or current != state:
            return False
        if q is not None and parse_qs(search.lstrip("?")).get("q", [""])[0] != q:
            return False
        return ms

    return wait_for(driver, rendered, f"a render of q={q!r} ending in state {state!r}")


def type_query(driver, text: str, state: str = "ready") -> float:
    """Replaces the search box's text by typing `text`; waits for its render."""
    box = driver.find_element(By.CSS_SELECTOR, "input#q")
    arm(driver)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text)
    return wait_rendered(driver, text, state)


def hits(driver):
    return driver.find_elements(By.CSS_SELECTOR, "ol#results > li.hit")


def hit_ids(driver) -> list[str]:
    return [hit.get_attribute("data-id") for hit in hits(driver)]


def wait_hits(driver, count: int, what: str) -> None:
    wait_for(driver, lambda d: len(hits(d)) == count, f"{count} li.hit ({what})")


def facet_counts(driver, name: str) -> dict[str, int]:
    """{value: count} of the checkboxes shown in section.facet[data-facet=name]."""
    rows = driver.execute_script(
        """
        const section = document.querySelector(`section.facet[data-facet="${arguments[0]}"]`);
        if (!section) return null;
        return [...section.querySelectorAll('label')].map((label) => {
            const box = label.querySelector('input[type=checkbox]');
            const count = label.querySelector('span.count');
            return [box && box.dataset.facet, box && box.value, count && count.textContent];
        });
        """,
        name,
    )
    assert rows is not None, f"no section.facet[data-facet={name!r}]"
    counts = {}
    for facet, value, count in rows:
        assert facet == name, f"a label in facet {name!r} has checkbox data-facet={facet!r}"
        assert count is not None, f"facet {name!r}, value {value!r}: no span.count"
        digits = re.sub(r"[^\d]", "", count)
        assert digits, f"facet {name!r}, value {value!r}: span.count is {count!r}"
        counts[value] = int(digits)
    return counts


def is_hidden(element) -> bool:
    return element.get_attribute("hidden") is not None or not element.is_displayed()


def api(probed, path: str, **query):
    response = probed.client.get(path, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def normal(text: str) -> str:
    return " ".join(text.split())


def press(driver, *keys) -> None:
    ActionChains(driver).send_keys(*keys).perform()


# ---------------------------------------------------------------- tests


def test_typing_shows_hits_with_marked_snippets(page):
    type_query(page, "Raqqa")
    wait_hits(page, 4, "Raqqa finds 4 seeds")
    status = page.find_element(By.CSS_SELECTOR, "#status")
    assert status.get_attribute("role") == "status"
    assert re.search(r"\b4 results\b", status.text), f"#status says {status.text!r}"
    for hit in hits(page):
        snippets = hit.find_elements(By.CSS_SELECTOR, ".snippet")
        assert snippets, f"li.hit[data-id={hit.get_attribute('data-id')}] has no .snippet"
        html = "".join(s.get_attribute("innerHTML") for s in snippets)
        assert "<mark>" in html, f"no <mark> in the snippets of {hit.get_attribute('data-id')}"
        marks = [
            m.get_attribute("textContent")
            for s in snippets
            for m in s.find_elements(By.TAG_NAME, "mark")
        ]
        assert marks and all(re.fullmatch(r"raqqah?", m, re.I) for m in marks), marks
        title = hit.find_element(By.CSS_SELECTOR, "a.title")
        assert title.get_attribute("href").endswith(f"?doc={hit.get_attribute('data-id')}")


def test_facet_checkbox_narrows_and_counts_update(page, probed):
    type_query(page, "Raqqa")
    wait_hits(page, 4, "Raqqa")
    before = {name: facet_counts(page, name) for name in FACETS}
    smaller = [value for value, count in before["faction"].items() if count < 4]
    assert smaller, f"no faction with a count < 4 after Raqqa: {before['faction']}"
    value = smaller[0]
    expected = before["faction"][value]
    box = page.find_element(
        By.CSS_SELECTOR,
        f'section.facet[data-facet="faction"] input[type=checkbox][data-facet="faction"]'
        f"[value={json.dumps(value)}]",
    )
    arm(page)
    page.execute_script("arguments[0].closest('label').scrollIntoView({block: 'center'})", box)
    box.find_element(By.XPATH, "./ancestor::label").click()
    wait_for(page, lambda d: params(d).get("faction") == [value], f"faction={value} in the URL")
    wait_rendered(page, "Raqqa")
    wait_hits(page, expected, f"Raqqa + faction {value}")
    answer = api(probed, "/search", q="Raqqa", faction=value, facet_size=100, per_page=100)
    assert sorted(hit_ids(page)) == sorted(hit["id"] for hit in answer["hits"])
    ticked = page.find_element(
        By.CSS_SELECTOR, f"input[type=checkbox][data-facet=faction][value={json.dumps(value)}]"
    )
    assert ticked.is_selected(), f"the {value!r} checkbox is not ticked after the render"

    after = {name: facet_counts(page, name) for name in FACETS}
    own = {v: c for v, c in after["faction"].items() if v in before["faction"]}
    assert own == before["faction"], "faction counts must ignore the faction filter"
    for name in FACETS:
        truth = {v["value"]: v["count"] for v in answer["facets"][name]["values"]}
        shown = {v: c for v, c in after[name].items() if c}
        wrong = {v: (c, truth.get(v)) for v, c in shown.items() if truth.get(v) != c}
        assert not wrong, f"facet {name}: shown vs API counts (shown, api) differ: {wrong}"
    changed = [name for name in FACETS if name != "faction" and after[name] != before[name]]
    assert changed, f"no other facet's counts changed after ticking {value!r}: {after}"


def test_follow_and_export_links_carry_the_current_search(page, probed):
    """The page offers the current search as a feed and as a CSV of every result."""
    arm(page)
    page.get(probed.url + "/?q=Raqqa&country=Syria&sort=-date&page=2")
    wait_rendered(page, "Raqqa")
    follow = page.find_element(By.CSS_SELECTOR, "a#follow")
    export = page.find_element(By.CSS_SELECTOR, "a#export-csv")
    assert follow.is_displayed() and export.is_displayed()
    search = "q=Raqqa&country=Syria&sort=-date"  # every result: no page
    assert follow.get_attribute("href") == f"{probed.url}/search.atom?{search}"
    assert export.get_attribute("href") == f"{probed.url}/search.csv?{search}"
    total = api(probed, "/search", q="Raqqa", country="Syria")["total"]
    feed = feedparser.parse(probed.client.get(follow.get_attribute("href")).content)
    assert not feed.bozo and len(feed.entries) == total > 0
    rows = list(csv.DictReader(io.StringIO(probed.client.get(export.get_attribute("href")).text)))
    assert len(rows) == total


def test_back_button_restores_previous_search(page):
    type_query(page, "Raqqa")
    wait_hits(page, 4, "Raqqa")
    type_query(page, "Mosul")
    wait_hits(page, 3, "Mosul")
    arm(page)
    page.back()
    wait_for(
        page,
        lambda d: d.find_element(By.CSS_SELECTOR, "input#q").get_attribute("value") == "Raqqa",
        "#q to read Raqqa again after back",
    )
    wait_rendered(page, "Raqqa")
    wait_hits(page, 4, "Raqqa again after back")


def test_hit_title_opens_document_and_escape_closes_it(page, probed):
    type_query(page, "Raqqa")
    wait_hits(page, 4, "Raqqa")
    article = page.find_element(By.CSS_SELECTOR, "article#document")
    assert is_hidden(article), "article#document shows before any document is opened"
    first = hits(page)[0]
    doc_id = first.get_attribute("data-id")
    first.find_element(By.CSS_SELECTOR, "a.title").click()
    wait_for(page, lambda d: params(d).get("doc") == [doc_id], f"doc={doc_id} in the URL")
    wait_for(page, lambda d: article.is_displayed(), "article#document to show")
    document = api(probed, f"/documents/{doc_id}")
    wait_for(
        page,
        lambda d: (
            normal(article.find_element(By.CSS_SELECTOR, ".doc-body").get_attribute("innerText"))
            == normal(document["body"])
        ),
        "the full body in .doc-body",
    )
    title = article.find_element(By.CSS_SELECTOR, "h2.doc-title").text
    assert normal(title) == normal(document["title"]), (title, document["title"])
    tags = article.find_element(By.CSS_SELECTOR, ".doc-tags").get_attribute("innerText")
    missing = [
        value
        for name in ("faction", "place")
        for value in document["facets"].get(name, [])
        if value not in tags
    ]
    assert not missing, f".doc-tags lacks {missing}; it reads {tags!r}"
    wait_for(
        page,
        lambda d: d.find_elements(By.CSS_SELECTOR, "ul#similar li a"),
        "links in ul#similar",
    )
    press(page, Keys.ESCAPE)
    wait_for(page, lambda d: is_hidden(article), "Escape to hide article#document")
    wait_for(page, lambda d: "doc" not in params(d), "doc= to leave the URL")


def test_syntax_error_shows_api_message_then_clears(page, probed):
    error = page.find_element(By.CSS_SELECTOR, "#error")
    assert error.get_attribute("role") == "alert"
    type_query(page, "raqqa AND (mosul", state="error")
    answer = probed.client.get("/search", params={"q": "raqqa AND (mosul"})
    api_error = answer.json()["error"]["message"]
    wait_for(page, lambda d: not is_hidden(error), "#error to show")
    assert "unclosed '('" in error.text and api_error in error.text, (
        f"#error says {error.text!r}; the API said {api_error!r}"
    )
    assert page.find_element(By.CSS_SELECTOR, "input#q").is_displayed(), "the page went blank"
    assert page.find_element(By.CSS_SELECTOR, "input#q").get_attribute("value") == (
        "raqqa AND (mosul"
    )
    box = page.find_element(By.CSS_SELECTOR, "input#q")
    arm(page)
    box.send_keys(Keys.END, ")")
    wait_rendered(page, "raqqa AND (mosul)")
    total = api(probed, "/search", q="raqqa AND (mosul)")["total"]
    wait_hits(page, total, "raqqa AND (mosul)")
    assert error.get_attribute("hidden") is not None, "#error lacks the hidden attribute"


def test_article_text_is_never_html(page, probed):
    type_query(page, "zubrowka")
    wait_hits(page, 1, "the XSS probe")
    hit = hits(page)[0]
    assert hit.get_attribute("data-id") == XSS_ID
    injected = """return {
        imgs: document.querySelectorAll('img[src="x"], img[onerror]').length,
        scripts: [...document.scripts].filter((s) => s.textContent.includes('pwned')).length};"""
    assert page.execute_script(injected) == {"imgs": 0, "scripts": 0}
    title = hit.find_element(By.CSS_SELECTOR, "a.title").text
    assert XSS_IMG in title and XSS_SCRIPT in title, f"the title reads {title!r}"
    snippets = " ".join(s.text for s in hit.find_elements(By.CSS_SELECTOR, ".snippet"))
    assert XSS_IMG in snippets or XSS_SCRIPT in snippets, f"the snippets read {snippets!r}"

    hit.find_element(By.CSS_SELECTOR, "a.title").click()
    article = page.find_element(By.CSS_SELECTOR, "article#document")
    wait_for(
        page,
        lambda d: (
            article.is_displayed()
            and XSS_SCRIPT in article.find_element(By.CSS_SELECTOR, ".doc-body").text
        ),
        "the document view of the probe",
    )
    doc_title = article.find_element(By.CSS_SELECTOR, "h2.doc-title").text
    assert XSS_IMG in doc_title and XSS_SCRIPT in doc_title, f"h2.doc-title reads {doc_title!r}"
    assert XSS_IMG in article.find_element(By.CSS_SELECTOR, ".doc-body").text
    assert page.execute_script(injected) == {"imgs": 0, "scripts": 0}
    time.sleep(0.3)  # an injected onerror would fire asynchronously
    assert page.execute_script("return typeof window.pwned") == "undefined"


@pytest.mark.parametrize("q", ["خان شيخون", "Khan Sheikhoun"])
def test_an_arabic_article_reads_right_to_left_in_either_script(page, q):
    type_query(page, q)
    wait_hits(page, 1, f"{q} finds the Arabic article")
    hit = hits(page)[0]
    assert hit.get_attribute("data-id") == ARABIC["id"]
    direction = "return getComputedStyle(arguments[0]).direction;"
    title = hit.find_element(By.CSS_SELECTOR, "h2")
    snippet = hit.find_element(By.CSS_SELECTOR, ".snippet")
    assert page.execute_script(direction, title) == "rtl"
    assert page.execute_script(direction, snippet) == "rtl"
    marks = [m.get_attribute("textContent") for m in snippet.find_elements(By.TAG_NAME, "mark")]
    assert marks == ["خان شَيخون"], marks  # the words as written, their mark included


def test_keyboard_search_and_suggestions(page):
    box = page.find_element(By.CSS_SELECTOR, "input#q")
    assert box.get_attribute("type") == "search"
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-controls") == "suggestions"
    listbox = page.find_element(By.CSS_SELECTOR, "ul#suggestions")
    assert listbox.get_attribute("role") == "listbox"

    def focused(d):
        return d.execute_script("return document.activeElement === document.querySelector('#q')")

    tabs = 0
    while not focused(page) and tabs < 3:
        press(page, Keys.TAB)
        tabs += 1
    assert focused(page), "three Tabs from the page start do not reach input#q"

    def options(d):
        return [
            o
            for o in d.find_elements(By.CSS_SELECTOR, "ul#suggestions li[role=option]")
            if o.is_displayed()
        ]

    press(page, "Mo")
    wait_for(page, lambda d: options(d) and not is_hidden(listbox), "suggestions for 'Mo'")
    press(page, Keys.ESCAPE)
    wait_for(page, lambda d: not options(d) or is_hidden(listbox), "Escape to close the list")
    assert focused(page), "Escape moved the focus away from #q"

    press(page, Keys.BACKSPACE, Keys.BACKSPACE, "Ra")
    wait_for(page, lambda d: options(d) and not is_hidden(listbox), "suggestions for 'Ra'")
    press(page, Keys.ARROW_DOWN)

    def selected(d):
        active = box.get_attribute("aria-activedescendant")
        for option in options(d):
            if option.get_attribute("aria-selected") == "true" or (
                active and option.get_attribute("id") == active
            ):
                return option
        return None

    option = wait_for(page, selected, "ArrowDown to select an option (aria-selected=true)")
    chosen = normal(option.text)
    arm(page)
    press(page, Keys.ENTER)
    wait_for(page, lambda d: params(d).get("q", [""])[0] != "Ra", "Enter to run a search")
    wait_rendered(page)
    q = params(page)["q"][0]
    assert q.lower() in chosen.lower(), f"Enter searched {q!r}, the option read {chosen!r}"
    assert box.get_attribute("value") == q
    assert hits(page), f"no hits after choosing {chosen!r}"
    wait_for(page, lambda d: not options(d) or is_hidden(listbox), "the list to close on Enter")


def test_narrow_screen_has_no_horizontal_scroll(page):
    page.set_window_size(360, 800)
    assert page.execute_script("return window.innerWidth") == 360
    type_query(page, "Raqqa")
    wait_hits(page, 4, "Raqqa at 360 px")
    width = page.execute_script("return document.documentElement.scrollWidth")
    assert width <= 362, f"document.documentElement.scrollWidth is {width} at a 360 px window"
    first = hits(page)[0]
    assert first.is_displayed()
    right = page.execute_script("return arguments[0].getBoundingClientRect().right", first)
    assert right <= 362, f"the first li.hit ends at x={right}"


def test_screenshot_of_results(page):
    type_query(page, "Raqqa")
    wait_hits(page, 4, "Raqqa")
    listbox = page.find_element(By.CSS_SELECTOR, "ul#suggestions")
    if not is_hidden(listbox):  # the autocomplete list would cover the status and histogram
        press(page, Keys.ESCAPE)
        wait_for(page, lambda d: is_hidden(listbox), "Escape to close the suggestions")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    assert page.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 10_000


def test_render_time(page):
    queries = [
        "Raqqa",
        "Mosul",
        "Daesh",
        "Deir ez-Zor",
        "SDF",
        "Palmyra",
        "coalition",
        "Aleppo",
        "oil",
        "Tiger Forces",
    ]
    times = [type_query(page, q) for q in queries]
    assert all(t >= 0 for t in times), times
    median = statistics.median(times)
    print(
        f"\nmedian window.lastRenderMs over {len(queries)} typed queries: {median:.0f} ms "
        f"(all: {', '.join(f'{t:.0f}' for t in times)})"
    )
