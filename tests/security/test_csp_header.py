"""The Content-Security-Policy header: django-csp's policy, built once."""

import pytest
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory

from config.middleware import FixedPolicyCSPMiddleware

pytestmark = pytest.mark.django_db


def test_every_page_gets_the_policy_django_csp_builds(anon_client):
    for path in ("/login/", "/.well-known/openid-configuration", "/api/v1/nothing"):
        assert anon_client.get(path)["Content-Security-Policy"] == build_policy()


def test_a_per_view_change_falls_back_to_django_csp():
    def view(request):
        response = HttpResponse("x")
        response._csp_update = {"img-src": ["https://images.example.com"]}
        return response

    middleware = FixedPolicyCSPMiddleware(view)
    response = middleware(RequestFactory().get("/"))
    assert "https://images.example.com" in response["Content-Security-Policy"]
    assert response["Content-Security-Policy"] != build_policy()
