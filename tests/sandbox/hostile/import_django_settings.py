# expect: failed
# ruff: noqa
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "courseware.settings"
import django
django.setup()
from django.conf import settings
print("ESCAPED", settings.SECRET_KEY)
