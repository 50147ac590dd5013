"""``GET``, ``PATCH`` (JSON Patch) and ``DELETE /api/v1/oauth-clients/{clientId}``."""

import json

import pytest

from oauth_clients.models import AccessToken, AllowedOrigin, ClientSecret, OAuthClient
from tenants.models import AuditEvent, Membership
from tests.api.conftest import BASE, REDIRECT, assert_errors, client_credentials_token, snapshot

pytestmark = pytest.mark.django_db

SECOND = "https://app.example.com/second"
THIRD = "https://app.example.com/third"


def path(client: dict) -> str:
    return f"{BASE}/{client['clientId']}"


def replace(member: str, value) -> list[dict]:
    return [{"op": "replace", "path": member, "value": value}]


@pytest.fixture
def three(alice_api, web) -> dict:
    """The Web client with three redirect URLs: REDIRECT, SECOND, THIRD."""
    response = alice_api.patch(path(web), replace("/redirectUris", [REDIRECT, SECOND, THIRD]))
    assert response.status_code == 204, response.content
    return web


# --- GET ------------------------------------------------------------------------------------------


class TestGet:
    def test_the_client(self, alice_api, web):
        response = alice_api.get(path(web))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert "no-store" in response["Cache-Control"]
        body = response.json()
        created = {k: v for k, v in web.items() if k not in ("clientSecret", "clientSecretHint")}
        assert body == created

    def test_the_secret_is_never_in_it(self, alice_api, web):
        raw = alice_api.get(path(web)).content.decode()
        assert web["clientSecret"] not in raw
        assert "clientSecret" not in json.loads(raw)
        assert [s["hint"] for s in json.loads(raw)["clientSecrets"]] == [web["clientSecretHint"]]

    @pytest.mark.parametrize(
        "client_id", ["0" * 32, "unknown", "A" * 32, "x" * 300, "a-b_c", "a.b", "%20", "a%0Ab"]
    )
    def test_an_unknown_client_is_a_json_404(self, alice_api, client_id):
        # "a%0Ab" (a newline): the API's catch-all route does not match it either, and
        # Django's HTML 404 page comes back instead of the API's JSON error (a bug).
        response = alice_api.get(f"{BASE}/{client_id}")
        assert_errors(response, 404, no_store=False)

    def test_a_deleted_client_is_404(self, alice_api, web):
        assert alice_api.delete(path(web)).status_code == 204
        assert_errors(alice_api.get(path(web)), 404, code="not_found")

    def test_unsupported_methods_are_405(self, alice_api, web):
        for method in ("PUT", "POST"):
            response = alice_api.call(method, path(web), {"clientName": "x"})
            assert response.status_code == 405, (method, response.status_code)
            assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH", "DELETE"}


# --- PATCH: whole members ----------------------------------------------------------------------


