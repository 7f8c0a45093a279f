from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from reseller.accounts.services import api_key_rotate


class Command(BaseCommand):
    help = "Makes a new API key for a user (replacing the old one) and prints it: the only time it is shown."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        self.stdout.write(api_key_rotate(user=user))
