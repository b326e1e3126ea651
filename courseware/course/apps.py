"""The course: lessons (Markdown in courseware/content/), exercises, interview questions,
the incident story, config export and learners' progress."""
from django.apps import AppConfig


class CourseConfig(AppConfig):
    name = "courseware.course"
    label = "course"
    verbose_name = "Course"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .services.progress import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="course-merge-progress")
