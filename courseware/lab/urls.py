from django.urls import path

from courseware.lab import views

app_name = "lab"
urlpatterns = [
    path("", views.lab, name="lab"),
    path("embed/<slug:preset_id>/", views.embed, name="embed"),
    path("validate/", views.validate, name="validate"),
]
