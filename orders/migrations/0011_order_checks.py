"""The status checks of followed orders move to a narrow table of their own (orders.OrderCheck): a sweep's
claim writes a row of four columns there instead of a new version of the wide order row."""

import django.db.models.deletion
from django.db import migrations, models

FOLLOWED = ["pending", "in_progress", "processing", "active", "paused"]  # orders.models.ACTIVE, then


def checks_of_followed_orders(apps, schema_editor):
    """Every order placed upstream and not final gets its checks, due when its own said."""
    Order, OrderCheck = apps.get_model("orders", "Order"), apps.get_model("orders", "OrderCheck")
    followed = (
        Order.objects.using(schema_editor.connection.alias)
        .filter(status__in=FOLLOWED)
        .exclude(upstream_id="")
        .values_list("pk", "provider_id", "next_check_at", "last_checked_at")
        .iterator(chunk_size=5000)
    )
    batch = []
    for pk, provider_id, next_check_at, last_checked_at in followed:
        batch.append(OrderCheck(order_id=pk, provider_id=provider_id, next_check_at=next_check_at,
                                last_checked_at=last_checked_at))
        if len(batch) == 5000:
            OrderCheck.objects.using(schema_editor.connection.alias).bulk_create(batch)
            batch = []
    OrderCheck.objects.using(schema_editor.connection.alias).bulk_create(batch)


def orders_own_checks(apps, schema_editor):
    """Back: each followed order's next check on its own row again (the last check time is lost)."""
    Order, OrderCheck = apps.get_model("orders", "Order"), apps.get_model("orders", "OrderCheck")
    alias = schema_editor.connection.alias
    for order_id, next_check_at in OrderCheck.objects.using(alias).values_list("order_id", "next_check_at"):
        Order.objects.using(alias).filter(pk=order_id).update(next_check_at=next_check_at)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_provider_backoff"),
        ("orders", "0010_order_partial_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderCheck",
            fields=[
                (
                    "order",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="checks",
                        serialize=False,
                        to="orders.order",
                    ),
                ),
                ("next_check_at", models.DateTimeField(blank=True, null=True)),
                ("last_checked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "provider",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.provider",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["provider", "next_check_at"], name="order_checks_due")],
            },
        ),
        migrations.RunPython(checks_of_followed_orders, orders_own_checks),
        migrations.RemoveField(model_name="order", name="last_checked_at"),
    ]
