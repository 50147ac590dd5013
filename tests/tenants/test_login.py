import pytest

from tenants.middleware import SESSION_TENANT_KEY
from tests.factories import PASSWORD
from tests.flows import client_for

GENERIC_ERROR = "Invalid email or password."


def post_login(client, email, password=PASSWORD, next_url=None):
    data = {"username": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/login/", data)


@pytest.mark.django_db
class TestSignIn:
    def test_the_form_has_email_password_and_sign_in(self, anon_client):
        response = anon_client.get("/login/")
        assert response.status_code == 200
        html = response.content.decode()
        assert ">Email</label>" in html
        assert ">Password</label>" in html
        assert ">Sign in</button>" in html
        assert "Acme" in html

    def test_a_member_signs_in_and_the_session_is_bound_to_the_tenant(self, alice, tenant_a):
        client = client_for(tenant_a)
        response = post_login(client, "alice@acme.test")
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert client.session[SESSION_TENANT_KEY] == tenant_a.pk
        assert client.get("/console/").status_code == 200

    def test_email_is_case_insensitive(self, alice, tenant_a):
        response = post_login(client_for(tenant_a), "  Alice@ACME.test ")
        assert response.status_code == 302

    @pytest.mark.parametrize(
        "email,password",
        [
            ("alice@acme.test", "wrong-password"),  # wrong password
            ("nobody@acme.test", PASSWORD),  # unknown email
            ("carol@globex.test", PASSWORD),  # a real user, but of another tenant
        ],
    )
    def test_every_refusal_gets_the_same_generic_error(
        self, alice, carol, tenant_a, email, password
    ):
        client = client_for(tenant_a)
        response = post_login(client, email, password)
        assert response.status_code == 200
        assert GENERIC_ERROR in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_an_inactive_user_cannot_sign_in(self, alice, tenant_a):
        alice.is_active = False
        alice.save()
        response = post_login(client_for(tenant_a), "alice@acme.test")
        assert GENERIC_ERROR in response.content.decode()

    def test_a_member_of_acme_cannot_sign_in_at_globex(self, alice, tenant_b):
        response = post_login(client_for(tenant_b), "alice@acme.test")
        assert response.status_code == 200
        assert GENERIC_ERROR in response.content.decode()

    def test_a_session_from_acme_is_not_valid_at_globex(self, alice, tenant_a, tenant_b):
        # Alice is also an admin of globex, and still her acme cookie counts only at acme.
        from tenants.models import Membership

        Membership.objects.create(user=alice, tenant=tenant_b, role=Membership.Role.ADMIN)
        client = client_for(tenant_a)
        assert post_login(client, "alice@acme.test").status_code == 302
        assert client.get("/console/").status_code == 200

        # The Django test client sends its cookies to any host: this is a copied cookie.
        response = client.get("/console/", HTTP_HOST=tenant_b.hostname)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    def test_the_session_cookie_is_host_only(self, alice, tenant_a):
        client = client_for(tenant_a)
        post_login(client, "alice@acme.test")
        assert client.cookies["sessionid"]["domain"] == ""

    @pytest.mark.parametrize(
        "next_url",
        [
            "http://evil.test/",
            "//evil.test/path",
            "https://evil.test/",
            "http://globex.eu.localhost/console/",
            "/\\evil.test",
        ],
    )
    def test_next_never_leaves_the_host(self, alice, tenant_a, tenant_b, next_url):
        response = post_login(client_for(tenant_a), "alice@acme.test", next_url=next_url)
        assert response.status_code == 302
        assert response["Location"] == "/"

    def test_next_within_the_host_is_followed(self, alice, tenant_a):
        response = post_login(
            client_for(tenant_a), "alice@acme.test", next_url="/console/integration/oauth/"
        )
        assert response["Location"] == "/console/integration/oauth/"

    def test_login_post_without_csrf_token_is_refused(self, alice, tenant_a):
        client = client_for(tenant_a, enforce_csrf_checks=True)
        response = post_login(client, "alice@acme.test")
        assert response.status_code == 403
        assert "_auth_user_id" not in client.session


@pytest.mark.django_db
class TestSignOut:
    def test_sign_out_ends_the_session(self, alice_client):
        response = alice_client.post("/logout/")
        assert response.status_code == 302
        assert alice_client.get("/console/").status_code == 302

    def test_sign_out_needs_post(self, alice_client):
        assert alice_client.get("/logout/").status_code == 405


@pytest.mark.django_db
def test_removing_the_membership_ends_access(alice, alice_client, tenant_a):
    alice.memberships.filter(tenant=tenant_a).delete()
    response = alice_client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/console/"
    assert "_auth_user_id" not in alice_client.session
