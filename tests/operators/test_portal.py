"""The portal shell: login in Japanese and English, site forms with validation, keys shown once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import polib
import pytest
from django.conf import settings
from django.test import Client

from operators.models import ApiKey, Site
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# What is not the portal's own text: the environment, the engine's CLI, tests, benchmarks.
MAKEMESSAGES_IGNORE = [
    "--ignore=.venv",
    "--ignore=aggregator/engine",
    "--ignore=tests",
    "--ignore=bench",
]


def _login(client: Client, username: str) -> None:
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def test_login_page_in_japanese_by_default():
    body = Client().get("/login/").content.decode()
    assert "ログイン" in body and "パスワード" in body


def test_login_and_language_switch_is_remembered(alice):
    client = Client()
    _login(client, "alice")
    assert "ダッシュボード" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    assert "Dashboard" in body and "ダッシュボード" not in body
    # The cookie survives a new session (log out, log in again).
    client.post("/logout/")
    _login(client, "alice")
    assert "Dashboard" in client.get("/sites/").content.decode()


def test_anonymous_is_sent_to_login():
    response = Client().get("/sites/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_site_form_validation_then_success(alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _login(client, "alice")
    form = {
        "code": "alpha-hkd-1",
        "name": "Alpha Hokkaido",
        "area": "hokkaido",
        "prefecture": "hokkaido",
        "accelerator": "h100",
        "capacity_cu": "32",
        "kw_per_cu": "1.0",
        "pue": "0.9",
        "latency_sapporo": "3",
    }
    response = client.post("/sites/new/", form)
    assert response.status_code == 200
    assert "PUE must be at least 1.0" in response.content.decode()
    assert not Site.objects.filter(code="alpha-hkd-1").exists()
    response = client.post("/sites/new/", {**form, "pue": "1.2"})
    assert response.status_code == 302
    site = Site.objects.get(code="alpha-hkd-1")
    assert site.latency_ms == {"sapporo": 3} and str(site.pue) == "1.20"


def test_site_error_message_in_japanese(alice):
    client = Client()
    _login(client, "alice")
    response = client.post(
        "/sites/new/",
        {"code": "x1", "name": "x", "area": "tokyo", "prefecture": "tokyo", "accelerator": "h100",
         "capacity_cu": "1", "kw_per_cu": "0", "pue": "1.1"},
    )  # fmt: skip
    assert "CU あたり kW は0より大きい値にしてください。" in response.content.decode()


def test_outsider_cannot_edit_foreign_site(alpha_site, charlie):
    client = Client()
    _login(client, "charlie")
    assert client.get(f"/sites/{alpha_site.code}/").status_code == 404


def test_viewer_cannot_register_site(bob):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    _login(client, "bob")
    form = {"code": "b1", "name": "x", "area": "tokyo", "prefecture": "tokyo",
            "accelerator": "h100", "capacity_cu": "1", "kw_per_cu": "1", "pue": "1.1"}  # fmt: skip
    assert client.post("/sites/new/", form).status_code == 403
    assert not Site.objects.filter(code="b1").exists()


def test_api_key_created_shown_once_and_revoked_in_portal(alice):
    client = Client()
    _login(client, "alice")
    response = client.post("/api-keys/", {"name": "ops", "scopes": ["read"]})
    key = response.context["new_key"]
    assert key in response.content.decode()
    assert key not in client.get("/api-keys/").content.decode()
    api_key = ApiKey.objects.get(name="ops")
    client.post(f"/api-keys/{api_key.pk}/revoke/")
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def test_every_portal_string_is_translated(tmp_path):
    """Extract every string from the code now and check each has a Japanese translation.

    Runs Django's makemessages on a scratch copy of the source tree (it writes the catalogue
    next to the code), so a string added to a template or service without a translation
    fails here, not in front of a user.
    """
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext (xgettext) is not installed; .ci/run installs it")
    root = settings.BASE_DIR
    scratch = tmp_path / "src"
    shutil.copytree(
        root,
        scratch,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "var", "staticfiles", "*.pyc", "data", "docs"
        ),
    )
    env = {**os.environ, "DEBUG": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("WATTBIT_LOCALE_DIR", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ja", *MAKEMESSAGES_IGNORE],
        cwd=scratch, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    catalogue = polib.pofile(str(scratch / "locale/ja/LC_MESSAGES/django.po"))

    def translated(e) -> bool:
        if e.msgid_plural:  # every plural form (Japanese has one) needs its text
            return bool(e.msgstr_plural) and all(e.msgstr_plural.values())
        return bool(e.msgstr)

    missing = [
        e.msgid for e in catalogue if not e.obsolete and (not translated(e) or "fuzzy" in e.flags)
    ]
    assert missing == [], missing
