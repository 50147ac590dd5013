"""Every change of a membership, or of a user's active flag, name or email, bumps "members"."""

from django.db import migrations

from tenants.generations import install_triggers


def install(apps, schema_editor):
    install_triggers(schema_editor, "tenants_membership", "members")
    # Not on last_login or the password: a sign-in must not empty every process's cache.
    install_triggers(schema_editor, "tenants_user", "members", ["is_active", "email", "name"])


class Migration(migrations.Migration):
    dependencies = [("tenants", "0004_generation_triggers")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
