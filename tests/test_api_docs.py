"""/api/docs/ works without internet (a government intranet): Swagger UI comes from the
project's own static files (drf-spectacular-sidecar), never from a CDN (issue 11 §3)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

ASSET_RE = re.compile(r'(?:src|href)="([^"]+)"')
STATIC_PREFIX = "/static/"  # STATIC_URL, as the pages write it


# The split view's start-up script: the page's own URL (no inline script).
SCRIPT = "/api/docs/?script="


def docs_assets(client: Client) -> list[str]:
    """The page's static assets; its start-up script, served by the view itself, is checked
    here: 200, JavaScript, no host named in it."""
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    # No host at all in the page: every script, style and icon is a path on this server.
    assert re.findall(r"[a-z][a-z0-9+.-]*://", page) == []
    assert "//" not in "".join(ASSET_RE.findall(page))
    assets = ASSET_RE.findall(page)
    assert SCRIPT in assets
    script = client.get(SCRIPT)
    assert script.status_code == 200
    assert script["Content-Type"].startswith(("application/javascript", "text/javascript"))
    assert re.findall(r"https?://", script.content.decode()) == []
    return [url for url in assets if url != SCRIPT]


def assert_served(client: Client, assets: list[str]) -> None:
    """Each asset answers 200 with exactly the file the sidecar package ships."""
    kinds = {}
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        shipped = finders.find(url.removeprefix(STATIC_PREFIX))
        with open(shipped, "rb") as handle:
            assert b"".join(response.streaming_content) == handle.read(), url
        kinds[url.rsplit(".", 1)[-1]] = response["Content-Type"]
    assert kinds["js"].startswith(("text/javascript", "application/javascript"))
    assert kinds["css"].startswith("text/css")
    assert kinds["png"] == "image/png"


def test_the_docs_page_loads_swagger_ui_from_this_server(settings):
    settings.DEBUG = True  # make run: WhiteNoise serves from the apps' static folders
    client = Client()
    assets = docs_assets(client)
    assert sorted(url.rsplit("/", 1)[-1] for url in assets) == [
        "favicon-32x32.png",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
    ]
    assert all(url.startswith(STATIC_PREFIX + "drf_spectacular_sidecar/") for url in assets)
    assert_served(client, assets)


def test_after_collectstatic_the_assets_are_served_in_production(settings, tmp_path):
    """The image runs collectstatic and serves STATIC_ROOT with DEBUG off."""
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--noinput", "-v0")
    settings.DEBUG = False
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    client = Client()
    assert_served(client, docs_assets(client))
