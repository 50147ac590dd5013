import ipaddress

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants import hosts
from tenants.models import Region, Tenant


class TenantHostnameForm(forms.Form):
    """The region host's question: which tenant? Answers only ever name a tenant of this region.

    ``acme`` and ``acme.eu.example.com`` both work; a URL, an IP address,
    another region's tenant or any other domain is refused, so the picker
    can never send anyone off the platform.
    """

    hostname = forms.CharField(
        label=_("Tenant hostname"),
        max_length=253,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "acme",
            }
        ),
    )

    def __init__(self, *args, region: Region, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region
        self.tenant: Tenant | None = None

    def clean_hostname(self) -> str:
        value = self.cleaned_data["hostname"].strip().lower().rstrip(".")
        example = hosts.tenant_hostname("acme", self.region.code)
        invalid = ValidationError(
            _("Enter your tenant's name or hostname, such as acme or %(example)s."),
            params={"example": example},
        )
        if not value or "/" in value or "@" in value or "\\" in value or " " in value:
            raise invalid
        host, _sep, port = value.partition(":")
        if port and port != str(settings.PLATFORM_PORT or ""):
            raise invalid
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            pass
        else:
            raise invalid
        if "." in host:
            labels = hosts.parse_host(host)
            if labels is None or labels.tenant is None or labels.region != self.region.code:
                raise ValidationError(
                    _("%(host)s is not a tenant of the %(region)s region."),
                    params={"host": host, "region": self.region.name},
                )
            slug = labels.tenant
        else:
            slug = host
        self.tenant = Tenant.objects.filter(region=self.region, slug=slug, is_active=True).first()
        if self.tenant is None:
            raise ValidationError(
                _("There is no tenant %(name)s in the %(region)s region."),
                params={"name": slug, "region": self.region.name},
            )
        return value
