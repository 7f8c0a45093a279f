from django.urls import path, re_path

from . import views

app_name = "api"

# Both spellings of the endpoint are answered directly: a redirect would turn a client's POST into a GET
# and lose its fields.
urlpatterns = [
    path("", views.docs, name="docs"),
    path("v2", views.endpoint, name="endpoint"),
    path("v2/", views.endpoint, name="endpoint_slash"),
    path("v2/openapi.json", views.openapi, name="openapi"),
    re_path(r"^v2/(?P<rest>.+)$", views.not_found),
]
