from django.apps import AppConfig


class RoomsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "courseware.rooms"
    verbose_name = "Instructor-led rooms"
