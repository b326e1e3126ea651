from django.urls import path

from . import views

app_name = "exercises"
urlpatterns = [
    path("", views.index, name="index"),
    path("api/", views.api_doc, name="api"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/submit/", views.submit, name="submit"),
    path("<slug:slug>/run/", views.run, name="run"),
    path("<slug:slug>/sweep/", views.sweep, name="sweep"),
    path("<slug:slug>/starter/", views.starter, name="starter"),
    path("<slug:slug>/table.csv", views.table_csv, name="table_csv"),
]
