from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "courseware.lab"
    label = "lab"
    verbose_name = "Live lab"
