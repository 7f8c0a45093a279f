from pathlib import Path

from django.apps import AppConfig
from django.conf import settings

# The folders kombu's filesystem transport reads and writes; it creates none of them before using them.
BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


class ResellerConfig(AppConfig):
    """The composition root as an app: the commands and pages that tie the other apps together."""

    name = "reseller"
    verbose_name = "Reseller"

    def ready(self):
        # Importing the settings creates nothing; every process that may publish or consume runs
        # django.setup() first (manage.py, wsgi, and Celery's Django fixup in the worker and beat).
        create_broker_folders()
        from django.db.models import Field, ForeignObject

        from .db import Among

        Field.register_lookup(Among)
        ForeignObject.register_lookup(Among)  # relations keep lookups of their own


def create_broker_folders():
    """Create the filesystem broker's folders (the default broker when CELERY_BROKER_URL is unset)."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        return
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    for name in BROKER_FOLDERS:
        if options.get(name):
            Path(options[name]).mkdir(parents=True, exist_ok=True)
