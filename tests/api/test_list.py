"""``GET /api/v1/oauth-clients``: limit, cursor paging, sort, filter, totalResults."""

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from oauth_clients.services import delete_clients
from tests.api.conftest import BASE, assert_errors
from tests.factories import create_oauth_client

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [client["clientName"] for client in response.json()["data"]]


def cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def walk(api, first, direction="next") -> list[list[str]]:
    """The names on each page, following ``direction`` links from ``first``."""
    pages, response = [], first
    for _ in range(50):
        pages.append(names(response))
        link = response.json()["links"].get(direction)
        if link is None:
            return pages
        response = api.follow(link["href"])
    raise AssertionError("paging does not end")


@pytest.fixture
def many(tenant_a, alice, tool_client):
    """Tool client ("Automation") plus 24 clients: App 01 … App 24, created in that order."""
    for number in range(1, 25):
        create_oauth_client(tenant_a, actor=alice, name=f"App {number:02d}")
    return [f"App {n:02d}" for n in range(1, 25)] + ["Automation"]


@pytest.fixture
def assorted(tenant_a, alice, tool_client):
    """Clients of each type, created in the order: Reporting, Browser, Mobile, Report viewer."""
    create_oauth_client(tenant_a, actor=alice, name="Reporting")
    create_oauth_client(
        tenant_a,
        actor=alice,
        name="Browser",
        app_type="spa",
        allowed_origins=["https://spa.example.com"],
    )
    create_oauth_client(
        tenant_a,
        actor=alice,
        name="Mobile",
        app_type="native",
        redirect_uris=["com.example.app:/callback"],
    )
    create_oauth_client(tenant_a, actor=alice, name="Report viewer", app_type="spa")


class TestPage:
    def test_the_answer_is_data_and_links(self, alice_api, tenant_a):
        response = alice_api.get(BASE)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert "no-store" in response["Cache-Control"]
        body = response.json()
        assert set(body) == {"data", "links"}
        assert body["links"]["self"]["href"] == f"{tenant_a.base_url}{BASE}"
        assert "next" not in body["links"]
        assert "prev" not in body["links"]

    def test_each_item_is_the_clients_representation(self, alice_api, web):
        listed = alice_api.get(BASE).json()["data"]
        item = next(c for c in listed if c["clientId"] == web["clientId"])
        assert item == alice_api.client(web["clientId"])
        assert "clientSecret" not in item
        assert web["clientSecret"] not in json.dumps(listed)

    def test_the_default_limit_is_20(self, alice_api, many):
        response = alice_api.get(BASE)
        assert names(response) == sorted(many)[:20]
        assert "next" in response.json()["links"]

    @pytest.mark.parametrize("limit", [1, 7, 100])
    def test_a_limit_from_1_to_100(self, alice_api, many, limit):
        assert names(alice_api.get(BASE, limit=limit)) == sorted(many)[:limit]

    @pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "", "2.5", "1e2"])
    def test_any_other_limit_is_400(self, alice_api, limit):
        assert_errors(alice_api.get(BASE, limit=limit), 400, field="limit")

    def test_deleted_clients_are_not_listed(self, alice_api, tenant_a, alice, tool_client):
        gone, _ = create_oauth_client(tenant_a, actor=alice, name="Gone")
        delete_clients(tenant_a, [gone.pk], actor=alice)
        assert names(alice_api.get(BASE)) == ["Automation"]

    def test_an_empty_tenant_lists_only_the_tool_client(self, alice_api):
        assert names(alice_api.get(BASE)) == ["Automation"]


