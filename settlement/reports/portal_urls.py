"""Portal routes (filled by the settlement work)."""

app_name = "reports"

urlpatterns: list = []
