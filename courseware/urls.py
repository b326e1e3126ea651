from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("lab/", include("courseware.lab.urls")),
    path("jobs/", include("courseware.jobs.urls")),
    path("exercises/", include("courseware.exercises.urls")),
    path("room/", include("courseware.rooms.urls")),
    path("gradebook/", include("courseware.gradebook.urls")),
    path("", include("courseware.course.urls")),
]
