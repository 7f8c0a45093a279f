"""Pages of long lists, found by their keys first.

Django's Paginator asks for a page as `OFFSET n LIMIT 25` over the full query: for page 400 of a customer's
orders the database reads, joins and throws away 9,975 full rows. Here a page's primary keys come first
(`SELECT id ... OFFSET n LIMIT 25`, read from the list's index), then those 25 rows, in the list's order,
with their joins and prefetches. Page numbers, counts and links stay as Django's. (Not for a list whose
rows are computed across rows, a running total say: the second query would compute it over the page alone.)
"""

from django.core.paginator import Page, Paginator


class KeysFirstPaginator(Paginator):
    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(list(self.object_list.filter(pk__in=keys)), number, self)
