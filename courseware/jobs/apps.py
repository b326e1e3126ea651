from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "courseware.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        # Each app declares its job kinds in its own ``jobs`` module (server code only: a kind
        # is chosen by the view that submits it, never named by a request).
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
