from django.utils import timezone, translation


class PreferencesMiddleware:
    """A signed-in customer's pages in their time zone and, when they chose one, their language.

    Goes right after AuthenticationMiddleware (it needs request.user) and inside LocaleMiddleware, which
    has already picked the cookie's or the browser's language and, on the way out, says which one was used
    (Content-Language). Anonymous visitors get the panel's zone and LocaleMiddleware's language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()  # a thread serves other people next
