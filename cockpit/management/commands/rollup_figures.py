from datetime import timedelta

from django.core.management.base import BaseCommand

from cockpit.figures import KEEP_DAYS, last_closed_day, rollup, rollup_day


class Command(BaseCommand):
    help = (
        "Rolls up the dashboard's figures of closed days not rolled up yet (beat does it hourly); with "
        "--rebuild, computes the last --days days again (after a correction of past rows)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=KEEP_DAYS)
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, days, rebuild, **options):
        if rebuild:
            last = last_closed_day()
            done = [last - timedelta(days=n) for n in range(days)]
            for day in done:
                rollup_day(day)
        else:
            done = rollup(days=days)
        self.stdout.write(f"{len(done)} day(s) rolled up" + (f": {min(done)} to {max(done)}" if done else ""))
