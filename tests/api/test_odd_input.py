"""Odd input to the management API: a JSON error, never a 500, nothing changed."""

import pytest
from django.conf import settings

from tests.api.conftest import BASE, assert_errors, snapshot

pytestmark = pytest.mark.django_db


def test_a_5000_digit_patch_index_is_out_of_range(alice_api, web, tenant_a):
    before = snapshot(tenant_a)
    response = alice_api.patch(
        f"{BASE}/{web['clientId']}",
        [{"op": "replace", "path": "/redirectUris/" + "1" * 5000, "value": "https://x.test/cb"}],
    )
    assert_errors(response, 400, code="invalid_patch")
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_an_oversized_body_is_a_json_error(alice_api, web, tenant_a, method):
    before = snapshot(tenant_a)
    path = BASE if method == "POST" else f"{BASE}/{web['clientId']}"
    body = '{"clientName": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"}'
    response = alice_api.raw(method, path, body)
    assert response.status_code == 400, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["status"] == "400"
    assert snapshot(tenant_a) == before


def test_a_right_to_left_override_in_a_name_is_refused(alice_api, tenant_a):
    before = snapshot(tenant_a)
    response = alice_api.post(
        BASE,
        {
            "clientName": "\u202eelgooG",
            "appType": "web",
            "redirectUris": ["https://app.example.com/cb"],
            "allowedScopes": ["user_default"],
        },
    )
    assert_errors(response, 400, field="clientName")
    assert snapshot(tenant_a) == before
