from .selectors import wallet_balance


def balance(request):
    """`header_balance` for the header of every page; a callable, so it is read only where it is shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"header_balance": lambda: wallet_balance(user=user)}
