import pytest

pytestmark = pytest.mark.django_db

NEW = {
    "clientName": "Reports",
    "appType": "web",
    "redirectUris": ["https://reports.example.com/cb"],
    "allowedScopes": ["user_default"],
}


def test_create_get_patch_delete(alice_api):
    created = alice_api.post("/api/v1/oauth-clients", NEW)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["clientSecret"] and body["clientSecretHint"] == body["clientSecret"][-5:]
    client_id = body["clientId"]
    got = alice_api.get(f"/api/v1/oauth-clients/{client_id}").json()
    assert "clientSecret" not in got
    patched = alice_api.patch(
        f"/api/v1/oauth-clients/{client_id}",
        [{"op": "replace", "path": "/clientName", "value": "Reports 2"}],
    )
    assert patched.status_code == 204, patched.content
    listing = alice_api.get("/api/v1/oauth-clients", filter='clientName co "reports"').json()
    assert [c["clientName"] for c in listing["data"]] == ["Reports 2"]
    assert alice_api.delete(f"/api/v1/oauth-clients/{client_id}").status_code == 204
    assert alice_api.get(f"/api/v1/oauth-clients/{client_id}").status_code == 404


def test_a_member_is_refused(bob_api):
    assert bob_api.get("/api/v1/oauth-clients").status_code == 403
