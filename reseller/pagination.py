"""Pages of long lists, found by their keys first.

Django's Paginator asks for a page as `OFFSET n LIMIT 25` over the full query: for page 400 of a customer's
orders the database reads, joins and throws away 9,975 full rows. Here a page's primary keys come first
(`SELECT id ... OFFSET n LIMIT 25`, read from the list's index), then those 25 rows, in the list's order,
with their joins and prefetches. Page numbers, counts and links stay as Django's. (Not for a list whose
rows are computed across rows, a running total say: the second query would compute it over the page alone.)

The count comes with the keys (`COUNT(*) OVER ()`), so a filtered or searched list, whose every match the
database must find to count them, is scanned once and not twice. A page past the end has no rows to carry
the count: it is counted alone, and the last page is shown as Django's paginator would.
"""

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import Count, Window


class KeysFirstPaginator(Paginator):
    def get_page(self, number) -> Page:
        try:
            if (page := self._counted_page(number)) is not None:
                return page
        except EmptyPage:
            pass  # past the end: Django's get_page shows the last page (the count is known by now)
        return super().get_page(number)

    def page(self, number) -> Page:
        if (page := self._counted_page(number)) is not None:
            return page
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self._rows(keys), number, self)

    def _counted_page(self, number) -> Page | None:
        """The page with the count in the same query; None when that cannot be: the count is known
        already, the number is not a page's, the list is DISTINCT (counted after it), or no row is there
        to carry the count (an empty list, a page past the end)."""
        wanted = _whole(number)
        distinct = getattr(getattr(self.object_list, "query", None), "distinct", True)
        if "count" in self.__dict__ or distinct or wanted is None or wanted < 1:
            return None
        bottom = (wanted - 1) * self.per_page
        top = bottom + self.per_page + self.orphans
        counted = self.object_list.annotate(_count=Window(Count("pk"))).values_list("pk", "_count")
        rows = list(counted[bottom:top])
        if not rows:
            return None
        self.__dict__["count"] = rows[0][1]  # Paginator.count is a cached_property
        keys = [pk for pk, _ in rows]
        if self.count > top:  # more than the orphans follow: a page of per_page rows
            keys = keys[: self.per_page]
        return self._get_page(self._rows(keys), self.validate_number(wanted), self)

    def _rows(self, keys: list) -> list:
        return list(self.object_list.filter(pk__in=keys))


def _whole(number) -> int | None:
    """The page number as Django's paginator reads it (1, "1", 1.0), else None (left to it to refuse)."""
    try:
        whole = int(number)
    except (TypeError, ValueError):
        return None
    return whole if whole == float(number) else None
