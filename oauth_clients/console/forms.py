from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from oauth_clients import services
from oauth_clients.models import ConnectionConfig, OAuthClient, platform_scopes
from oauth_clients.services import SECRET_EXPIRY_DAYS, ClientData


def small_index(text: str) -> int | None:
    """A list index or row id posted as text: ASCII digits only, at most 18 of them.

    ``"²".isdigit()`` is true but ``int("²")`` fails, and a 5,000-digit
    number fails ``int()`` or overflows the database: both are just not ids.
    """
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 18):
        return None
    return int(text)


class ListField(forms.Field):
    """A list of strings posted as repeated fields (one hidden input per item)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(item) for item in value if str(item) != ""]


# What a button in the client dialog asks for besides saving: the redirect URL
# and allowed origin lists are edited on the server, so "Add" works without JS.
LIST_FIELDS = {"redirect_uris": "new_redirect_uri", "allowed_origins": "new_allowed_origin"}


class ClientForm(forms.Form):
    """Create or edit a client. ``intent`` is what the pressed button asks for:

    ``save``; ``add:<list>`` (validate the typed value and put it on the list);
    ``remove:<list>:<index>``. Only ``save`` reports errors on every field.
    """

    # Lengths, visible text, URL rules and the rest are the domain's
    # (``validate_client_data``, run by ``clean``); the fields only parse the post.
    name = forms.CharField(label=_("Name"), strip=True)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    app_type = forms.ChoiceField(
        label=_("Client type"),
        choices=OAuthClient.AppType.choices,
        initial=OAuthClient.AppType.WEB,
        widget=forms.RadioSelect,
    )
    redirect_uris = ListField(required=False)
    new_redirect_uri = forms.CharField(
        label=_("Redirect URL"),
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={"placeholder": "https://app.example.com/callback", "inputmode": "url"}
        ),
    )
    allowed_origins = ListField(required=False)
    new_allowed_origin = forms.CharField(
        label=_("Allowed origins"),
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={"placeholder": "https://app.example.com", "inputmode": "url"}
        ),
    )
    allowed_scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=(),
        initial=["user_default"],
        widget=forms.CheckboxSelectMultiple,
    )
    machine_to_machine = forms.BooleanField(
        label=_("Machine-to-machine"),
        required=False,
        help_text=_(
            "Web clients only: lets the client get tokens for itself (client credentials)."
        ),
    )
    consent_method = forms.ChoiceField(
        label=_("Consent method"),
        choices=ConnectionConfig.ConsentMethod.choices,
        initial=ConnectionConfig.ConsentMethod.REQUIRED,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, client: OAuthClient | None = None, intent: str = "save", **kwargs):
        self.client = client
        self.intent = intent
        self.focus = ""  # the field to focus when the dialog is shown again
        super().__init__(*args, **kwargs)
        descriptions = settings.OAUTH2_PROVIDER["SCOPES"]
        self.fields["allowed_scopes"].choices = [
            (scope, descriptions[scope]) for scope in platform_scopes()
        ]
        if client is not None:
            # The client type is fixed at creation.
            del self.fields["app_type"]

    @classmethod
    def for_client(cls, client: OAuthClient, consent_method: str) -> "ClientForm":
        return cls(
            client=client,
            initial={
                "name": client.name,
                "description": client.description,
                "redirect_uris": client.redirect_uri_list,
                "allowed_origins": client.allowed_origin_list,
                "allowed_scopes": client.allowed_scope_list,
                "machine_to_machine": client.machine_to_machine,
                "consent_method": consent_method,
            },
        )

    @property
    def app_type_value(self) -> str:
        if self.client is not None:
            return self.client.app_type
        return self.data.get("app_type") or self.fields["app_type"].initial

    def list_values(self, name: str) -> list[str]:
        """The list as shown: the posted items, or the initial ones."""
        if self.is_bound:
            return self.fields[name].to_python(self.data.getlist(name))
        return list(self.initial.get(name, []))

    @property
    def redirect_uri_items(self) -> list[str]:
        return self.list_values("redirect_uris")

    @property
    def allowed_origin_items(self) -> list[str]:
        return self.list_values("allowed_origins")

    # --- Validation ------------------------------------------------------------
    def _with_pending(self, list_name: str) -> list[str]:
        """The posted list, plus a value typed but not yet added: it is still meant to be on it."""
        values = list(self.cleaned_data.get(list_name) or [])
        pending = self.cleaned_data.get(LIST_FIELDS[list_name], "")
        if pending.strip() and self.intent == "save":
            values.append(pending.strip())
        return values

    def clean(self):
        cleaned = super().clean()
        cleaned["redirect_uris"] = self._with_pending("redirect_uris")
        # The dialog keeps the origins' hidden inputs when the type is switched
        # away from single-page app: those are not meant to be saved.
        if self.app_type_value == OAuthClient.AppType.SPA:
            cleaned["allowed_origins"] = self._with_pending("allowed_origins")
        else:
            cleaned["allowed_origins"] = []
        try:
            services.validate_client_data(self._data(cleaned), app_type=self.app_type_value)
        except ValidationError as error:
            self._add_rule_errors(error)
        return cleaned

    def _add_rule_errors(self, error: ValidationError) -> None:
        """The domain's errors on the fields that show them; a field that did not even
        parse (required, not a choice) keeps its own error alone, as ``ModelForm`` does."""
        for name, errors in error.error_dict.items():
            field = LIST_FIELDS.get(name, name)
            if field not in self.errors and name not in self.errors:
                self.add_error(field, errors)

    def full_clean(self):
        super().full_clean()
        if self.intent == "save" or not self.is_bound:
            return
        # Adding or removing a list item reports only the typed value's problem.
        kept = {}
        if self.intent.startswith("add:"):
            list_name = self.intent.split(":")[1]
            pending_field = LIST_FIELDS.get(list_name)
            value = self.data.get(pending_field, "").strip() if pending_field else ""
            if value:
                try:
                    services.validate_list_item(list_name, value, app_type=self.app_type_value)
                    if value in self.list_values(list_name):
                        raise ValidationError(
                            _("%(value)s is on the list already."), params={"value": value}
                        )
                    maximum = services.client_limit(list_name)
                    if len(self.list_values(list_name)) >= maximum:
                        raise ValidationError(
                            _("At most %(max)d are allowed."), params={"max": maximum}
                        )
                except ValidationError as error:
                    kept[pending_field] = self.error_class(error.messages)
        self._errors = forms.utils.ErrorDict(kept)

    def after_list_intent(self) -> "ClientForm":
        """The form to show after an add/remove button: the list changed, nothing saved."""
        data = self.data.copy()
        action, list_name, *rest = self.intent.split(":") + [""]
        if list_name in LIST_FIELDS and not self.errors:
            items = self.list_values(list_name)
            if action == "add":
                value = data.get(LIST_FIELDS[list_name], "").strip()
                if value:
                    items.append(value)
                data[LIST_FIELDS[list_name]] = ""
            elif (
                action == "remove"
                and (index := small_index(rest[0])) is not None
                and (index < len(items))
            ):
                del items[index]
            data.setlist(list_name, items)
        form = type(self)(data, client=self.client, intent="edit")
        form.focus = LIST_FIELDS.get(list_name, "")
        return form

    def to_data(self) -> ClientData:
        return self._data(self.cleaned_data)

    @staticmethod
    def _data(cleaned: dict) -> ClientData:
        """What the form says (a field that did not parse counts as empty)."""
        return ClientData(
            name=cleaned.get("name", ""),
            description=cleaned.get("description", ""),
            redirect_uris=cleaned.get("redirect_uris", []),
            allowed_origins=cleaned.get("allowed_origins", []),
            allowed_scopes=cleaned.get("allowed_scopes", []),
            machine_to_machine=cleaned.get("machine_to_machine", False),
            consent_method=cleaned.get("consent_method", ""),
        )


def intent_of(post) -> str:
    """The intent of the button that submitted the client form (``save`` by default)."""
    intent = post.get("intent", "save")
    allowed = ("save", "add:redirect_uris", "add:allowed_origins")
    if intent in allowed or intent.startswith(("remove:redirect_uris:", "remove:allowed_origins:")):
        return intent
    return "save"


class GenerateSecretForm(forms.Form):
    EXPIRY_CHOICES = [("", _("Never"))] + [
        (str(days), _("%(days)d days") % {"days": days}) for days in SECRET_EXPIRY_DAYS
    ]
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires"),
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )


class BulkDeleteForm(forms.Form):
    """The selected clients: posted ids intersected with the tenant's own clients.

    Ids of other tenants' clients (or of nothing) are dropped, never trusted.
    """

    ids = ListField(required=False)

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.queryset = queryset
        self.selected: list[OAuthClient] = []

    def clean(self):
        cleaned = super().clean()
        pks = [pk for value in cleaned.get("ids", []) if (pk := small_index(value)) is not None]
        self.selected = list(self.queryset.filter(pk__in=pks).order_by("name", "pk"))
        if not self.selected:
            raise ValidationError(_("Select at least one OAuth client."))
        return cleaned


class ConsentMethodForm(forms.Form):
    consent_method = forms.ChoiceField(
        label=_("Consent method"),
        choices=ConnectionConfig.ConsentMethod.choices,
        widget=forms.RadioSelect,
    )
