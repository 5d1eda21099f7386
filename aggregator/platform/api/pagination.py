"""Cursor pagination: stable under concurrent inserts, no COUNT(*) on large tables."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "id"
    page_size_query_param = "page_size"
    max_page_size = 1000
