"""Every change of a tenant or region bumps the "tenants" generation, in the database."""

from django.db import migrations

from tenants.generations import install_triggers


def install(apps, schema_editor):
    install_triggers(schema_editor, "tenants_tenant", "tenants")
    install_triggers(schema_editor, "tenants_region", "tenants")


class Migration(migrations.Migration):
    dependencies = [("tenants", "0003_generation")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
