"""Enumerations of the operators app, in one place."""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from aggregator.platform.access import Scope


class OrganisationRole(models.TextChoices):
    POWER_SUPPLIER = "power_supplier", _("Power supplier")
    COMPUTE_PROVIDER = "compute_provider", _("Compute provider")
    WORKLOAD_OWNER = "workload_owner", _("Workload owner")
    REGULATOR = "regulator", _("Regulator")
    MARKET_OPERATOR = "market_operator", _("Market operator")


class MemberRole(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    TRADER = "trader", _("Trader")
    ADMIN = "admin", _("Admin")


# What each membership role may do; an API key carries its scopes explicitly.
MEMBER_ROLE_SCOPES: dict[str, frozenset[str]] = {
    MemberRole.VIEWER: frozenset({Scope.READ}),
    MemberRole.TRADER: frozenset({Scope.READ, Scope.TRADE}),
    MemberRole.ADMIN: frozenset({Scope.READ, Scope.TRADE, Scope.ADMIN}),
}


class Accelerator(models.TextChoices):
    H100 = "h100", "NVIDIA H100"
    H200 = "h200", "NVIDIA H200"
    B200 = "b200", "NVIDIA B200"
    A100 = "a100", "NVIDIA A100"
    L4 = "l4", "NVIDIA L4"
    MI300X = "mi300x", "AMD MI300X"
    CPU = "cpu", _("CPU only")


class ResidencyTag(models.TextChoices):
    JP = "jp", _("Data stays in Japan")
    ISMAP = "ismap", _("ISMAP-registered")
    FISC = "fisc", _("FISC security guidelines")
    GOV = "gov", _("Government cloud")


PREFECTURES = [
    "hokkaido", "aomori", "iwate", "miyagi", "akita", "yamagata", "fukushima", "ibaraki",
    "tochigi", "gunma", "saitama", "chiba", "tokyo", "kanagawa", "niigata", "toyama",
    "ishikawa", "fukui", "yamanashi", "nagano", "gifu", "shizuoka", "aichi", "mie", "shiga",
    "kyoto", "osaka", "hyogo", "nara", "wakayama", "tottori", "shimane", "okayama",
    "hiroshima", "yamaguchi", "tokushima", "kagawa", "ehime", "kochi", "fukuoka", "saga",
    "nagasaki", "kumamoto", "oita", "miyazaki", "kagoshima", "okinawa",
]  # fmt: skip
# Their names as a Japanese reader knows them (the codes stay romanised: stored and in the API).
PREFECTURE_NAMES_JA = {
    "hokkaido": "北海道", "aomori": "青森県", "iwate": "岩手県", "miyagi": "宮城県", "akita": "秋田県",
    "yamagata": "山形県", "fukushima": "福島県", "ibaraki": "茨城県", "tochigi": "栃木県", "gunma": "群馬県",
    "saitama": "埼玉県", "chiba": "千葉県", "tokyo": "東京都", "kanagawa": "神奈川県", "niigata": "新潟県",
    "toyama": "富山県", "ishikawa": "石川県", "fukui": "福井県", "yamanashi": "山梨県", "nagano": "長野県",
    "gifu": "岐阜県", "shizuoka": "静岡県", "aichi": "愛知県", "mie": "三重県", "shiga": "滋賀県",
    "kyoto": "京都府", "osaka": "大阪府", "hyogo": "兵庫県", "nara": "奈良県", "wakayama": "和歌山県",
    "tottori": "鳥取県", "shimane": "島根県", "okayama": "岡山県", "hiroshima": "広島県", "yamaguchi": "山口県",
    "tokushima": "徳島県", "kagawa": "香川県", "ehime": "愛媛県", "kochi": "高知県", "fukuoka": "福岡県",
    "saga": "佐賀県", "nagasaki": "長崎県", "kumamoto": "熊本県", "oita": "大分県", "miyazaki": "宮崎県",
    "kagoshima": "鹿児島県", "okinawa": "沖縄県",
}  # fmt: skip


def prefecture_choices() -> list[tuple[str, str]]:
    """The prefectures for a form, named in the active language (北海道, or Hokkaido)."""
    from django.utils.translation import get_language

    japanese = (get_language() or "").startswith("ja")
    return [(p, PREFECTURE_NAMES_JA[p] if japanese else p.title()) for p in PREFECTURES]


class OperatorsAudit(StrEnum):
    """Audit event codes of the operators app (stored and hashed: values never change)."""

    ORGANISATION_CREATED = "operators.organisation.created"
    ORGANISATION_UPDATED = "operators.organisation.updated"
    MEMBER_ADDED = "operators.member.added"
    MEMBER_ROLE_CHANGED = "operators.member.role_changed"
    MEMBER_DEACTIVATED = "operators.member.deactivated"
    SITE_CREATED = "operators.site.created"
    SITE_UPDATED = "operators.site.updated"
    API_KEY_CREATED = "operators.api_key.created"
    API_KEY_REVOKED = "operators.api_key.revoked"
    WEBHOOK_CREATED = "operators.webhook.created"
    WEBHOOK_UPDATED = "operators.webhook.updated"
    WEBHOOK_SECRET_ROTATED = "operators.webhook.secret_rotated"  # noqa: S105 (a code, no secret)
    LOGIN_LOCKED_OUT = "operators.login.locked_out"
