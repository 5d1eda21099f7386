"""Routes of the market API under /api/v1/."""

urlpatterns: list = []
