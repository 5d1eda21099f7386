"""The site form names prefectures as its reader does: 福岡県 in Japanese, Fukuoka in English."""

from __future__ import annotations

import pytest
from django.test import Client

from operators.choices import PREFECTURE_NAMES_JA, PREFECTURES

pytestmark = pytest.mark.django_db


def test_every_prefecture_has_its_japanese_name():
    assert set(PREFECTURE_NAMES_JA) == set(PREFECTURES) and len(PREFECTURES) == 47


@pytest.mark.parametrize(("language", "shown", "not_shown"),
                         [("ja", ">福岡県<", ">Fukuoka<"), ("en", ">Fukuoka<", ">福岡県<")])  # fmt: skip
def test_the_site_form_names_prefectures_in_the_readers_language(alice, language, shown, not_shown):
    client = Client()
    client.force_login(alice.user)
    client.cookies["django_language"] = language
    body = client.get("/sites/new/").content.decode()
    assert '<option value="fukuoka"' in body  # the stored code is unchanged
    assert shown in body and not_shown not in body
