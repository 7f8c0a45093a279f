"""What each service type takes and how it is counted and priced, in one table (protocol part 2).

A type missing here is imported from its provider but cannot be sold: a database constraint keeps its
services from being enabled. Adding a type is one row.
"""

import enum
from dataclasses import dataclass

from .protocol import ServiceType


class Counting(enum.Enum):
    GIVEN = "given"  # the customer says how many
    LINES = "lines"  # one per line of `comments`
    ONE = "one"  # a package: always one


@dataclass(frozen=True)
class TypeRule:
    counting: Counting
    upstream_fields: tuple[str, ...]  # what `add` sends besides `service`
    per: int = 1000  # how many units a rate is the price of

    @property
    def count_field(self) -> str:
        """The field a quantity problem belongs to on the order form."""
        return "comments" if self.counting is Counting.LINES else "quantity"


TYPES: dict[ServiceType, TypeRule] = {
    ServiceType.DEFAULT: TypeRule(Counting.GIVEN, ("link", "quantity")),
    ServiceType.PACKAGE: TypeRule(Counting.ONE, ("link",), per=1),
    ServiceType.CUSTOM_COMMENTS: TypeRule(Counting.LINES, ("link", "comments")),
}
# Plain strings, for the database constraint and queries.
SELLABLE_TYPES = tuple(str(service_type) for service_type in TYPES)


def type_rule(service_type: str) -> TypeRule | None:
    """The rule of a sellable type, else None."""
    named = ServiceType.named(service_type)
    return TYPES.get(named) if named is not None else None
