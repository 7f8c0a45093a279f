from django.core.management.base import BaseCommand

from orders.refills import refills_poll


class Command(BaseCommand):
    help = "Runs one refill polling sweep now, synchronously, and prints what it did."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Check every open refill now, not only those due."
        )

    def handle(self, *args, **options):
        result = refills_poll(every=options["all"])
        due = f"; {result.due} of them were due" if options["all"] else ""
        self.stdout.write(f"{result}{due}.")
