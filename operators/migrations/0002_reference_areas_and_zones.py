"""Reference data: the nine JEPX price areas and the demand zones."""

from django.db import migrations

# JEPX spot_summary column order (エリアプライス北海道 … 九州).
AREAS = [
    ("hokkaido", "Hokkaido", "北海道", 1),
    ("tohoku", "Tohoku", "東北", 2),
    ("tokyo", "Tokyo", "東京", 3),
    ("chubu", "Chubu", "中部", 4),
    ("hokuriku", "Hokuriku", "北陸", 5),
    ("kansai", "Kansai", "関西", 6),
    ("chugoku", "Chugoku", "中国", 7),
    ("shikoku", "Shikoku", "四国", 8),
    ("kyushu", "Kyushu", "九州", 9),
]

ZONES = [
    ("sapporo", "Sapporo", "札幌", "hokkaido"),
    ("sendai", "Sendai", "仙台", "tohoku"),
    ("tokyo", "Tokyo", "東京", "tokyo"),
    ("nagoya", "Nagoya", "名古屋", "chubu"),
    ("osaka", "Osaka", "大阪", "kansai"),
    ("hiroshima", "Hiroshima", "広島", "chugoku"),
    ("fukuoka", "Fukuoka", "福岡", "kyushu"),
]


def load(apps, schema_editor):
    GridArea = apps.get_model("operators", "GridArea")
    DemandZone = apps.get_model("operators", "DemandZone")
    for code, en, ja, order in AREAS:
        GridArea.objects.update_or_create(
            code=code, defaults={"name_en": en, "name_ja": ja, "jepx_order": order}
        )
    for code, en, ja, area in ZONES:
        DemandZone.objects.update_or_create(
            code=code, defaults={"name_en": en, "name_ja": ja, "area_id": area}
        )


def unload(apps, schema_editor):
    apps.get_model("operators", "DemandZone").objects.all().delete()
    apps.get_model("operators", "GridArea").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("operators", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
