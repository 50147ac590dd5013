from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tenants.models import Membership, UserManager
from tenants.scoping import scoped


class SignInForm(AuthenticationForm):
    """Email and password, accepted only for members of the request's tenant.

    A wrong password, an unknown email and a user of another tenant all get
    the same message, so the form does not reveal who has an account where.
    """

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Invalid email or password."),
        "inactive": _("Invalid email or password."),
    }

    def clean_username(self) -> str:
        return UserManager.normalize_email(self.cleaned_data["username"])

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not scoped(self.request, Membership).filter(user=user).exists():
            raise self.get_invalid_login_error()
