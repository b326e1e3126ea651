from django.urls import path

from courseware.gradebook import views

app_name = "gradebook"
urlpatterns = [
    path("", views.table, name="table"),
    path("gradebook.csv", views.table_csv, name="table_csv"),
    path("submissions/", views.submissions, name="submissions"),
    path("submissions.csv", views.submissions_csv, name="submissions_csv"),
    path("submissions/<int:pk>/", views.detail, name="detail"),
]
