"""``make bench-web``: Lighthouse 12.2.3 (mobile preset, Debian's Chromium) on the demo
clinic's booking page — the calendar a customer lands on — of a fresh ``make run``.

Prints ``lighthouse_performance``, ``lighthouse_accessibility`` (0–100) and
``booking_page_bytes`` (everything transferred on first load, Lighthouse's
total-byte-weight). Aim: ≥ 95, ≥ 95, ≤ 100 KB. Scores move with the machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from support import figure, say
from web_stack import local_stack

LIGHTHOUSE = Path(__file__).parent / "web" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-sync"


def main() -> None:
    if not LIGHTHOUSE.exists():
        sys.exit("run `npm ci --prefix bench/web` first (make bench-web does)")
    with local_stack() as (web, _token):
        page = str(httpx.get(f"{web}/demo", follow_redirects=True, timeout=10).url)
        page = page.rstrip("/") + "/60-min-massage"
        say(f"lighthouse on {page}")
        httpx.get(page, timeout=10).raise_for_status()  # warm: the first view fills caches
        with tempfile.TemporaryDirectory() as scratch:
            report = Path(scratch) / "report.json"
            subprocess.run(
                [
                    str(LIGHTHOUSE),
                    page,
                    "--output=json",
                    f"--output-path={report}",
                    "--only-categories=performance,accessibility",
                    f"--chrome-flags={CHROME_FLAGS}",
                    "--quiet",
                ],
                check=True,
                env={
                    **os.environ,
                    "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
                },
            )
            result = json.loads(report.read_text())
    categories = result["categories"]
    figure("lighthouse_performance", str(round(categories["performance"]["score"] * 100)))
    figure("lighthouse_accessibility", str(round(categories["accessibility"]["score"] * 100)))
    figure("booking_page_bytes", str(int(result["audits"]["total-byte-weight"]["numericValue"])))
    for audit in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time"):
        say(f"{audit}: {result['audits'][audit]['displayValue']}")


if __name__ == "__main__":
    main()
