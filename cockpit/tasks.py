"""Celery tasks: thin. Beat rolls up the figures of closed days and checks the alerts."""

import logging

from celery import shared_task

from . import alerts, figures

log = logging.getLogger(__name__)


@shared_task
def alerts_check():
    """Beat, every ALERT_CHECK_EVERY: tells staff what started, still fires or recovered."""
    for sent in alerts.alerts_check():
        log.info("alert %s: %s email: %s", sent.key, sent.kind, sent.subject)


@shared_task
def figures_rollup():
    """Beat, hourly: the dashboard's figures of the days closed since, into the rollup."""
    days = figures.rollup()
    if days:
        log.info("figures rolled up for %d day(s), %s to %s", len(days), min(days), max(days))
