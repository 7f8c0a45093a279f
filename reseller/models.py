from django.db import models


class Heartbeat(models.Model):
    """When a process last said it was alive or last finished its work: beat's scheduler ticking, a
    polling sweep done (reseller/heartbeats.py). `/healthz` reads the ages."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
