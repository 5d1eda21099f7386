"""The names carbon-aware schedulers use for a place, mapped to the JEPX area that supplies it.

Schedulers name a location the way their cloud or data source does (`japaneast`,
`ap-northeast-1`, `JP-TK`), or the way people do (a prefecture, a JEPX area, in English or
Japanese). Each name maps to the JEPX price area whose general transmission and distribution
utility serves it. Where a prefecture is split between two service areas, it maps to the
area that serves most of it (noted below). Okinawa is not connected to the JEPX grid and
has no area.

Sources: the service territories of the ten general transmission and distribution utilities
(OCCTO's published area list); cloud regions' published locations (Azure japaneast = Tokyo
and Saitama, japanwest = Osaka; AWS ap-northeast-1 = Tokyo, ap-northeast-3 = Osaka; Google
Cloud asia-northeast1 = Tokyo, asia-northeast2 = Osaka; OCI ap-tokyo-1, ap-osaka-1); the
zone codes of Electricity Maps (the source of the carbon factors the exchange ships).
"""

from __future__ import annotations

AREAS_JA = {
    "hokkaido": "北海道",
    "tohoku": "東北",
    "tokyo": "東京",
    "chubu": "中部",
    "hokuriku": "北陸",
    "kansai": "関西",
    "chugoku": "中国",
    "shikoku": "四国",
    "kyushu": "九州",
}

# Prefecture (English, Japanese without its suffix) → area.
PREFECTURES: dict[tuple[str, str], str] = {
    ("hokkaido", "北海道"): "hokkaido",
    ("aomori", "青森"): "tohoku",
    ("iwate", "岩手"): "tohoku",
    ("miyagi", "宮城"): "tohoku",
    ("akita", "秋田"): "tohoku",
    ("yamagata", "山形"): "tohoku",
    ("fukushima", "福島"): "tohoku",
    ("niigata", "新潟"): "tohoku",
    ("ibaraki", "茨城"): "tokyo",
    ("tochigi", "栃木"): "tokyo",
    ("gunma", "群馬"): "tokyo",
    ("saitama", "埼玉"): "tokyo",
    ("chiba", "千葉"): "tokyo",
    ("tokyo", "東京"): "tokyo",
    ("kanagawa", "神奈川"): "tokyo",
    ("yamanashi", "山梨"): "tokyo",
    # Split at the Fuji river: the east (Fuji, Numazu, Izu) is Tokyo's; most is Chubu's.
    ("shizuoka", "静岡"): "chubu",
    ("nagano", "長野"): "chubu",
    ("gifu", "岐阜"): "chubu",  # its far west is Kansai's and Hokuriku's
    ("aichi", "愛知"): "chubu",
    ("mie", "三重"): "chubu",  # a corner in the west is Kansai's
    ("toyama", "富山"): "hokuriku",
    ("ishikawa", "石川"): "hokuriku",
    ("fukui", "福井"): "hokuriku",  # Reinan, the south-west, is Kansai's
    ("shiga", "滋賀"): "kansai",
    ("kyoto", "京都"): "kansai",
    ("osaka", "大阪"): "kansai",
    ("hyogo", "兵庫"): "kansai",  # its west (Ako) is partly Chugoku's
    ("nara", "奈良"): "kansai",
    ("wakayama", "和歌山"): "kansai",
    ("tottori", "鳥取"): "chugoku",
    ("shimane", "島根"): "chugoku",
    ("okayama", "岡山"): "chugoku",
    ("hiroshima", "広島"): "chugoku",
    ("yamaguchi", "山口"): "chugoku",
    ("tokushima", "徳島"): "shikoku",
    ("kagawa", "香川"): "shikoku",
    ("ehime", "愛媛"): "shikoku",
    ("kochi", "高知"): "shikoku",
    ("fukuoka", "福岡"): "kyushu",
    ("saga", "佐賀"): "kyushu",
    ("nagasaki", "長崎"): "kyushu",
    ("kumamoto", "熊本"): "kyushu",
    ("oita", "大分"): "kyushu",
    ("miyazaki", "宮崎"): "kyushu",
    ("kagoshima", "鹿児島"): "kyushu",
}

CLOUD_REGIONS = {
    "japaneast": "tokyo",  # Azure
    "japanwest": "kansai",
    "ap-northeast-1": "tokyo",  # AWS
    "ap-northeast-3": "kansai",
    "asia-northeast1": "tokyo",  # Google Cloud
    "asia-northeast2": "kansai",
    "ap-tokyo-1": "tokyo",  # Oracle Cloud
    "ap-osaka-1": "kansai",
}

ELECTRICITY_MAPS_ZONES = {
    "jp-hkd": "hokkaido",
    "jp-th": "tohoku",
    "jp-tk": "tokyo",
    "jp-cb": "chubu",
    "jp-hr": "hokuriku",
    "jp-kn": "kansai",
    "jp-cg": "chugoku",
    "jp-sk": "shikoku",
    "jp-ky": "kyushu",
}

_JA_SUFFIXES = ("都", "道", "府", "県")


def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for area, ja in AREAS_JA.items():
        names[area] = area
        names[ja] = area
        names[f"{ja}エリア"] = area
    for (en, ja), area in PREFECTURES.items():
        names.setdefault(en, area)  # "tokyo", "hokkaido": the area and the prefecture agree
        names.setdefault(f"{en}-prefecture", area)
        names[ja] = area
        suffix = (
            "道"
            if ja == "北海道"
            else "都"
            if ja == "東京"
            else "府"
            if ja in ("大阪", "京都")
            else "県"
        )
        names[ja if ja.endswith(_JA_SUFFIXES) else ja + suffix] = area
    names.update(CLOUD_REGIONS)
    names.update(ELECTRICITY_MAPS_ZONES)
    return names


LOCATIONS: dict[str, str] = _names()


def area_of(location: str) -> str | None:
    """The JEPX area a location name maps to (case and surrounding spaces ignored)."""
    return LOCATIONS.get(location.strip().lower())
