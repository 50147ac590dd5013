from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Tenants")

    def ready(self):
        from tenants.generations import clearer
        from tenants.models import Region, Tenant

        # The host → tenant cache (tenants.middleware) follows every tenant and region
        # (the database bumps the generation; this clears this process's copy at once).
        clear_tenants = clearer("tenants")
        for model in (Tenant, Region):
            for signal in (post_save, post_delete):
                signal.connect(
                    clear_tenants, sender=model, weak=False, dispatch_uid=f"gen-{model.__name__}"
                )
