"""Keystroke to rendered results in the search page, measured in Chromium.

    python benchmarks/page_latency.py --index /tmp/search-bench/ours-10000

Serves the index (one worker), opens the page in headless Chromium (Debian's, driven by
Selenium), types each query and reads `window.lastRenderMs`: milliseconds from the last
keystroke to the rendered results, the 200 ms typing pause included. Prints median and p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.live import Server  # noqa: E402
from tests.loadgen import QUERIES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    live = Server(args.index)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    times = []
    try:
        driver.get(live.url + "/")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.execute_script("return document.body.dataset.state") == "ready")
        box = driver.find_element(By.ID, "q")
        for _ in range(args.rounds):
            for query in [q for q in QUERIES if q]:
                driver.execute_script("window.lastRenderMs = undefined")
                box.clear()
                box.send_keys(query)
                wait.until(lambda d: d.execute_script("return window.lastRenderMs") is not None)
                time.sleep(0.3)  # a superseded render may land later: take the last
                times.append(driver.execute_script("return window.lastRenderMs"))
    finally:
        driver.quit()
        live.stop()
    median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
    print(
        f"{args.index.name}: keystroke to rendered results, median {median:.0f} ms, "
        f"p95 {p95:.0f} ms over {len(times)} typed queries (200 ms typing pause included)"
    )


if __name__ == "__main__":
    main()
