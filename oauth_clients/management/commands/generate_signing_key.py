from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from oauth_clients.keys import write_private_key


class Command(BaseCommand):
    help = (
        "Create an RSA private key (PEM) for signing tokens at PATH. An existing file is "
        "an error, or is left alone with --if-missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument(
            "--if-missing", action="store_true", help="Leave an existing file alone (no error)."
        )

    def handle(self, path, if_missing, **options):
        target = Path(path)
        if target.exists():
            if if_missing:
                return
            raise CommandError(f"{target} exists; a signing key is never overwritten.")
        write_private_key(target)
        self.stdout.write(self.style.SUCCESS(f"Created signing key {target} (mode 600)."))
