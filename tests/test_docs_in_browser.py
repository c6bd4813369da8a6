"""The interactive docs render in a real browser that can reach no host but Gatehouse.

Headless Chromium opens the page with every other host name unresolvable, as on a machine with no
internet, and prints the DOM once the page's JavaScript has run; its network log lists every request
the page made. Skipped when no browser is installed; .ci/run installs Debian's chromium.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServiceProcess

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No internet: no name resolves but the service's own address.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=10000",  # run the page's scripts and timers for 10 s of virtual time first
)
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# One operation as Swagger UI renders it: its block names the method, the path follows inside it.
RENDERED_OPERATION = re.compile(r'<div class="opblock opblock-(\w+)[^"]*"[^>]*>.*?data-path="([^"]*)"')


@dataclass(frozen=True)
class Page:
    dom: str
    dom_file: Path  # kept for reading after a failure
    requested: list[str]  # every URL the page itself asked for


@pytest.fixture(scope="module")
def browser() -> str:
    found = os.environ.get("GATEHOUSE_BROWSER") or next(filter(None, map(shutil.which, BROWSERS)), None)
    if found is None:
        pytest.skip("no browser to render the docs in: apt-get install chromium, or set GATEHOUSE_BROWSER")
    return found


def open_page(browser: str, url: str, origin: str, work_dir: Path) -> Page:
    net_log = work_dir / "net-log.json"
    profile = f"--user-data-dir={work_dir / 'profile'}"  # a fresh profile: nothing cached from an earlier run
    result = subprocess.run(
        [browser, *BROWSER_FLAGS, profile, f"--log-net-log={net_log}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # asserted below, with the browser's own words
    )
    assert result.returncode == 0, result.stderr
    dom_file = work_dir / "dom.html"
    dom_file.write_text(result.stdout, encoding="utf-8")
    return Page(result.stdout, dom_file, requested_by(origin, net_log))


def requested_by(origin: str, net_log: Path) -> list[str]:
    """URLs of the requests whose initiator is the page's origin, besides the page itself.

    The browser's own background requests (update checks, clock sync) have no such initiator.
    """
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job and event.get("params", {}).get("initiator") == origin
    ]


def schema_operations(base_url: str) -> set[tuple[str, str]]:
    schema = httpx.get(f"{base_url}/docs/openapi.json", timeout=30).raise_for_status().json()
    return {(method, path) for path, item in schema["paths"].items() for method in item if method in HTTP_METHODS}


@pytest.mark.parametrize("docs_path", ["/docs", "/docs/swagger"])
def test_docs_render_every_operation_from_gatehouse_alone(
    browser: str, service: ServiceProcess, tmp_path: Path, docs_path: str
) -> None:
    page = open_page(browser, f"{service.base_url}{docs_path}", service.base_url, tmp_path)

    rendered = {(method, html.unescape(path)) for method, path in RENDERED_OPERATION.findall(page.dom)}
    assert rendered == schema_operations(service.base_url), f"the page as the browser left it: {page.dom_file}"
    assert f"{service.base_url}/docs/assets/swagger-ui-bundle.js" in page.requested, page.requested
    elsewhere = [url for url in page.requested if not url.startswith(f"{service.base_url}/")]
    assert elsewhere == [], "the docs page loads files from other hosts"
