"""Work for the workers, sent once the transaction that made it commits (at once outside one).

Tasks are found by name, so that nothing that enqueues imports a tasks module: each app's config loads its
own tasks, which import the services, never the other way round.
"""

from celery import current_app
from django.db import transaction


def enqueue_after_commit(task_name: str, *args, robust: bool = False) -> None:
    """Sends `task_name(*args)` after commit. `robust`: a failure to send is logged, not raised (for work
    that must never break what it follows, such as an email)."""
    # current_app.tasks honours task_always_eager, which send_task would not.
    transaction.on_commit(lambda: current_app.tasks[task_name].delay(*args), robust=robust)
