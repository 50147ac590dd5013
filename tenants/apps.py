from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("Tenants")

    def ready(self):
        from tenants.generations import changed, clearer
        from tenants.models import Membership, Region, Tenant, User

        # The host → tenant cache (tenants.middleware) follows every tenant and region
        # (the database bumps the generation; this clears this process's copy at once).
        clear_tenants = clearer("tenants")
        for model in (Tenant, Region):
            for signal in (post_save, post_delete):
                signal.connect(
                    clear_tenants, sender=model, weak=False, dispatch_uid=f"gen-{model.__name__}"
                )

        # The members cache (tenants.members) follows memberships and users; a sign-in
        # (which only stamps last_login) changes nothing it holds.
        clear_members = clearer("members")
        for signal in (post_save, post_delete):
            signal.connect(clear_members, sender=Membership, weak=False, dispatch_uid="gen-m")
        post_delete.connect(clear_members, sender=User, weak=False, dispatch_uid="gen-u-del")

        def user_saved(sender, update_fields=None, **kwargs):
            if update_fields is None or not set(update_fields) <= {"last_login", "password"}:
                changed("members")

        post_save.connect(user_saved, sender=User, weak=False, dispatch_uid="gen-u-save")
