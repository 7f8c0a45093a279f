from django.utils.functional import SimpleLazyObject

from .selectors import customer_unread_count


def unread(request):
    """`support_unread` for the header: the customer's tickets with an unseen reply, counted (one query)
    only where the header shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"support_unread": SimpleLazyObject(lambda: customer_unread_count(user=user))}
