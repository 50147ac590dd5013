from django.core.management.base import BaseCommand
from django.db.models.signals import post_delete
from django.utils import timezone
from oauth2_provider.models import clear_expired

from oauth_clients.models import AccessToken, RevokedToken
from oauth_clients.revocation import access_token_deleted


class Command(BaseCommand):
    help = (
        "Delete expired authorization codes, access, refresh and ID tokens, and revocation "
        "entries of expired tokens. Works in batches; safe to run while serving (e.g. hourly)."
    )

    def handle(self, *args, **options):
        # Expired tokens need no revocation entry: their JWTs are refused by expiry.
        post_delete.disconnect(access_token_deleted, sender=AccessToken, dispatch_uid="revoke-jwt")
        try:
            clear_expired()  # DOT's batched sweep over the swapped models
        finally:
            post_delete.connect(access_token_deleted, sender=AccessToken, dispatch_uid="revoke-jwt")
        deleted, _ = RevokedToken.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(f"Purged expired codes and tokens; {deleted} revocation entries.")
