"""/api/docs/ (Swagger UI) and /api/redoc/ work with no internet: nothing is loaded from another host."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PAGES = ["/api/docs/", "/api/redoc/"]
EXTERNAL = re.compile(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)


class _References(HTMLParser):
    """Every address the page makes the browser load: src and href, and the inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.addresses += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _page(path: str) -> tuple[object, _References]:
    response = APIClient().get(path)
    assert response.status_code == 200
    parser = _References()
    parser.feed(response.content.decode())
    return response, parser


def _local_file(address: str) -> Path:
    assert address.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/")
    found = finders.find(address.split("?")[0].removeprefix("/static/"))
    assert found, f"{address} is not a static file of this server"
    return Path(found)


@pytest.mark.parametrize("path", PAGES)
def test_the_docs_page_names_no_other_host(path):
    response, page = _page(path)
    assert not EXTERNAL.search(response.content.decode()), EXTERNAL.search(response.content.decode())
    assert page.addresses, "the page loads its reader from somewhere"
    for address in page.addresses:
        assert address.startswith("/"), address  # this server's own paths


@pytest.mark.parametrize("path", PAGES)
def test_every_script_and_stylesheet_the_page_loads_is_a_file_of_this_server(path):
    _, page = _page(path)
    for address in page.addresses:
        if address.startswith("/api/"):  # the schema and Swagger UI's start-up script: ours
            assert APIClient().get(address).status_code == 200, address
            continue
        assert _local_file(address).stat().st_size > 0, address


def test_the_swagger_start_up_script_names_no_other_host_and_disables_the_validator_badge():
    _, page = _page("/api/docs/")
    (script,) = [a for a in page.addresses if a.startswith("/api/docs/") and "script" in a]
    response = APIClient().get(script)
    assert response.status_code == 200
    text = response.content.decode()
    assert not EXTERNAL.search(text)
    assert '"validatorUrl": null' in text  # Swagger UI would otherwise call validator.swagger.io
    assert "/api/schema/" in text


@pytest.mark.parametrize("path", PAGES)
def test_the_stylesheets_load_nothing_from_another_host(path):
    _, page = _page(path)
    sheets = [a for a in page.addresses if a.endswith(".css")] + page.inline
    for sheet in sheets:
        text = _local_file(sheet).read_text() if sheet.startswith("/") else sheet
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) + re.findall(
            r"@import\s+['\"]([^'\"]+)", text
        ):
            assert url.startswith(("data:", "/", "#")) or not EXTERNAL.match(url), url


@pytest.mark.parametrize("path", PAGES)
def test_the_browser_is_told_to_load_nothing_from_another_host(path):
    # The vendored bundles hold links of their own (ReDoc's footer logo on a CDN): the policy blocks them.
    response, _ = _page(path)
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["default-src"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    for sources in policy.values():
        assert not EXTERNAL.search(sources), sources
        assert "*" not in sources.split() and "https:" not in sources.split()
