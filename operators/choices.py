"""Enumerations of the operators app, in one place."""

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
