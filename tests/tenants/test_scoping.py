"""The single tenant-scoped path to tenant-owned data, and a guard that it stays single."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.http import Http404
from django.test import RequestFactory

from tenants.models import AuditEvent, Tenant
from tenants.scoping import get_scoped_or_404

PROJECT_APPS = ["tenants", "oauth_clients", "consent"]


def tenant_owned_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        and any(
            f.name == "tenant" and f.is_relation and f.related_model is Tenant
            for f in model._meta.get_fields()
        )
    ]


def test_every_tenant_owned_model_offers_for_tenant():
    models = tenant_owned_models()
    assert len(models) >= 6  # memberships, audit events, the client and its four token models
    missing = [m.__name__ for m in models if not hasattr(m.objects.all(), "for_tenant")]
    assert missing == []


def test_views_and_forms_reach_tenant_owned_rows_only_through_the_scoped_helpers():
    """No ``Model.objects`` on a tenant-owned model in views, forms or decorators."""
    owned = {m.__name__ for m in tenant_owned_models()}
    offenders = []
    for app in PROJECT_APPS:
        for name in ("views.py", "forms.py", "decorators.py"):
            path = Path(settings.BASE_DIR) / app / name
            if not path.exists():
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in {"objects", "_default_manager"}
                    and isinstance(node.value, ast.Name)
                    and node.value.id in owned
                ):
                    offenders.append(f"{app}/{name}:{node.lineno} {node.value.id}.{node.attr}")
    assert offenders == []


@pytest.mark.django_db
def test_get_scoped_or_404_finds_own_rows_and_hides_other_tenants(tenant_a, tenant_b, alice):
    own = AuditEvent.objects.create(tenant=tenant_a, action="test.own")
    foreign = AuditEvent.objects.create(tenant=tenant_b, action="test.foreign")
    request = RequestFactory().get("/")
    request.tenant = tenant_a
    assert get_scoped_or_404(request, AuditEvent, pk=own.pk) == own
    with pytest.raises(Http404):
        get_scoped_or_404(request, AuditEvent, pk=foreign.pk)
