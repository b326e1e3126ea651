"""Load the course (lessons, questions, presets) from the repo into the database.

Placeholder until the courseware issue lands: it only checks the content folder exists.
"""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load lessons and questions from courseware/content into the database (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write("courseware: nothing to load yet")