class TestPatchMembers:
    def test_replace_the_name(self, alice_api, web, alice):
        response = alice_api.patch(path(web), replace("/clientName", "Renamed"))
        assert response.status_code == 204
        assert response.content == b""
        body = alice_api.client(web["clientId"])
        assert body["clientName"] == "Renamed"
        assert body["updatedAt"] > web["updatedAt"]
        assert body["createdAt"] == web["createdAt"]
        client = OAuthClient.objects.get(client_id=web["clientId"])
        assert client.updated_by == alice

    def test_replace_and_remove_the_description(self, alice_api, web):
        alice_api.patch(path(web), replace("/description", "New"))
        assert alice_api.client(web["clientId"])["description"] == "New"
        response = alice_api.patch(path(web), [{"op": "remove", "path": "/description"}])
        assert response.status_code == 204
        assert alice_api.client(web["clientId"])["description"] == ""

    def test_add_on_a_member_sets_it(self, alice_api, web):
        response = alice_api.patch(path(web), [{"op": "add", "path": "/clientName", "value": "X"}])
        assert response.status_code == 204
        assert alice_api.client(web["clientId"])["clientName"] == "X"

    def test_replace_a_whole_list(self, alice_api, web):
        alice_api.patch(path(web), replace("/redirectUris", [SECOND, THIRD]))
        assert alice_api.client(web["clientId"])["redirectUris"] == [SECOND, THIRD]

    def test_replace_the_scopes(self, alice_api, web):
        alice_api.patch(path(web), replace("/allowedScopes", ["openid", "email"]))
        assert alice_api.client(web["clientId"])["allowedScopes"] == ["openid", "email"]

    def test_several_operations_apply_in_order(self, alice_api, web):
        response = alice_api.patch(
            path(web),
            [
                {"op": "replace", "path": "/clientName", "value": "First"},
                {"op": "add", "path": "/redirectUris/-", "value": SECOND},
                {"op": "remove", "path": "/redirectUris/0"},
                {"op": "replace", "path": "/clientName", "value": "Second"},
            ],
        )
        assert response.status_code == 204, response.content
        body = alice_api.client(web["clientId"])
        assert body["clientName"] == "Second"
        assert body["redirectUris"] == [SECOND]

    def test_the_change_is_recorded_once(self, alice_api, web, alice):
        alice_api.patch(path(web), replace("/clientName", "A") + replace("/description", "B"))
        events = AuditEvent.objects.filter(action="oauth_client.updated")
        assert [(e.actor, e.target_id) for e in events] == [
            (alice, str(OAuthClient.objects.get(client_id=web["clientId"]).pk))
        ]

    def test_what_the_patch_does_not_name_stays(self, alice_api, web):
        before = ClientSecret.objects.get(client__client_id=web["clientId"]).digest
        alice_api.patch(path(web), replace("/clientName", "Renamed"))
        after = alice_api.client(web["clientId"])
        for key in ("clientId", "appType", "redirectUris", "allowedScopes", "connectionConfig"):
            assert after[key] == web[key], key
        assert after["clientSecrets"] == web["clientSecrets"]
        assert ClientSecret.objects.get(client__client_id=web["clientId"]).digest == before

    def test_grant_client_credentials_and_take_it_back(self, alice_api, web, tenant_a):
        grants = ["authorization_code", "refresh_token", "client_credentials"]
        assert alice_api.patch(path(web), replace("/allowedGrantTypes", grants)).status_code == 204
        assert alice_api.client(web["clientId"])["allowedGrantTypes"] == grants
        client = OAuthClient.objects.get(client_id=web["clientId"])
        assert Membership.objects.get(tenant=tenant_a, user=client.service_user).is_admin
        response = alice_api.patch(path(web), [{"op": "remove", "path": "/allowedGrantTypes/2"}])
        assert response.status_code == 204, response.content
        assert alice_api.client(web["clientId"])["allowedGrantTypes"] == grants[:2]
        assert not Membership.objects.filter(tenant=tenant_a, user=client.service_user).exists()

    def test_origins_of_a_single_page_app(self, alice_api, spa):
        response = alice_api.patch(
            path(spa),
            [{"op": "add", "path": "/allowedOrigins/-", "value": "https://b.example.com"}],
        )
        assert response.status_code == 204, response.content
        origins = ["https://spa.example.com", "https://b.example.com"]
        assert alice_api.client(spa["clientId"])["allowedOrigins"] == origins
        rows = AllowedOrigin.objects.filter(client__client_id=spa["clientId"])
        assert sorted(rows.values_list("origin", flat=True)) == sorted(origins)
        alice_api.patch(path(spa), [{"op": "remove", "path": "/allowedOrigins/0"}])
        assert list(rows.values_list("origin", flat=True)) == ["https://b.example.com"]


# --- PATCH: array items ---------------------------------------------------------------------------


