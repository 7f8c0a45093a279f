from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The panel's user: customers and staff alike. Custom from the first migration so it can grow."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
