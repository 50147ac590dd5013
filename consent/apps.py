from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self):
        from consent import signals
        from oauth_clients.models import ConnectionConfig
        from tenants.models import Membership

        post_delete.connect(
            signals.connection_deleted, sender=ConnectionConfig, dispatch_uid="consent-conn-del"
        )
        post_delete.connect(
            signals.membership_deleted, sender=Membership, dispatch_uid="consent-m-del"
        )
        pre_save.connect(signals.membership_saving, sender=Membership, dispatch_uid="consent-m-pre")
        post_save.connect(
            signals.membership_saved, sender=Membership, dispatch_uid="consent-m-save"
        )
        post_save.connect(
            signals.user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="consent-user-save"
        )
