from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from oauth_clients.keys import kid, read_pem, write_private_key


class Command(BaseCommand):
    help = (
        "Start a signing key rotation: create a new key at PATH and print the two deployment "
        "steps that publish it in the JWKS before it signs anything."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write the new private key (PEM).")

    def handle(self, path, **options):
        target = Path(path)
        if target.exists():
            raise CommandError(f"{target} exists; choose a new file for the new key.")
        write_private_key(target)
        new_kid = kid(read_pem(str(target), "new key"))
        current = settings.SIGNING_KEY_FILE
        previous = ",".join(settings.PREVIOUS_SIGNING_KEY_FILES)
        step1 = ",".join(filter(None, [previous, str(target)]))
        step2 = ",".join(filter(None, [previous, current]))
        self.stdout.write(
            f"Created {target} (kid {new_kid}).\n\n"
            "1. Publish it first: deploy every instance with\n"
            f"     PREVIOUS_SIGNING_KEY_FILES={step1}\n"
            "   (the JWKS now lists the new key; nothing is signed with it yet).\n"
            "2. After clients have refreshed their JWKS cache "
            f"({settings.OAUTH2_PROVIDER.get('OIDC_JWKS_MAX_AGE_SECONDS', 3600)} s), deploy with\n"
            f"     SIGNING_KEY_FILE={target}\n"
            f"     PREVIOUS_SIGNING_KEY_FILES={step2}\n"
            "3. Once the old key's last tokens have expired, drop it from "
            "PREVIOUS_SIGNING_KEY_FILES.\n"
        )
