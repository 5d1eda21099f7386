"""API messages in the request's language (Accept-Language), roles named by their labels.

ApiLanguageMiddleware gives English to a client that sends no Accept-Language; with one,
Django's LocaleMiddleware picks Japanese or English. Services' messages are marked for
translation, so the same refusal reads in either language.
"""

from __future__ import annotations

import pytest

from operators.choices import MemberRole
from tests.conftest import SITE_DATA, _member, _org, key_client

pytestmark = pytest.mark.django_db

SIGNAL = {"kind": "system_price", "values": [
    {"interval_start": "2030-04-01T12:00:00+09:00", "value": "12.0"}]}  # fmt: skip


@pytest.fixture
def supplier(db):
    return key_client(_member(_org("gamma", ["power_supplier"]), "sue", MemberRole.ADMIN))[0]


def _detail(response) -> str:
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    return response.json()["detail"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "Only a market operator publishes system_price signals."),
        ("en", "Only a market operator publishes system_price signals."),
        ("ja", "system_price シグナルを公表できるのは 市場運営者 のみです。"),
        ("ja-JP,ja;q=0.9,en;q=0.5", "system_price シグナルを公表できるのは 市場運営者 のみです。"),
    ],
)
def test_a_refusal_names_the_role_by_its_label_in_the_requests_language(
    supplier, language, expected
):
    headers = {} if language is None else {"HTTP_ACCEPT_LANGUAGE": language}
    response = supplier.post("/api/v1/signals/", SIGNAL, format="json", **headers)
    assert response.status_code == 403
    assert _detail(response) == expected
    assert "market_operator" not in _detail(response)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Only compute providers register sites."),
        ("ja", "サイトを登録できるのは計算資源提供者のみです。"),
    ],
)
def test_operators_services_speak_both_languages(supplier, language, expected):
    """These were English only (no gettext) until issue 18."""
    response = supplier.post("/api/v1/sites/", SITE_DATA, format="json",
                             HTTP_ACCEPT_LANGUAGE=language)  # fmt: skip
    assert response.status_code == 403
    assert _detail(response) == expected


def test_an_unknown_area_in_best_windows_is_refused_in_japanese(supplier):
    response = supplier.get("/api/v1/signals/best-windows", {"areas": "atlantis", "hours": 1},
                            HTTP_ACCEPT_LANGUAGE="ja")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"]["areas"] == ["不明なエリア: atlantis。"]


@pytest.mark.parametrize(
    ("language", "title", "detail"),
    [
        ("en", "Not found", "There is nothing at this address."),
        ("ja", "見つかりません", "このアドレスには何もありません。"),
    ],
)
def test_an_unknown_api_address_answers_in_the_requests_language(supplier, language, title, detail):
    response = supplier.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert (response.json()["title"], response.json()["detail"]) == (title, detail)
