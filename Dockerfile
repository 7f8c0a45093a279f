# One image for web, worker and beat:
#   web:    (default command) gunicorn
#   worker: celery -A reseller worker --loglevel=INFO
#   beat:   celery -A reseller beat --loglevel=INFO --schedule /tmp/celerybeat-schedule

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml README.md ./
COPY reseller ./reseller
COPY catalog ./catalog
COPY orders ./orders
COPY payments ./payments
RUN /venv/bin/pip install --upgrade pip && /venv/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH="/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=reseller.settings RESELLER_VAR_DIR=/app/var STATIC_ROOT=/app/staticfiles
RUN groupadd --system app && useradd --system --gid app --home-dir /app app
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=app:app . .
# collectstatic needs settings that import without secrets: a throwaway key used only for this step.
RUN SECRET_KEY=collectstatic-only DEBUG=false python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R app:app /app/var /app/staticfiles
USER app
EXPOSE 8000
# /healthz answers 503 until beat has ticked and the worker has finished a first polling sweep (ORDER_POLL_EVERY).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD python -c "import sys,urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8000/healthz', timeout=4).status != 200)"
CMD ["gunicorn", "reseller.wsgi:application"]
