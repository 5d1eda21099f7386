"""Portal routes (filled by the settlement work)."""

app_name = "settlement"

urlpatterns: list = []
