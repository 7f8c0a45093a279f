"""Shared factories. Users get the password "password" (hashed quickly by the test settings)."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

PASSWORD = "password"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


def funded_user(amount="100", **kwargs):
    """A customer with `amount` deposited through the one function that moves money."""
    from reseller.wallet.models import LedgerEntry
    from reseller.wallet.services import wallet_move

    user = UserFactory(**kwargs)
    wallet_move(user=user, amount=Decimal(amount), kind=LedgerEntry.Kind.DEPOSIT, note="Test funds")
    return user
