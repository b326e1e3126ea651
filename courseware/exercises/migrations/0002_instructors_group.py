from django.db import migrations


def create_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="instructors")


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="instructors").delete()


class Migration(migrations.Migration):
    dependencies = [("exercises", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_group, remove_group)]