class TestCursorPaging:
    def test_next_links_walk_every_client_once(self, alice_api, many):
        pages = walk(alice_api, alice_api.get(BASE, limit=7))
        assert [len(page) for page in pages] == [7, 7, 7, 4]
        assert [name for page in pages for name in page] == sorted(many)

    def test_prev_links_walk_back_to_the_first_page(self, alice_api, many):
        forward = walk(alice_api, alice_api.get(BASE, limit=7))
        last = alice_api.get(BASE, limit=7)
        while "next" in last.json()["links"]:
            last = alice_api.follow(last.json()["links"]["next"]["href"])
        backward = walk(alice_api, last, "prev")
        assert backward == list(reversed(forward))

    def test_links_keep_the_query(self, alice_api, many, tenant_a):
        query = {"limit": "5", "sort": "-clientName", "filter": 'clientName sw "app"'}
        first = alice_api.get(BASE, **query)
        links = first.json()["links"]
        assert links["self"]["href"].startswith(f"{tenant_a.base_url}{BASE}?")
        following = urlsplit(links["next"]["href"])
        assert following.path == BASE
        params = {k: v[0] for k, v in parse_qs(following.query).items()}
        assert {k: params[k] for k in query} == query
        assert "page" in params
        pages = walk(alice_api, first)
        expected = sorted((n for n in many if n.startswith("App")), reverse=True)
        assert [name for page in pages for name in page] == expected

    def test_the_self_link_gives_the_same_page(self, alice_api, many):
        second = alice_api.follow(alice_api.get(BASE, limit=5).json()["links"]["next"]["href"])
        again = alice_api.follow(second.json()["links"]["self"]["href"])
        assert names(again) == names(second)

    def test_a_page_past_the_end_is_empty(self, alice_api, many):
        response = alice_api.get(BASE, page=cursor({"o": 500}))
        assert names(response) == []
        assert "next" not in response.json()["links"]
        assert "prev" in response.json()["links"]

    @pytest.mark.parametrize(
        "page",
        [
            "not-a-cursor",
            "!!!",
            cursor({"o": -1}),
            cursor({"o": "3"}),
            cursor({"o": 1.5}),
            cursor({"offset": 3}),
            cursor([3]),
            cursor(None),
            "é",
        ],
    )
    def test_a_cursor_the_api_did_not_give_out_is_400(self, alice_api, page):
        assert_errors(alice_api.get(BASE, page=page), 400, field="page")

    @pytest.mark.parametrize("offset", [2**63, 10**30])
    def test_a_forged_cursor_with_a_huge_offset_is_400_not_500(self, alice_api, offset):
        # Bug: the offset goes straight into the SQL OFFSET (bigint overflow → 500).
        assert_errors(alice_api.get(BASE, page=cursor({"o": offset})), 400, field="page")


class TestSort:
    def test_by_name_by_default(self, alice_api, assorted):
        expected = ["Automation", "Browser", "Mobile", "Report viewer", "Reporting"]
        assert names(alice_api.get(BASE)) == expected
        assert names(alice_api.get(BASE, sort="clientName")) == expected
        assert names(alice_api.get(BASE, sort="-clientName")) == list(reversed(expected))

    def test_by_creation(self, alice_api, assorted):
        created = ["Automation", "Reporting", "Browser", "Mobile", "Report viewer"]
        assert names(alice_api.get(BASE, sort="createdAt")) == created
        assert names(alice_api.get(BASE, sort="-createdAt")) == list(reversed(created))

    def test_paging_keeps_the_sort(self, alice_api, many):
        pages = walk(alice_api, alice_api.get(BASE, sort="-createdAt", limit=10))
        assert [name for page in pages for name in page] == list(
            reversed(["Automation", *many[:-1]])
        )

    @pytest.mark.parametrize("sort", ["name", "created", "clientname", "+clientName", "appType"])
    def test_an_unknown_sort_is_400(self, alice_api, sort):
        assert_errors(alice_api.get(BASE, sort=sort), 400, field="sort")


