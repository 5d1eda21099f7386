"""API routes (filled by the settlement work)."""

urlpatterns: list = []
