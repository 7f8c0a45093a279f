"""Test settings: the real settings with fast hashing and DEBUG on.

DATABASE_URL and CELERY_BROKER_URL still come from the environment, so CI runs against PostgreSQL and Redis.
"""

import os

os.environ.setdefault("DEBUG", "true")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
UPSTREAM_CONNECT_TIMEOUT = 2.0
UPSTREAM_READ_TIMEOUT = 2.0

# Never share a filesystem broker folder with a `make run` that may be going on in the same checkout.
# ResellerConfig.ready() creates them (at django.setup(), which pytest-django runs), not this import.
if CELERY_BROKER_URL.startswith("filesystem"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "test-broker"),  # noqa: F405
        "data_folder_out": str(VAR_DIR / "test-broker"),  # noqa: F405
        "control_folder": str(VAR_DIR / "test-broker-control"),  # noqa: F405
        "store_processed": False,
    }
LIVE_POLL_SECONDS = 1  # pages poll quickly, so browser tests see changes soon
