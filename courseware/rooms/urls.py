from django.urls import path

from courseware.rooms import views

app_name = "rooms"
urlpatterns = [
    path("", views.join, name="join"),
    path("open/", views.open_view, name="open"),
    path("<str:code>/", views.follow, name="follow"),
    path("<str:code>/present/", views.present, name="present"),
    path("<str:code>/projector/", views.projector, name="projector"),
    path("<str:code>/qr.svg", views.qr, name="qr"),
]
