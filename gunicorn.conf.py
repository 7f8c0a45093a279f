"""gunicorn settings, read from the working directory by every `gunicorn` started in /app (web, compose)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"
# Path without the query string: some API clients send their key as ?key=... on GET.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
