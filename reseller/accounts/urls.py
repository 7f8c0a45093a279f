from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("api-key/", views.api_key_rotate_view, name="api_key_rotate"),
    path("preferences/", views.preferences_update, name="preferences"),
]
