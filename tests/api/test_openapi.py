"""The OpenAPI 3.1 document: served as kept in the repository, and true of the implementation.

The property-based run (Schemathesis) drives every documented operation
through Django's WSGI application with Alice's admin token, each example
in a savepoint rolled back afterwards, so every example starts from the
same clients. Path parameters are drawn from real client ids and secret
hints as well as generated strings, and ``filter``/``page`` are sometimes
well-formed terms and cursors with generated contents, so that generation
gets past the first checks.
"""

import base64
import json
import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from oauth_clients.api.clients import OPENAPI_PATH
from tests.api.conftest import REDIRECT, token_for
from tests.factories import create_oauth_client
from tests.flows import client_for

pytestmark = pytest.mark.django_db

DOCUMENT = json.loads(OPENAPI_PATH.read_text())
METHODS = {"get", "post", "put", "patch", "delete"}

# --- The document ---------------------------------------------------------------------------------


def test_the_served_document_is_the_one_in_the_repository(tenant_a):
    response = client_for(tenant_a).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == OPENAPI_PATH.read_bytes()
    assert response.json() == DOCUMENT


def test_the_document_needs_no_token(tenant_a):
    response = client_for(tenant_a).get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "Authorization" not in response.get("Vary", "")


def test_it_is_a_valid_openapi_3_1_document(tenant_a):
    assert re.fullmatch(r"3\.1\.\d+", DOCUMENT["openapi"])
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.validate()  # against the OpenAPI 3.1 meta-schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12
    ids = [operation.definition.raw["operationId"] for operation in operations]
    assert len(set(ids)) == len(ids)


@pytest.fixture
def same_connection():
    """Django's WSGI handler closes "old" database connections around each request; the test
    client does not, and neither may these requests: the test's transaction is on that connection.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_served_document_loads_in_schemathesis(tenant_a, same_connection):
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", WSGIHandler(), headers={"Host": tenant_a.hostname}
    )
    schema.validate()
    assert {result.ok().label for result in schema.get_all_operations()} == {
        f"{method.upper()} {path}"
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in METHODS
    }


def implemented_paths() -> set[str]:
    """The management API's URL patterns, written as OpenAPI paths."""
    from oauth_clients.api import urls as api_urls

    paths = set()
    for pattern in api_urls.urlpatterns:
        name = getattr(pattern, "name", None) or ""
        if name.startswith("api-oauth-client"):
            route = "/api/" + str(pattern.pattern)
            paths.add(
                re.sub(r"<slug:client_id>", "{clientId}", route).replace("<slug:hint>", "{hint}")
            )
    return paths


def test_every_route_is_documented_and_every_documented_path_exists():
    assert implemented_paths() == set(DOCUMENT["paths"])


@pytest.mark.parametrize("template", sorted(DOCUMENT["paths"]))
def test_documented_methods_are_exactly_the_implemented_ones(alice_api, web, template):
    documented = {m.upper() for m in DOCUMENT["paths"][template] if m in METHODS}
    path = template.format(clientId=web["clientId"], hint=web["clientSecretHint"])
    for method in sorted({m.upper() for m in METHODS}):
        with transaction.atomic():
            response = alice_api.call(method, path)
            transaction.set_rollback(True)
        if method in documented:
            assert response.status_code != 405, (method, path)
        else:
            assert response.status_code == 405, (method, path, response.status_code)
            assert set(response["Allow"].replace(" ", "").split(",")) <= documented | {"OPTIONS"}


def test_every_operation_documents_the_auth_errors():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
                if "{clientId}" in path:
                    assert "404" in operation["responses"], (method, path)
                if "requestBody" in operation:
                    assert {"400", "415"} <= set(operation["responses"]), (method, path)


# --- The property-based run -----------------------------------------------------------------------

SCHEMA = schemathesis.openapi.from_path(OPENAPI_PATH)
SCHEMA.app = WSGIHandler()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # Input the document rules out must be refused (4xx), not acted on.
    negative_data_rejection,
]
# Real ids and hints of the current test's clients, for the hooks below.
KNOWN: dict[str, list[str]] = {"clientId": [], "hint": []}


def cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


@SCHEMA.hook
def flatmap_path_parameters(context, path_parameters):
    """Often a real client id (own Web, own SPA, another tenant's) and a real hint."""
    if not path_parameters or not KNOWN["clientId"]:
        return st.just(path_parameters)

    def pick(choice):
        client_id, hint = choice
        params = dict(path_parameters)
        if client_id is not None and "clientId" in params:
            params["clientId"] = client_id
        if hint is not None and "hint" in params:
            params["hint"] = hint
        return params

    ids = st.sampled_from([None, *KNOWN["clientId"]])
    hints = st.sampled_from([None, *KNOWN["hint"]])
    return st.tuples(ids, hints).map(pick)


def filter_term(field: str, op: str, text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field} {op} "{escaped}"'


@SCHEMA.hook
def flatmap_query(context, query):
    """Often a well-formed filter term or cursor around generated contents."""
    if not isinstance(query, dict) or not ({"filter", "page"} & set(query)):
        return st.just(query)
    terms = st.builds(
        filter_term,
        st.sampled_from(["clientName", "appType", "clientId"]),
        st.sampled_from(["eq", "co", "sw"]),
        st.text(max_size=12),
    )
    boundaries = st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64])
    offsets = st.one_of(st.integers(0, 50), boundaries, st.integers(min_value=0))

    def shape(choice):
        term, offset = choice
        shaped = dict(query)
        if "filter" in shaped and term is not None:
            shaped["filter"] = term
        if "page" in shaped and offset is not None:
            shaped["page"] = cursor(offset)
        return shaped

    return st.tuples(st.none() | terms, st.none() | offsets).map(shape)


@pytest.fixture
def known(tenant_a, tenant_b, alice, carol, tool_client, same_connection):
    """Alice's token; her clients' ids and hints (and another tenant's) for the hooks."""
    web, secret = create_oauth_client(tenant_a, actor=alice, name="Web", redirect_uris=[REDIRECT])
    spa, _ = create_oauth_client(
        tenant_a,
        actor=alice,
        name="Spa",
        app_type="spa",
        redirect_uris=["https://spa.example.com/cb"],
        allowed_origins=["https://spa.example.com"],
    )
    theirs, their_secret = create_oauth_client(tenant_b, actor=carol, name="Globex")
    KNOWN["clientId"][:] = [web.client_id, spa.client_id, theirs.client_id]
    KNOWN["hint"][:] = [secret[-5:], their_secret[-5:]]
    try:
        yield token_for(tenant_a, alice, tool_client)
    finally:
        for values in KNOWN.values():
            values.clear()


@SCHEMA.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_implementation_keeps_to_the_document(case, known, tenant_a):
    savepoint = transaction.savepoint()
    try:
        response = case.call(
            base_url=tenant_a.base_url, headers={"Authorization": f"Bearer {known}"}
        )
    finally:
        transaction.savepoint_rollback(savepoint)
    case.validate_response(response, checks=CHECKS)
