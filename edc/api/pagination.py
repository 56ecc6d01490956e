"""Cursor pages for every list: stable under concurrent inserts, cheap at any depth, strict input.

A page is `{"next": <url or null>, "previous": <url or null>, "results": [...]}` (no total count:
counting a growing table on every page is what makes offset pages slow and unstable).

The order is the view's `cursor_ordering`: a field whose value a new row takes after every existing
row, then the primary key. Audited records page by `updated` (ascending): a record inserted or
changed while a client pages sorts after every row it has read, so a page never repeats or skips
a row because of an insert; a record changed during the walk is met again, with its new values, at
the end (what a sync client wants). Definitions, which carry no timestamp, page by `id`.

A cursor is opaque: anything that is not one of ours (or a position that is not a value of the
ordering field) answers 400 naming `cursor`, never a 404 or a database error; `page_size` outside
1..MAX_PAGE_SIZE answers 400 naming it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext
from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from edc.api.fields import _INTEGER, MAX_ID

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
DEFAULT_ORDERING = ("id",)


class CursorPagination(pagination.CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    ordering = DEFAULT_ORDERING

    def get_ordering(self, request: Request, queryset: models.QuerySet, view: Any) -> tuple[str, ...]:
        return tuple(getattr(view, "cursor_ordering", DEFAULT_ORDERING))

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        value = int(raw) if _INTEGER.fullmatch(raw) else 0
        if not 1 <= value <= MAX_PAGE_SIZE:
            raise serializers.ValidationError(
                {
                    self.page_size_query_param: [
                        gettext("A whole number from 1 to %(max)d.") % {"max": MAX_PAGE_SIZE}
                    ]
                }
            )
        return value

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self._model = queryset.model
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF's answer to a cursor it cannot decode
            raise self._invalid() from exc

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            # The position is compared with the ordering field in SQL: it must be one of its values.
            field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
            if field.primary_key and field.name != "id":
                field = self._model._meta.pk
            try:
                value = field.to_python(cursor.position)
            except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
                raise self._invalid() from exc
            if "\x00" in str(cursor.position) or (
                isinstance(value, int) and not -MAX_ID - 1 <= value <= MAX_ID
            ):
                raise self._invalid()
        return cursor

    def _invalid(self) -> serializers.ValidationError:
        message = gettext("Not a cursor of this list: follow the `next` or `previous` link of a page.")
        return serializers.ValidationError({self.cursor_query_param: [message]})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": gettext("The next page, or null on the last page.")},
                "previous": {**link, "description": gettext("The page before, or null on the first.")},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        cursor, size = super().get_schema_operation_parameters(view)
        cursor["description"] = gettext(
            "Opaque: the `next` or `previous` link of the page before. Absent: the first page."
        )
        size["description"] = gettext("Rows per page, 1 to %(max)d (default %(default)d).") % {
            "max": MAX_PAGE_SIZE,
            "default": DEFAULT_PAGE_SIZE,
        }
        size["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
        return [cursor, size]


class ComputedRowsPagination(pagination.PageNumberPagination):
    """Pages of rows computed in Python (no queryset to walk by cursor), numbered: `?page=`, `page_size`.

    For reports whose rows are built per request (the re-consent list): the list is whole in memory,
    so a page number is stable for the request that computed it.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # Every key is in every answer (next and previous are null at the ends): say so.
        described: dict[str, Any] = super().get_paginated_response_schema(schema)
        described["required"] = sorted(described.get("properties", {}))
        return described
