"""The ``instructors`` group: members may open rooms from the web."""

from django.db import migrations


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="instructors")


def drop_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="instructors").delete()


class Migration(migrations.Migration):
    dependencies = [("rooms", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_group, drop_group)]
