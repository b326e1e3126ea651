from django.apps import AppConfig


class CourseConfig(AppConfig):
    name = "courseware.course"
    label = "course"
    verbose_name = "Course"
