"""Pagination of the image list: ``?page=N`` and ``?page_size=M`` (at most 100)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings


class ImagePagination(PageNumberPagination):
    """Page-number pagination whose default size is read from ``PAGE_SIZE`` per request."""

    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        self.page_size = api_settings.PAGE_SIZE
        return super().get_page_size(request)
