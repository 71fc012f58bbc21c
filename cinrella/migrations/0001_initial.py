from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from cinrella.roles import Role


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for role in Role:
        Group.objects.get_or_create(name=role.value)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        # Exclusion constraints on appointments (no double booking) need btree_gist.
        BtreeGistExtension(),
        migrations.RunPython(create_role_groups, migrations.RunPython.noop),
    ]
