"""The OAuth client list: Integration → OAuth."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from oauth_clients.models import ConnectionConfig, OAuthClient
from oauth_clients.services import delete_clients, publish_client
from tests.factories import create_oauth_client

LIST_URL = reverse("oauth_clients:list")
TABLE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "clients-table"}


def row(html: str, client: OAuthClient) -> str:
    """The table row of ``client`` in the rendered list."""
    match = re.search(rf'<tr id="client-{client.pk}">.*?</tr>', html, re.DOTALL)
    assert match, f"no row for {client.name}"
    return match.group(0)


def names_in_order(html: str, names: list[str]) -> list[str]:
    return sorted(names, key=html.index)


def make(tenant, name, *, created=None, **fields):
    client, _secret = create_oauth_client(tenant, name=name, app_type="spa", **fields)
    if created is not None:
        OAuthClient.objects.filter(pk=client.pk).update(created=created)
        client.refresh_from_db()
    return client


@pytest.mark.django_db
class TestClientList:
    def test_it_shows_the_clients_columns(self, alice_client, tenant_a, alice):
        client, _secret = create_oauth_client(
            tenant_a, actor=alice, name="Reporting app", description="Monthly reports"
        )
        response = alice_client.get(LIST_URL)
        assert response.status_code == 200
        html = row(response.content.decode(), client)
        assert "Reporting app" in html
        assert "Monthly reports" in html
        assert client.client_id in html
        assert "<td>Web</td>" in html
        assert "<td>Required</td>" in html
        assert "Published" not in html
        assert f'datetime="{timezone.localtime(client.created).isoformat()}"' in html

    def test_it_shows_the_type_of_each_client(self, alice_client, tenant_a):
        spa = make(tenant_a, "Browser app")
        native, _ = create_oauth_client(
            tenant_a, name="Phone app", app_type="native", redirect_uris=["com.example.app:/cb"]
        )
        html = alice_client.get(LIST_URL).content.decode()
        assert "<td>Single-page app</td>" in row(html, spa)
        assert "<td>Native</td>" in row(html, native)

    def test_it_shows_the_consent_method(self, alice_client, tenant_a):
        trusted = make(tenant_a, "Trusted app", consent_method="trusted")
        html = alice_client.get(LIST_URL).content.decode()
        assert "<td>Trusted</td>" in row(html, trusted)

    def test_it_shows_a_published_badge(self, alice_client, tenant_a, alice):
        published = make(tenant_a, "Public app")
        publish_client(published, actor=alice)
        unpublished = make(tenant_a, "Private app")
        html = alice_client.get(LIST_URL).content.decode()
        assert 'class="badge badge-published">Published<' in row(html, published)
        assert "badge-published" not in row(html, unpublished)

    def test_it_offers_the_actions_of_a_web_client(self, alice_client, tenant_a):
        client, _secret = create_oauth_client(tenant_a)
        html = row(alice_client.get(LIST_URL).content.decode(), client)
        for name in ("edit", "publish", "secrets", "configuration", "activity", "delete"):
            assert reverse(f"oauth_clients:{name}", args=[client.client_id]) in html

    def test_it_offers_no_secrets_for_a_single_page_app(self, alice_client, tenant_a):
        client = make(tenant_a, "Browser app")
        html = row(alice_client.get(LIST_URL).content.decode(), client)
        assert reverse("oauth_clients:secrets", args=[client.client_id]) not in html

    def test_it_never_lists_another_tenants_clients(self, alice_client, tenant_a, tenant_b, carol):
        make(tenant_a, "Acme app")
        foreign = make(tenant_b, "Globex app")
        publish_client(foreign, actor=carol)
        html = alice_client.get(LIST_URL).content.decode()
        assert "Acme app" in html
        assert "Globex app" not in html
        assert foreign.client_id not in html

    def test_it_does_not_list_deleted_clients(self, alice_client, tenant_a, alice):
        kept = make(tenant_a, "Kept app")
        gone = make(tenant_a, "Gone app")
        delete_clients(tenant_a, [gone.pk], actor=alice)
        html = alice_client.get(LIST_URL).content.decode()
        assert kept.client_id in html
        assert "Gone app" not in html
        assert gone.client_id not in html

    def test_it_escapes_client_names(self, alice_client, tenant_a):
        make(tenant_a, "<script>alert(1)</script>", description="<b>bold</b>")
        html = alice_client.get(LIST_URL).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>bold</b>" not in html

    def test_htmx_table_request_gets_the_table_fragment(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        response = alice_client.get(LIST_URL, **TABLE)
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="clients-table"')
        assert "<html" not in html
        assert "Reporting app" in html
        assert "HX-Request" in response["Vary"]

    def test_a_plain_request_gets_the_full_page(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        html = alice_client.get(LIST_URL).content.decode()
        assert "<html" in html
        assert 'id="clients-table"' in html
        assert 'role="search"' in html


@pytest.mark.django_db
class TestEmptyState:
    def test_it_invites_to_create_the_first_client(self, alice_client):
        html = alice_client.get(LIST_URL).content.decode()
        assert "No OAuth clients yet" in html
        assert f'href="{reverse("oauth_clients:create")}"' in html
        assert "Create new" in html
        assert "<table" not in html

    def test_it_counts_only_clients_not_deleted(self, alice_client, tenant_a, alice):
        gone = make(tenant_a, "Gone app")
        delete_clients(tenant_a, [gone.pk], actor=alice)
        assert "No OAuth clients yet" in alice_client.get(LIST_URL).content.decode()

    def test_another_tenants_clients_do_not_count(self, alice_client, tenant_b):
        make(tenant_b, "Globex app")
        assert "No OAuth clients yet" in alice_client.get(LIST_URL).content.decode()


@pytest.mark.django_db
class TestSearch:
    def test_it_finds_clients_by_part_of_the_name_ignoring_case(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        make(tenant_a, "Billing app")
        html = alice_client.get(LIST_URL, {"q": "REPORT"}).content.decode()
        assert "Reporting app" in html
        assert "Billing app" not in html

    def test_it_finds_clients_by_part_of_the_client_id(self, alice_client, tenant_a):
        wanted = make(tenant_a, "Reporting app")
        make(tenant_a, "Billing app")
        part = wanted.client_id[4:14].upper()
        html = alice_client.get(LIST_URL, {"q": part}).content.decode()
        assert "Reporting app" in html
        assert "Billing app" not in html

    def test_it_trims_the_search_terms(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        html = alice_client.get(LIST_URL, {"q": "  Reporting  "}).content.decode()
        assert "Reporting app" in html

    def test_it_does_not_search_another_tenants_clients(self, alice_client, tenant_a, tenant_b):
        make(tenant_a, "Acme app")
        foreign = make(tenant_b, "Globex app")
        html = alice_client.get(LIST_URL, {"q": foreign.client_id}).content.decode()
        assert "Globex app" not in html
        assert "No OAuth clients match" in html

    def test_it_says_when_nothing_matches(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        html = alice_client.get(LIST_URL, {"q": "nothing-like-this"}).content.decode()
        assert "No OAuth clients match “nothing-like-this”." in html
        assert "No OAuth clients yet" not in html
        assert "Show all" in html
        assert "Reporting app" not in html

    def test_it_escapes_the_search_terms(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        html = alice_client.get(LIST_URL, {"q": "<script>x</script>"}).content.decode()
        assert "<script>x</script>" not in html
        assert "&lt;script&gt;x&lt;/script&gt;" in html

    def test_it_keeps_the_search_terms_in_the_search_box(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        html = alice_client.get(LIST_URL, {"q": "Report"}).content.decode()
        assert 'name="q" value="Report"' in html

    def test_htmx_search_gets_the_table_fragment(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        make(tenant_a, "Billing app")
        response = alice_client.get(LIST_URL, {"q": "bill"}, **TABLE)
        html = response.content.decode()
        assert "<html" not in html
        assert "Billing app" in html
        assert "Reporting app" not in html


@pytest.mark.django_db
class TestSort:
    @pytest.fixture
    def clients(self, tenant_a):
        now = timezone.now()
        return [
            make(tenant_a, "Bravo", created=now - timedelta(days=3)),
            make(tenant_a, "Alpha", created=now - timedelta(days=1)),
            make(tenant_a, "Charlie", created=now - timedelta(days=2)),
        ]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("name", ["Alpha", "Bravo", "Charlie"]),
            ("-name", ["Charlie", "Bravo", "Alpha"]),
            ("created", ["Bravo", "Charlie", "Alpha"]),
            ("-created", ["Alpha", "Charlie", "Bravo"]),
        ],
    )
    def test_it_sorts_by_the_chosen_column(self, alice_client, clients, sort, expected):
        html = alice_client.get(LIST_URL, {"sort": sort}).content.decode()
        assert names_in_order(html, expected) == expected

    def test_it_sorts_by_name_by_default(self, alice_client, clients):
        html = alice_client.get(LIST_URL).content.decode()
        assert names_in_order(html, ["Charlie", "Alpha", "Bravo"]) == ["Alpha", "Bravo", "Charlie"]

    def test_an_unknown_sort_falls_back_to_name(self, alice_client, clients):
        response = alice_client.get(LIST_URL, {"sort": "secret_digest"})
        assert response.status_code == 200
        html = response.content.decode()
        assert names_in_order(html, ["Charlie", "Alpha", "Bravo"]) == ["Alpha", "Bravo", "Charlie"]

    def test_the_sorted_column_is_marked_and_its_link_reverses_it(self, alice_client, clients):
        html = alice_client.get(LIST_URL, {"sort": "name"}).content.decode()
        assert 'aria-sort="ascending"' in html
        assert f'href="{LIST_URL}?sort=-name"' in html
        html = alice_client.get(LIST_URL, {"sort": "-created"}).content.decode()
        assert 'aria-sort="descending"' in html
        assert f'href="{LIST_URL}?sort=created"' in html

    def test_the_sort_links_keep_the_search(self, alice_client, clients):
        html = alice_client.get(LIST_URL, {"q": "a", "sort": "name"}).content.decode()
        assert f'href="{LIST_URL}?q=a&amp;sort=-name"' in html


@pytest.mark.django_db
class TestPagination:
    @pytest.fixture
    def clients(self, tenant_a):
        return [make(tenant_a, f"Client {n:02d}") for n in range(1, 46)]

    def test_it_shows_20_clients_per_page(self, alice_client, clients):
        html = alice_client.get(LIST_URL).content.decode()
        assert html.count('<tr id="client-') == 20
        assert "Client 20" in html
        assert "Client 21" not in html
        assert "Page 1 of 3 (45 clients)" in html
        assert f'href="{LIST_URL}?sort=name&amp;page=2" hx-get' in html
        assert 'rel="prev"' not in html

    def test_it_shows_the_second_page(self, alice_client, clients):
        html = alice_client.get(LIST_URL, {"page": 2}).content.decode()
        assert html.count('<tr id="client-') == 20
        assert "Client 20" not in html
        assert "Client 21" in html
        assert "Client 40" in html
        assert "Page 2 of 3" in html
        assert 'rel="prev"' in html
        assert 'rel="next"' in html

    def test_the_last_page_has_the_rest(self, alice_client, clients):
        html = alice_client.get(LIST_URL, {"page": 3}).content.decode()
        assert html.count('<tr id="client-') == 5
        assert "Page 3 of 3" in html
        assert 'rel="next"' not in html

    def test_a_page_out_of_range_shows_the_last_page(self, alice_client, clients):
        response = alice_client.get(LIST_URL, {"page": 99})
        assert response.status_code == 200
        assert "Page 3 of 3" in response.content.decode()

    def test_a_page_that_is_not_a_number_shows_the_first_page(self, alice_client, clients):
        response = alice_client.get(LIST_URL, {"page": "x"})
        assert response.status_code == 200
        assert "Page 1 of 3" in response.content.decode()

    def test_page_links_keep_search_and_sort(self, alice_client, clients):
        html = alice_client.get(LIST_URL, {"q": "client", "sort": "-name"}).content.decode()
        assert f'href="{LIST_URL}?q=client&amp;sort=-name&amp;page=2"' in html
        assert "Client 45" in html

    def test_a_single_page_has_no_pagination(self, alice_client, tenant_a):
        make(tenant_a, "Only app")
        html = alice_client.get(LIST_URL).content.decode()
        assert "Page 1 of" not in html


@pytest.mark.django_db
class TestAccess:
    def test_a_member_gets_403(self, bob_client, tenant_a):
        make(tenant_a, "Reporting app")
        response = bob_client.get(LIST_URL)
        assert response.status_code == 403
        assert "Reporting app" not in response.content.decode()

    def test_anonymous_is_sent_to_sign_in(self, anon_client):
        response = anon_client.get(LIST_URL)
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={LIST_URL}"

    def test_anonymous_htmx_request_redirects_the_whole_page(self, anon_client):
        response = anon_client.get(LIST_URL, **TABLE)
        assert response["HX-Redirect"] == f"/login/?next={LIST_URL}"

    def test_it_is_read_only(self, alice_client, tenant_a):
        make(tenant_a, "Reporting app")
        assert alice_client.post(LIST_URL).status_code == 405
        assert OAuthClient.objects.filter(tenant=tenant_a, deleted_at=None).count() == 1
        assert ConnectionConfig.objects.count() == 1
