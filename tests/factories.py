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


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Provider"

    name = factory.Sequence(lambda n: f"Provider {n}")
    api_url = "https://provider.example/api/v2"
    api_key = "test-key-123456"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Category"

    name = factory.Sequence(lambda n: f"Category {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "catalog.Service"

    provider = factory.SubFactory(ProviderFactory)
    category = factory.SubFactory(CategoryFactory)
    upstream_id = factory.Sequence(lambda n: str(n + 1))
    upstream_name = factory.Sequence(lambda n: f"Followers {n}")
    type = "Default"
    rate = Decimal("1")
    min_quantity = 10
    max_quantity = 100000
    cost_rate = Decimal("1")
    price_rate = Decimal("1.3")
    is_enabled = True


class OrderFactory(factory.django.DjangoModelFactory):
    """Only the order row: it moves no money. A test that needs the charge calls wallet_move itself."""

    class Meta:
        model = "orders.Order"
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.LazyAttribute(lambda order: order.service.provider)
    link = "https://example.com/p/1"
    quantity = 1000
    rate = Decimal("1.3")
    cost_rate = Decimal("1")
    charge = Decimal("1.3")
    cost = Decimal("1")

    @factory.post_generation
    def checks(order, create, extracted, **kwargs):
        """An order made placed upstream and not final is followed, as a move there would make it."""
        from orders.models import ACTIVE, OrderCheck

        if create and order.status in ACTIVE and order.upstream_id:
            OrderCheck.objects.get_or_create(
                order=order, defaults={"provider_id": order.provider_id, "next_check_at": order.next_check_at}
            )
