"""Enqueueing the orders' work, after the transaction that made it commits (reseller/enqueue.py).

Tasks are found by name, so that nothing here (and nothing that enqueues) imports orders.tasks: the tasks
module is loaded by the app config (orders/apps.py) and imports the services, never the other way round.
"""

from reseller.enqueue import enqueue_after_commit, enqueue_batched_after_commit

SUBMIT_ORDERS = "orders.tasks.orders_submit"
SUBMIT_REFILLS = "orders.tasks.refills_submit"


def order_submission_enqueue(*, order_id: int) -> None:
    """Submits the order upstream once the current transaction commits (at once outside one), in one task
    with the other orders this process placed meanwhile."""
    enqueue_batched_after_commit(SUBMIT_ORDERS, order_id)


def refills_submission_enqueue(*, refill_ids: list[int]) -> None:
    """Submits these refills upstream (one task for all of them) once the current transaction commits."""
    enqueue_after_commit(SUBMIT_REFILLS, list(refill_ids))
