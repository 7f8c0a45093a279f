from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.service_list, name="service_list"),
    path("<int:pk>/favourite/", views.favourite, name="favourite"),  # /services/<pk>/favourite/
]
