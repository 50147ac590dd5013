import uuid

from django.db import migrations, models


def give_each_membership_a_subject(apps, schema_editor):
    Membership = apps.get_model("tenants", "Membership")
    for membership in Membership.objects.filter(subject__isnull=True).only("pk"):
        membership.subject = uuid.uuid4()
        membership.save(update_fields=["subject"])


class Migration(migrations.Migration):
    # Adding a unique field with a random default: add it nullable, fill it
    # row by row, then make it unique (Django docs, "Migrations that add
    # unique fields").

    dependencies = [
        ("tenants", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_service",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="membership",
            name="subject",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(give_each_membership_a_subject, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="subject",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