class TestPatchArrayItems:
    @pytest.mark.parametrize(
        ("operation", "expected"),
        [
            (
                {"op": "add", "path": "/redirectUris/0", "value": "https://n.example.com/"},
                ["N", 0, 1, 2],
            ),
            (
                {"op": "add", "path": "/redirectUris/1", "value": "https://n.example.com/"},
                [0, "N", 1, 2],
            ),
            (
                {"op": "add", "path": "/redirectUris/3", "value": "https://n.example.com/"},
                [0, 1, 2, "N"],
            ),
            (
                {"op": "add", "path": "/redirectUris/-", "value": "https://n.example.com/"},
                [0, 1, 2, "N"],
            ),
            (
                {"op": "replace", "path": "/redirectUris/0", "value": "https://n.example.com/"},
                ["N", 1, 2],
            ),
            (
                {"op": "replace", "path": "/redirectUris/2", "value": "https://n.example.com/"},
                [0, 1, "N"],
            ),
            ({"op": "remove", "path": "/redirectUris/0"}, [1, 2]),
            ({"op": "remove", "path": "/redirectUris/1"}, [0, 2]),
            ({"op": "remove", "path": "/redirectUris/2"}, [0, 1]),
        ],
    )
    def test_an_item_by_index(self, alice_api, three, operation, expected):
        urls = [REDIRECT, SECOND, THIRD]
        response = alice_api.patch(path(three), [operation])
        assert response.status_code == 204, response.content
        wanted = ["https://n.example.com/" if i == "N" else urls[i] for i in expected]
        assert alice_api.client(three["clientId"])["redirectUris"] == wanted

    @pytest.mark.parametrize(
        "operation",
        [
            {"op": "add", "path": "/redirectUris/4", "value": "https://n.example.com/"},
            {"op": "add", "path": "/redirectUris/99", "value": "https://n.example.com/"},
            {"op": "replace", "path": "/redirectUris/3", "value": "https://n.example.com/"},
            {"op": "remove", "path": "/redirectUris/3"},
            {"op": "replace", "path": "/redirectUris/-", "value": "https://n.example.com/"},
            {"op": "remove", "path": "/redirectUris/-"},
            {"op": "remove", "path": "/redirectUris/-1"},
            {"op": "replace", "path": "/redirectUris/x", "value": "https://n.example.com/"},
            {"op": "replace", "path": "/redirectUris/1.0", "value": "https://n.example.com/"},
            {"op": "replace", "path": "/redirectUris/ 1", "value": "https://n.example.com/"},
        ],
        ids=lambda o: f"{o['op']}:{o['path']}",
    )
    def test_an_index_out_of_range_or_not_an_index_is_400(
        self, alice_api, three, tenant_a, operation
    ):
        before = snapshot(tenant_a)
        assert_errors(alice_api.patch(path(three), [operation]), 400, field="redirectUris")
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize("index", ["01", "²", "١"])
    def test_an_index_must_be_ascii_digits_without_leading_zeros(
        self, alice_api, three, tenant_a, index
    ):
        # RFC 6901 §4: array indexes are "0" or digits 1-9 then 0-9 (ASCII, no leading zeros).
        # Bugs: "01" and Arabic-Indic digits are taken as indexes; "²" raises (500).
        before = snapshot(tenant_a)
        operation = {
            "op": "replace",
            "path": f"/redirectUris/{index}",
            "value": "https://n.example.com/",
        }
        assert_errors(alice_api.patch(path(three), [operation]), 400, field="redirectUris")
        assert snapshot(tenant_a) == before

    def test_an_empty_list_takes_an_add_at_0_and_at_the_end(self, alice_api, spa):
        alice_api.patch(path(spa), [{"op": "remove", "path": "/allowedOrigins"}])
        assert alice_api.client(spa["clientId"])["allowedOrigins"] == []
        response = alice_api.patch(
            path(spa),
            [
                {"op": "add", "path": "/allowedOrigins/0", "value": "https://a.example.com"},
                {"op": "add", "path": "/allowedOrigins/-", "value": "https://b.example.com"},
            ],
        )
        assert response.status_code == 204, response.content
        assert alice_api.client(spa["clientId"])["allowedOrigins"] == [
            "https://a.example.com",
            "https://b.example.com",
        ]

    @pytest.mark.parametrize("member", ["/clientName/0", "/description/0", "/clientName/-"])
    def test_an_index_into_a_string_is_400(self, alice_api, web, tenant_a, member):
        before = snapshot(tenant_a)
        operation = {"op": "add", "path": member, "value": "x"}
        assert_errors(alice_api.patch(path(web), [operation]), 400, field=member.split("/")[1])
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize(
        "member", ["/redirectUris/0/x", "/redirectUris/0/", "/clientName/", "/redirectUris/"]
    )
    def test_a_pointer_below_an_item_or_with_a_trailing_slash_is_400(
        self, alice_api, three, tenant_a, member
    ):
        # "/clientName/" points at the member "" of a string (RFC 6901), not at clientName.
        # Bug: a trailing slash is ignored and the whole member is replaced.
        before = snapshot(tenant_a)
        operation = {"op": "replace", "path": member, "value": "https://n.example.com/"}
        response = alice_api.patch(path(three), [operation])
        assert_errors(response, 400)
        assert snapshot(tenant_a) == before


