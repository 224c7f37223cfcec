"""Pagination of the image list: ``?page=N`` and ``?page_size=M`` (at most 100)."""

from __future__ import annotations

from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings


class InvalidPageSize(exceptions.APIException):
    """``?page_size=`` is not a whole number from 1 (DRF silently ignored such values)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_page_size"


class ImagePagination(PageNumberPagination):
    """Page-number pagination whose default size is read from ``PAGE_SIZE`` per request.

    ``?page_size=N`` asks for N items (at most :attr:`max_page_size`: larger values give
    that many); anything but a whole number from 1 (``null``, ``0``, ``1.5``, empty) is
    refused with 400 ``invalid_page_size`` instead of being ignored. A ``?page=`` that
    is not a page of the list (``0``, empty, ``last``, past the end) is DRF's 404
    ``not_found`` ("Invalid page.").
    """

    page_size_query_param = "page_size"
    max_page_size = 100
    last_page_strings = ()  # ?page=last is not a number either: 404, as documented

    def get_page_number(self, request, paginator):
        # DRF reads an empty ?page= as page 1; like any other non-number it is 404 here.
        return request.query_params.get(self.page_query_param, 1)

    def get_page_size(self, request):
        self.page_size = api_settings.PAGE_SIZE
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                asked = int(raw, 10)
            except ValueError:
                asked = 0
            if asked < 1 or raw.strip() != raw:
                raise InvalidPageSize(
                    f"page_size must be a whole number from 1 (at most {self.max_page_size} "
                    f"items are returned); got {raw[:20]!r}."
                )
            return min(asked, self.max_page_size)
        return self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = "A page of the list, from 1 (other values: 404)."
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Items per page, from 1 (default {api_settings.PAGE_SIZE}; values above "
                    f"{self.max_page_size} give {self.max_page_size}; others: 400)."
                )
        return parameters
