"""A published client at another tenant, step by step: approval, consent, code, tokens, API.

Spelled out request by request as a browser and the client's back end make
them; test_approval_gate.py covers each step on its own.
"""

from urllib.parse import urlencode

import pytest

from oauth_clients.models import ConnectionConfig
from oauth_clients.services import publish_client
from tests.flows import REDIRECT, Registered, client_for, hidden_fields, pkce_pair, query_of, redeem

pytestmark = pytest.mark.django_db


def test_an_admin_approves_a_published_client_and_the_flow_completes(
    web, alice, carol, tenant_a, tenant_b
):
    publish_client(web.client, actor=alice)
    globex = client_for(tenant_b, carol)
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": web.client_id,
        "redirect_uri": REDIRECT,
        "scope": "user_default",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = globex.get("/oauth/authorize?" + urlencode(params))
    assert page.status_code == 200
    assert "Approve for Globex" in page.content.decode()
    fields = hidden_fields(page.content.decode())
    consent = globex.post("/oauth/authorize", {**fields, "tenant_approval": "approve"})
    assert consent.status_code == 200, consent.content[:500]
    assert "wants to use your account" in consent.content.decode()
    form = hidden_fields(consent.content.decode())
    answer = globex.post("/oauth/authorize", {**form, "allow": "Authorize"})
    assert answer.status_code == 302
    back = query_of(answer["Location"])
    assert back["iss"] == tenant_b.base_url
    token = redeem(client_for(tenant_b), Registered(web.client, web.secret), back["code"], verifier)
    assert token.status_code == 200, token.content
    access = token.json()["access_token"]
    me = client_for(tenant_b).get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200
    assert me.json()["email"] == "carol@globex.test"
    assert (
        client_for(tenant_a)
        .get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {access}")
        .status_code
        == 401
    )
    assert ConnectionConfig.objects.get(client=web.client, tenant=tenant_b).approved_by == carol
