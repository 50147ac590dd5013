"""The one path from a request to tenant-owned rows.

Views and services fetch tenant data only through these helpers, so another
tenant's object is indistinguishable from one that does not exist (404).
"""

from django.db.models import Model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404


def scoped(request: HttpRequest, model: type[Model]):
    """The queryset of ``model`` rows that belong to the request's tenant."""
    return model.objects.for_tenant(request.tenant)


def get_scoped_or_404(request: HttpRequest, model: type[Model], **lookup) -> Model:
    return get_object_or_404(scoped(request, model), **lookup)