# --- PATCH: refused documents -----------------------------------------------------------------


class TestPatchRefused:
    @pytest.mark.parametrize(
        "member",
        [
            "/appType",
            "/clientId",
            "/clientSecrets",
            "/clientSecrets/0",
            "/connectionConfig",
            "/connectionConfig/consentMethod",
            "/createdAt",
            "/updatedAt",
            "/publishedAt",
            "/tenantId",
            "/secret",
            "/client_name",
            "/ClientName",
        ],
    )
    def test_an_unknown_or_read_only_path_is_400_naming_it(self, alice_api, web, tenant_a, member):
        before = snapshot(tenant_a)
        for op in ("add", "replace", "remove"):
            operation = {"op": op, "path": member, "value": "spa"}
            errors = assert_errors(alice_api.patch(path(web), [operation]), 400)
            assert member in errors[0]["detail"], errors
        assert snapshot(tenant_a) == before

    def test_app_type_and_client_id_are_named_as_the_field(self, alice_api, web):
        for member in ("appType", "clientId"):
            response = alice_api.patch(path(web), replace(f"/{member}", "spa"))
            assert_errors(response, 400, field=member)

    @pytest.mark.parametrize("member", ["", "/", "clientName", "#/clientName", "/clientName/~1"])
    def test_a_path_that_is_not_a_member_pointer_is_400(self, alice_api, web, tenant_a, member):
        before = snapshot(tenant_a)
        assert_errors(alice_api.patch(path(web), replace(member, "x")), 400)
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize(
        "operation",
        [
            {"op": "move", "from": "/description", "path": "/clientName"},
            {"op": "copy", "from": "/description", "path": "/clientName"},
            {"op": "test", "path": "/clientName", "value": "Web app"},
            {"op": "REPLACE", "path": "/clientName", "value": "x"},
            {"op": None, "path": "/clientName", "value": "x"},
            {"path": "/clientName", "value": "x"},
            {"op": "replace", "value": "x"},
            {"op": "replace", "path": None, "value": "x"},
            {"op": "replace", "path": 1, "value": "x"},
            {"op": "replace", "path": ["/clientName"], "value": "x"},
        ],
        ids=str,
    )
    def test_a_malformed_operation_is_400(self, alice_api, web, tenant_a, operation):
        before = snapshot(tenant_a)
        assert_errors(alice_api.patch(path(web), [operation]), 400, code="invalid_patch")
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize(
        "body",
        [
            {"op": "replace", "path": "/clientName", "value": "x"},
            {"clientName": "x"},
            "replace",
            42,
            None,
            True,
            [],
            ["replace"],
            [None],
            [[{"op": "replace", "path": "/clientName", "value": "x"}]],
        ],
        ids=repr,
    )
    def test_a_body_that_is_not_a_patch_array_is_400(self, alice_api, web, tenant_a, body):
        before = snapshot(tenant_a)
        assert_errors(alice_api.patch(path(web), body), 400)
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize("op", ["add", "replace"])
    @pytest.mark.parametrize("member", ["/clientName", "/redirectUris", "/redirectUris/0"])
    def test_a_missing_value_is_400_naming_the_field(self, alice_api, web, tenant_a, op, member):
        before = snapshot(tenant_a)
        response = alice_api.patch(path(web), [{"op": op, "path": member}])
        assert_errors(response, 400, field=member.split("/")[1])
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize(
        ("field", "operation"),
        [
            ("clientName", {"op": "replace", "path": "/clientName", "value": 5}),
            ("clientName", {"op": "replace", "path": "/clientName", "value": None}),
            ("clientName", {"op": "replace", "path": "/clientName", "value": ["x"]}),
            ("clientName", {"op": "replace", "path": "/clientName", "value": ""}),
            ("clientName", {"op": "remove", "path": "/clientName"}),
            ("clientName", {"op": "replace", "path": "/clientName", "value": "x" * 101}),
            ("description", {"op": "replace", "path": "/description", "value": {"a": 1}}),
            ("description", {"op": "replace", "path": "/description", "value": "x" * 1001}),
            ("redirectUris", {"op": "replace", "path": "/redirectUris", "value": REDIRECT}),
            ("redirectUris", {"op": "replace", "path": "/redirectUris", "value": [1]}),
            ("redirectUris", {"op": "replace", "path": "/redirectUris", "value": None}),
            ("redirectUris", {"op": "replace", "path": "/redirectUris", "value": []}),
            ("redirectUris", {"op": "remove", "path": "/redirectUris"}),
            ("redirectUris", {"op": "remove", "path": "/redirectUris/0"}),
            ("redirectUris", {"op": "add", "path": "/redirectUris/-", "value": 7}),
            ("redirectUris", {"op": "add", "path": "/redirectUris/-", "value": [SECOND]}),
            ("redirectUris", {"op": "add", "path": "/redirectUris/-", "value": REDIRECT}),
            (
                "redirectUris",
                {"op": "add", "path": "/redirectUris/-", "value": "http://x.example.com/"},
            ),
            ("redirectUris", {"op": "replace", "path": "/redirectUris/0", "value": "not a url"}),
            ("allowedScopes", {"op": "replace", "path": "/allowedScopes", "value": "user_default"}),
            ("allowedScopes", {"op": "replace", "path": "/allowedScopes", "value": ["root"]}),
            ("allowedScopes", {"op": "remove", "path": "/allowedScopes"}),
            ("allowedScopes", {"op": "add", "path": "/allowedScopes/-", "value": 3}),
            ("allowedGrantTypes", {"op": "replace", "path": "/allowedGrantTypes", "value": "x"}),
            (
                "allowedGrantTypes",
                {"op": "add", "path": "/allowedGrantTypes/-", "value": "password"},
            ),
            ("allowedOrigins", {"op": "replace", "path": "/allowedOrigins", "value": 5}),
            ("allowedOrigins", {"op": "add", "path": "/allowedOrigins/-", "value": None}),
        ],
        ids=lambda v: v if isinstance(v, str) else f"{v['op']}:{v['path']}",
    )
    def test_a_wrong_value_is_400_naming_the_field(
        self, alice_api, web, tenant_a, field, operation
    ):
        before = snapshot(tenant_a)
        errors = assert_errors(alice_api.patch(path(web), [operation]), 400, field=field)
        assert any(field in error["detail"] for error in errors), errors
        assert snapshot(tenant_a) == before

    def test_a_single_page_app_cannot_get_client_credentials(self, alice_api, spa, tenant_a):
        before = snapshot(tenant_a)
        response = alice_api.patch(
            path(spa),
            [{"op": "add", "path": "/allowedGrantTypes/-", "value": "client_credentials"}],
        )
        assert_errors(response, 400, field="allowedGrantTypes")
        assert snapshot(tenant_a) == before

    def test_an_invalid_origin_is_400(self, alice_api, spa, tenant_a):
        response = alice_api.patch(
            path(spa),
            [{"op": "add", "path": "/allowedOrigins/-", "value": "https://a.example.com/x"}],
        )
        assert_errors(response, 400, field="allowedOrigins")

    def test_the_patch_is_all_or_nothing(self, alice_api, three, tenant_a):
        before = snapshot(tenant_a)
        response = alice_api.patch(
            path(three),
            [
                {"op": "replace", "path": "/clientName", "value": "Renamed"},
                {"op": "remove", "path": "/redirectUris/0"},
                {"op": "replace", "path": "/appType", "value": "spa"},
            ],
        )
        assert_errors(response, 400, field="appType")
        response = alice_api.patch(
            path(three),
            [
                {"op": "replace", "path": "/clientName", "value": "Renamed"},
                {"op": "replace", "path": "/redirectUris/0", "value": "not a url"},
            ],
        )
        assert_errors(response, 400, field="redirectUris")
        assert snapshot(tenant_a) == before

    @pytest.mark.parametrize(
        "content_type",
        [
            "application/x-www-form-urlencoded",
            "text/plain",
            "application/merge-patch+json",
        ],
    )
    def test_a_body_that_is_not_json_is_415(self, alice_api, web, tenant_a, content_type):
        before = snapshot(tenant_a)
        body = json.dumps(replace("/clientName", "x"))
        response = alice_api.raw("PATCH", path(web), body, content_type=content_type)
        assert_errors(response, 415)
        assert snapshot(tenant_a) == before

    def test_a_lone_surrogate_is_400_not_500(self, alice_api, web, tenant_a):
        # Bug: accepted by json.loads, then saving raises UnicodeEncodeError (500).
        before = snapshot(tenant_a)
        body = '[{"op": "replace", "path": "/clientName", "value": "x\\udc80"}]'
        assert_errors(alice_api.raw("PATCH", path(web), body), 400)
        assert snapshot(tenant_a) == before

    def test_invalid_json_is_400(self, alice_api, web):
        response = alice_api.raw("PATCH", path(web), '[{"op": "replace",')
        assert_errors(response, 400, code="invalid_json")

    def test_an_unknown_client_is_404(self, alice_api):
        assert_errors(alice_api.patch(f"{BASE}/{'0' * 32}", replace("/clientName", "x")), 404)


