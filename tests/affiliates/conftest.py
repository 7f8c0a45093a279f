"""Alice is the affiliate; Bob signed up through her link (and has funds to order with); Charlie is
nobody's and must see nothing of Alice's."""

import pytest

from affiliates.models import Affiliate, Referral


@pytest.fixture
def affiliate(alice):
    return Affiliate.objects.for_user(alice)


@pytest.fixture
def bob(affiliate):
    from tests.factories import funded_user

    bob = funded_user("100", username="bob")
    Referral.objects.create(affiliate=affiliate, referred=bob)
    return bob
