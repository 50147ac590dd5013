"""Every change of a client, a secret, a connection or an allowed origin bumps "clients"."""

from django.db import migrations

from tenants.generations import install_triggers


def install(apps, schema_editor):
    install_triggers(schema_editor, "oauth_clients_oauthclient", "clients")
    # Not on last_used_at: the token endpoint stamps it once a minute per secret.
    install_triggers(
        schema_editor,
        "oauth_clients_clientsecret",
        "clients",
        ["client_id", "tenant_id", "digest", "hint", "expires_at"],
    )
    install_triggers(schema_editor, "oauth_clients_connectionconfig", "clients")
    install_triggers(schema_editor, "oauth_clients_allowedorigin", "clients")


class Migration(migrations.Migration):
    dependencies = [
        ("oauth_clients", "0005_backfill_scopes"),
        ("tenants", "0005_member_generation_triggers"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
