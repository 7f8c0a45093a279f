"""Figures measured from our own orders, written onto the catalog for customers to read."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Service
from catalog.protocol import ServiceType
from reseller.db import bulk_update

from .models import Order, Status

COMPLETION_FIELDS = ["completion_seconds", "completion_sample"]


def service_completion_refresh(*, days: int | None = None, now: datetime | None = None) -> int:
    """Sets every service's average completion time over its Completed orders finished in the last `days`
    (default SERVICE_COMPLETION_DAYS); services without any get none. Returns how many services changed.

    Timed from submission upstream (or placement, for an order that has no submission time) to completion:
    what the customer waits for once the provider has the order. One grouped query computes them all.
    """
    days = settings.SERVICE_COMPLETION_DAYS if days is None else days
    since = (now or timezone.now()) - timedelta(days=days)
    # Drip-feeds and subscriptions take as long as their runs or posts say: not the service's speed.
    counted = Order.objects.filter(
        status=Status.COMPLETED, finished_at__gte=since, runs__isnull=True
    ).exclude(service_type=ServiceType.SUBSCRIPTIONS)
    took = ExpressionWrapper(
        F("finished_at") - Coalesce("submitted_at", "created_at"), output_field=DurationField()
    )
    measured = {
        row["service_id"]: (max(round(row["average"].total_seconds()), 0), row["sample"])
        for row in counted.values("service_id").annotate(average=Avg(took), sample=Count("id")).order_by()
    }
    changed = []
    # The services measured now and those that had a figure before (which may have none left).
    stale = Service.objects.filter(Q(pk__in=counted.values("service_id")) | Q(completion_sample__gt=0))
    for service in stale.only("pk", *COMPLETION_FIELDS):
        figures = measured.get(service.pk, (None, 0))
        if (service.completion_seconds, service.completion_sample) != figures:
            service.completion_seconds, service.completion_sample = figures
            changed.append(service)
    return len(bulk_update(changed, COMPLETION_FIELDS))
