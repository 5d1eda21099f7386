"""Demo participants for `manage.py load_demo`: one organisation per market role, with sites.

Names are invented; site locations, PUEs and latencies are plausible for Japan in 2026.
"""

from __future__ import annotations

DEMO_PASSWORD = "wattbit-demo-2026"  # noqa: S105 — printed by `make run`; demo data only

ORGANISATIONS = [
    # slug, legal name ja, legal name en, roles, invoice number, demo user
    ("kyushu-mirai", "九州みらい電力株式会社（デモ）", "Kyushu Mirai Power Co. (demo)",
     ["power_supplier"], "T1290001012345", "supplier"),
    ("hokkaido-green", "北海道グリーンエナジー株式会社（デモ）", "Hokkaido Green Energy Co. (demo)",
     ["power_supplier"], "T4110001023456", "supplier-hkd"),
    ("sakura-compute", "さくらコンピュート株式会社（デモ）", "Sakura Compute K.K. (demo)",
     ["compute_provider", "workload_owner"], "T4010401034567", "provider"),
    ("kita-dc", "北国データセンター株式会社（デモ）", "Kitaguni Datacenter Co. (demo)",
     ["compute_provider"], "T6012001045678", "provider-kita"),
    ("kansai-hpc", "関西大学連合HPCセンター（デモ）", "Kansai Universities HPC Centre (demo)",
     ["compute_provider"], "T9120001056789", "provider-kansai"),
    ("tokyo-ai-labs", "東京AIラボ株式会社（デモ）", "Tokyo AI Labs Inc. (demo)",
     ["workload_owner"], "T3011101067890", "owner"),
    ("market-surveillance", "電力・ガス取引監視等委員会（デモ）",
     "Electricity and Gas Market Surveillance Commission (demo)",
     ["regulator"], "T7000012050002", "regulator"),
    ("wattbit-operator", "ワットビット取引所運営（デモ）", "wattbit Exchange Operator (demo)",
     ["market_operator"], "T1010001078901", "operator"),
]  # fmt: skip

SITES = [
    # org, code, name, area, prefecture, accelerator, CU, kW/CU, PUE, residency, latency
    ("sakura-compute", "hkd-ishikari-1", "Ishikari Green DC", "hokkaido", "hokkaido", "h100",
     512, "1.0", "1.15", ["jp", "ismap"],
     {"sapporo": 2, "sendai": 14, "tokyo": 18, "nagoya": 24, "osaka": 27, "hiroshima": 32, "fukuoka": 36}),
    ("sakura-compute", "tky-inzai-1", "Inzai AI Campus", "tokyo", "chiba", "h100",
     384, "1.0", "1.35", ["jp", "ismap"],
     {"sapporo": 18, "sendai": 9, "tokyo": 2, "nagoya": 7, "osaka": 10, "hiroshima": 16, "fukuoka": 21}),
    ("sakura-compute", "kyu-kitakyushu-1", "Kitakyushu Solar DC", "kyushu", "fukuoka", "h100",
     256, "1.0", "1.25", ["jp"],
     {"sapporo": 36, "sendai": 26, "tokyo": 21, "nagoya": 16, "osaka": 12, "hiroshima": 6, "fukuoka": 2}),
    ("kita-dc", "thk-sendai-1", "Sendai North DC", "tohoku", "miyagi", "h100",
     256, "1.0", "1.20", ["jp"],
     {"sapporo": 12, "sendai": 2, "tokyo": 9, "nagoya": 14, "osaka": 17, "hiroshima": 23, "fukuoka": 27}),
    ("kita-dc", "hkd-tomakomai-1", "Tomakomai Cool DC", "hokkaido", "hokkaido", "a100",
     320, "0.6", "1.10", ["jp"],
     {"sapporo": 3, "sendai": 13, "tokyo": 19, "nagoya": 25, "osaka": 28, "hiroshima": 33, "fukuoka": 37}),
    ("kansai-hpc", "ksi-osaka-1", "Osaka Research Compute", "kansai", "osaka", "h100",
     128, "1.0", "1.40", ["jp", "gov"],
     {"sapporo": 27, "sendai": 17, "tokyo": 10, "nagoya": 5, "osaka": 2, "hiroshima": 7, "fukuoka": 12}),
]  # fmt: skip