# --- DELETE ---------------------------------------------------------------------------------------


class TestDelete:
    def test_204_and_it_is_gone(self, alice_api, web, alice, tenant_a):
        response = alice_api.delete(path(web))
        assert response.status_code == 204
        assert response.content == b""
        assert_errors(alice_api.get(path(web)), 404)
        listed = [c["clientId"] for c in alice_api.get("/api/v1/oauth-clients").json()["data"]]
        assert web["clientId"] not in listed
        client = OAuthClient.objects.get(client_id=web["clientId"])
        assert client.is_deleted
        assert not ClientSecret.objects.filter(client=client).exists()
        event = AuditEvent.objects.get(action="oauth_client.deleted")
        assert (event.actor, event.tenant, event.target_id) == (alice, tenant_a, str(client.pk))

    def test_a_second_delete_is_404(self, alice_api, web):
        alice_api.delete(path(web))
        assert_errors(alice_api.delete(path(web)), 404)
        assert AuditEvent.objects.filter(action="oauth_client.deleted").count() == 1

    def test_its_secret_and_tokens_stop_working(self, alice_api, tenant_a):
        robot = alice_api.create(allowedGrantTypes=["client_credentials"])
        client = OAuthClient.objects.get(client_id=robot["clientId"])
        issued = client_credentials_token(tenant_a, client, robot["clientSecret"], "user_default")
        assert issued.status_code == 200, issued.content
        access_token = issued.json()["access_token"]
        assert alice_api.delete(path(robot)).status_code == 204
        again = client_credentials_token(tenant_a, client, robot["clientSecret"], "user_default")
        assert again.status_code == 401
        assert not AccessToken.objects.filter(application=client).exists()
        me = alice_api.http.get("/api/v1/users/me", HTTP_AUTHORIZATION=f"Bearer {access_token}")
        assert me.status_code == 401

    def test_an_unknown_client_is_404(self, alice_api, tenant_a):
        before = snapshot(tenant_a)
        assert_errors(alice_api.delete(f"{BASE}/{'0' * 32}"), 404)
        assert snapshot(tenant_a) == before
