from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Membership, Region, Tenant, User

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo sign-in

REGIONS = [("eu", "Europe"), ("us", "United States")]
TENANTS = [("acme", "eu", "Acme"), ("globex", "eu", "Globex"), ("initech", "us", "Initech")]
USERS = [
    # email, name, tenant, role
    ("admin@acme.test", "Ada Admin", "acme", Membership.Role.ADMIN),
    ("user@acme.test", "Uma User", "acme", Membership.Role.MEMBER),
    ("admin@globex.test", "Gus Admin", "globex", Membership.Role.ADMIN),
    ("user@globex.test", "Greta User", "globex", Membership.Role.MEMBER),
    ("admin@initech.test", "Ines Admin", "initech", Membership.Role.ADMIN),
]


class Command(BaseCommand):
    help = "Create the demo regions, tenants and users. Safe to run again: it changes nothing then."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        regions = {}
        for code, name in REGIONS:
            regions[code], new = Region.objects.get_or_create(code=code, defaults={"name": name})
            created += new
        tenants = {}
        for slug, region, name in TENANTS:
            tenants[slug], new = Tenant.objects.get_or_create(
                slug=slug, region=regions[region], defaults={"name": name}
            )
            created += new
        for email, name, tenant, role in USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, DEMO_PASSWORD, name=name)
                created += 1
            _, new = Membership.objects.get_or_create(
                user=user, tenant=tenants[tenant], defaults={"role": role}
            )
            created += new
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo data: {created} rows created."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
