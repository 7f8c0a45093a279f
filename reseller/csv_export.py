"""CSV exports of admin lists: exactly the rows the list shows for the same query string (its filters,
search, date drill-down and ordering, every page), streamed row by row in chunks so that a million rows
never sit in memory.

For spreadsheets: a UTF-8 byte order mark first (Excel reads the file as UTF-8); amounts as plain exact
decimals, without a currency sign, so that they sum; times in the admin's time zone as
`YYYY-MM-DD HH:MM:SS`; and a text cell that a spreadsheet would run as a formula (starting with = + - @, a
tab or a carriage return: CSV injection) is prefixed with a quote. Numbers are ours, never prefixed.
"""

import csv
import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.text import slugify

# A column: its header and where its value comes from, an attribute path ("user.username"; a method at
# its end is called, as "get_status_display") or a callable given the row.
Column = tuple[str, str | Callable[[Any], Any]]

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000  # rows fetched per round trip, and written per chunk of the response


class _Echo:
    """csv.writer writes to this and gets the line back, to be streamed."""

    def write(self, value: str) -> str:
        return value


def plain_decimal(value: Decimal) -> str:
    """`12.50000` as `12.50`, `0.00400` as `0.004`: every non-zero decimal, at least two, no exponent."""
    if value == 0:
        value = value.copy_abs()  # never "-0.00"
    whole, _, places = f"{value:f}".partition(".")
    return f"{whole}.{places.rstrip('0').ljust(2, '0')}"


def csv_cell(value: Any, tz: datetime.tzinfo | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, tz)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def column_value(row: Any, source: str | Callable[[Any], Any]) -> Any:
    if callable(source):
        return source(row)
    value = row
    for name in source.split("."):
        value = getattr(value, name, None)
        if value is None:
            return None
    return value() if callable(value) else value


def csv_lines(rows: QuerySet, columns: Sequence[Column], *, chunk_size: int = CHUNK_SIZE) -> Iterator[str]:
    """The header, then the rows in chunks of `chunk_size` lines. Read in the time zone and language of
    the caller: the response is streamed after the view has returned, and the middleware has let go."""
    tz, language = timezone.get_current_timezone(), translation.get_language()
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([csv_cell(header) for header, _ in columns])
    with translation.override(language):
        lines = []
        for row in rows.iterator(chunk_size=chunk_size):
            lines.append(writer.writerow([csv_cell(column_value(row, source), tz) for _, source in columns]))
            if len(lines) >= chunk_size:
                yield "".join(lines)
                lines = []
        if lines:
            yield "".join(lines)


def csv_response(
    rows: QuerySet, columns: Sequence[Column], *, filename: str, chunk_size: int = CHUNK_SIZE
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(rows, columns, chunk_size=chunk_size), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CsvExportMixin:
    """A ModelAdmin mixin (before the ModelAdmin): an "Export CSV" button on the changelist, carrying the
    list's query string, and `<changelist>/export.csv` (url name `<app>_<model>_export`), for staff with
    the view permission. Set `csv_columns`, and `csv_select_related` to whatever the columns reach through
    foreign keys, so that the export takes the same few queries for any number of rows."""

    csv_columns: Sequence[Column] = ()
    csv_select_related: Iterable[str] = ()
    csv_chunk_size = CHUNK_SIZE

    def csv_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_export"

    def get_urls(self):
        view = self.admin_site.admin_view(self.csv_export_view)
        return [path("export.csv", view, name=self.csv_url_name()), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if (
            isinstance(response, TemplateResponse)
            and context is not None
            and self.has_view_permission(request)
        ):
            url = reverse(f"{self.admin_site.name}:{self.csv_url_name()}")
            if query := request.GET.urlencode():
                url = f"{url}?{query}"
            button = {"title": "Export CSV", "icon": "download", "path": url, "attrs": {"download": True}}
            context["actions_list"] = [*(context.get("actions_list") or []), button]
        return response

    def csv_export_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            url = reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return HttpResponseRedirect(f"{url}?e=1")
        rows = changelist.queryset  # filtered, searched, drilled down and ordered as the list
        if self.csv_select_related:
            rows = rows.select_related(*self.csv_select_related)
        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
        filename = f"{slugify(self.opts.verbose_name_plural)}-{stamp}.csv"
        return csv_response(rows, self.csv_columns, filename=filename, chunk_size=self.csv_chunk_size)