class TestFilter:
    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ('clientName co "report"', ["Report viewer", "Reporting"]),
            ('clientName co "REPORT"', ["Report viewer", "Reporting"]),
            (
                'clientName co "o"',
                ["Automation", "Browser", "Mobile", "Report viewer", "Reporting"],
            ),
            ('clientName sw "rep"', ["Report viewer", "Reporting"]),
            ('clientName eq "reporting"', ["Reporting"]),
            ('clientName eq "Report"', []),
            ('appType eq "spa"', ["Browser", "Report viewer"]),
            ('appType eq "native"', ["Mobile"]),
            ('appType eq "web"', ["Automation", "Reporting"]),
            ('clientName co "report" and appType eq "spa"', ["Report viewer"]),
            ('appType eq "spa" and clientName co "report"', ["Report viewer"]),
            ('clientName co "report" and appType eq "native"', []),
            ('  clientName  co  "report"  ', ["Report viewer", "Reporting"]),
            ('clientName co ""', ["Automation", "Browser", "Mobile", "Report viewer", "Reporting"]),
        ],
    )
    def test_terms_and_and(self, alice_api, assorted, expression, expected):
        assert names(alice_api.get(BASE, filter=expression)) == expected

    def test_by_client_id(self, alice_api, web):
        response = alice_api.get(BASE, filter=f'clientId eq "{web["clientId"]}"')
        assert names(response) == ["Web app"]
        prefix = web["clientId"][:6]
        assert "Web app" in names(alice_api.get(BASE, filter=f'clientId sw "{prefix}"'))

    def test_a_quote_in_the_value_is_escaped(self, alice_api, tenant_a, alice, tool_client):
        create_oauth_client(tenant_a, actor=alice, name='The "best" app')
        assert names(alice_api.get(BASE, filter=r'clientName co "\"best\""')) == ['The "best" app']

    def test_a_value_may_contain_the_word_and(self, alice_api, tenant_a, alice, tool_client):
        # Bug: the expression is split on " and " before the quoted values are read.
        create_oauth_client(tenant_a, actor=alice, name="Research and Development")
        response = alice_api.get(BASE, filter='clientName co "research and dev"')
        assert names(response) == ["Research and Development"]

    def test_a_nul_character_in_a_value_is_not_a_server_error(self, alice_api):
        # Bug on PostgreSQL: the NUL reaches the query (DataError → 500).
        response = alice_api.get(BASE, filter='clientName co "\x00"')
        assert response.status_code in (200, 400), response.status_code
        if response.status_code == 200:
            assert names(response) == []
        else:
            assert_errors(response, 400, field="filter")

    @pytest.mark.parametrize(
        "expression",
        [
            "report",
            "clientName co report",
            'clientName like "report"',
            'description co "report"',
            'clientName co "report" or appType eq "spa"',
            'clientName co "report" and',
            'and clientName co "report"',
            'clientName co "report" appType eq "spa"',
            "clientName co 'report'",
            'clientName co "unterminated',
        ],
    )
    def test_anything_else_is_400(self, alice_api, expression):
        assert_errors(alice_api.get(BASE, filter=expression), 400, field="filter")

    def test_an_empty_filter_lists_everything(self, alice_api, assorted):
        assert len(names(alice_api.get(BASE, filter=""))) == 5


class TestTotalResults:
    def test_true_adds_the_count_of_all_matches(self, alice_api, many):
        body = alice_api.get(BASE, limit=5, totalResults="true").json()
        assert len(body["data"]) == 5
        assert body["totalResults"] == 25

    def test_the_count_is_of_the_filtered_clients(self, alice_api, assorted):
        body = alice_api.get(BASE, filter='appType eq "spa"', totalResults="true").json()
        assert body["totalResults"] == 2

    def test_the_count_is_on_every_page(self, alice_api, many):
        first = alice_api.get(BASE, limit=10, totalResults="true")
        last = walk(alice_api, first)
        assert len(last) == 3
        page = alice_api.follow(first.json()["links"]["next"]["href"])
        assert page.json()["totalResults"] == 25

    @pytest.mark.parametrize("params", [{}, {"totalResults": "false"}])
    def test_otherwise_there_is_no_count(self, alice_api, many, params):
        assert "totalResults" not in alice_api.get(BASE, **params).json()
