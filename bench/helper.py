"""The benchmark's Django-side steps, each run by ``bench/run.py`` as its own process.

    helper.py inputs  LAYOUT PORT OUT        sessions and bearer tokens for the scenarios
    helper.py codes   LAYOUT COUNT OUT       mint COUNT authorization codes (60 s lifetime)
    helper.py queries LAYOUT INPUTS PORT OUT SQL queries per request of each scenario
    helper.py profile LAYOUT INPUTS PORT SCENARIO N [OUT.prof]   cProfile of N requests
    helper.py cleanup LAYOUT [INPUTS]        remove what the benchmark issued

Same environment as the server (DATABASE_URL, keys, PLATFORM_PORT).
"""

import cProfile
import io
import json
import os
import pstats
import re
import secrets
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import scenarios  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import set_token_value  # noqa: E402
from oauthlib.common import Request as OAuthlibRequest  # noqa: E402

from oauth_clients.models import (  # noqa: E402
    AccessToken,
    AuthorizationCode,
    IDToken,
    OAuthClient,
    RefreshToken,
)
from oauth_clients.oauth.tokens import generate_access_token  # noqa: E402
from oauth_clients.oauthlib_request import TENANT_KEY  # noqa: E402
from oauth_clients.services import ClientData, create_client  # noqa: E402
from tenants.middleware import SESSION_TENANT_KEY  # noqa: E402
from tenants.models import Membership, Tenant, User  # noqa: E402

BACKEND = "django.contrib.auth.backends.ModelBackend"


def load(path) -> dict:
    return json.loads(Path(path).read_text())


def write(path, data) -> None:
    target = Path(path)
    target.touch(mode=0o600, exist_ok=True)
    target.write_text(json.dumps(data, indent=1))


def make_session(user: User, tenant_id: int) -> str:
    """What a successful sign-in at the tenant leaves in the session (tests/conftest.py)."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = BACKEND
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session[SESSION_TENANT_KEY] = tenant_id
    session.create()
    return session.session_key


ACCESS_TOKEN_LIFETIME = settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]


def mint_token(client: OAuthClient, user: User, tenant: Tenant) -> str:
    """An access token and its row, as the token endpoint stores them (introspection reads it)."""
    request = OAuthlibRequest("/oauth/token", http_method="POST", headers={TENANT_KEY: tenant})
    request.client = client
    request.user = user
    request.scopes = ["user_default"]
    request.grant_type = "authorization_code"
    token = generate_access_token(request)
    row = AccessToken(
        tenant=tenant,
        user=user,
        application=client,
        scope="user_default",
        jti=request.access_token_jti,
        expires=timezone.now()
        + timedelta(seconds=settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]),
    )
    set_token_value(row, token)
    row.save()
    return token


def cmd_inputs(layout_path, port, out) -> None:
    """A signed-in session per load tenant (its member user) and for the console admin;
    one access token per load client, for that member."""
    layout = load(layout_path)
    sessions = {}
    for c in layout["load_clients"]:
        if c["tenant"] not in sessions:
            sessions[c["tenant"]] = make_session(User.objects.get(pk=c["user_id"]), c["tenant_id"])
    console = layout["console"]
    sessions[console["tenant"]] = make_session(
        User.objects.get(pk=console["admin_id"]), console["tenant_id"]
    )
    clients = OAuthClient.objects.select_related("tenant__region").in_bulk(
        [c["pk"] for c in layout["load_clients"]]
    )
    users = User.objects.in_bulk([c["user_id"] for c in layout["load_clients"]])
    tokens = {
        c["client_id"]: mint_token(clients[c["pk"]], users[c["user_id"]], clients[c["pk"]].tenant)
        for c in layout["load_clients"]
    }
    write(out, {"port": port, "sessions": sessions, "tokens": tokens})


def mint_codes(layout: dict, count: int) -> list[dict]:
    clients = layout["load_clients"]
    now = timezone.now()
    expires = now + timedelta(seconds=settings.OAUTH2_PROVIDER["AUTHORIZATION_CODE_EXPIRE_SECONDS"])
    # Codes of earlier runs that have expired go first (they would only grow the table).
    AuthorizationCode.objects.filter(
        application_id__in=[c["pk"] for c in clients], expires__lt=now
    )._raw_delete(AuthorizationCode.objects.db)
    items, rows = [], []
    for n in range(count):
        index = n % len(clients)
        c = clients[index]
        code = secrets.token_urlsafe(30)
        items.append({"client": index, "code": code})
        rows.append(
            AuthorizationCode(
                tenant_id=c["tenant_id"],
                application_id=c["pk"],
                user_id=c["user_id"],
                code=code,
                expires=expires,
                redirect_uri=layout["redirect_uri"],
                scope="user_default",
                code_challenge=scenarios.CODE_CHALLENGE,
                code_challenge_method="S256",
                nonce="",
                claims="{}",
            )
        )
    AuthorizationCode.objects.bulk_create(rows, batch_size=5000)
    return items


def cmd_codes(layout_path, count, out) -> None:
    write(out, mint_codes(load(layout_path), int(count)))


def replay(http: Client, request: dict):
    """One request through the full middleware stack (cookies only as the request names them)."""
    http.cookies.clear()
    extra = {"HTTP_HOST": request["host"]}
    content_type = "application/octet-stream"
    for name, value in request["headers"].items():
        if name.lower() == "content-type":
            content_type = value
        elif name.lower() == "cookie":
            for part in value.split(";"):
                key, _, val = part.strip().partition("=")
                http.cookies[key] = val
        else:
            extra["HTTP_" + name.upper().replace("-", "_")] = value
    return http.generic(
        request["method"],
        request["path"],
        data=request["body"].encode(),
        content_type=content_type,
        **extra,
    )


def count_queries(name: str, requests: list[dict]) -> dict:
    """Two requests through the full stack; the second one's queries are counted
    (the first warms per-process caches, as a long-running worker has them warm)."""
    expect = scenarios.SCENARIOS[name][1]
    statuses, captured = [], None
    http = Client(raise_request_exception=False)
    for n in range(2):
        request = requests[n % len(requests)]
        with CaptureQueriesContext(connection) as queries:
            response = replay(http, request)
        ok = scenarios.succeeded(expect, response.status_code, response.headers, response.content)
        statuses.append((response.status_code, ok))
        captured = queries
    return {
        "queries": len(captured),
        "status": statuses[-1][0],
        "ok": all(ok for _status, ok in statuses),
        "sql": [q["sql"][:300] for q in captured.captured_queries],
    }


def small_console_tenant(layout: dict, port: int) -> dict:
    """The console list of a tenant with a single client, for comparison (rolled back)."""
    tenant = Tenant.objects.create(
        slug="benchsmall",
        name="Bench small",
        region_id=Tenant.objects.get(pk=layout["console"]["tenant_id"]).region_id,
    )
    admin = User.objects.create(email="admin@benchsmall.bench.test", password="!x")
    Membership.objects.create(tenant=tenant, user=admin, role=Membership.Role.ADMIN)
    create_client(
        tenant,
        ClientData(
            name="Only app",
            redirect_uris=["https://only.example.com/cb"],
            allowed_scopes=["user_default"],  # the services refuse a client without scopes
        ),
        app_type="web",
        actor=admin,
    )
    console = {"tenant": tenant.slug, "host": tenant.hostname}
    inputs = {"sessions": {tenant.slug: make_session(admin, tenant.pk)}}
    return count_queries("console_list", scenarios.console_list(layout, port, inputs, console))


def cmd_queries(layout_path, inputs_path, port, out) -> None:
    layout, inputs, port = load(layout_path), load(inputs_path), int(port)
    results = {}
    for name in scenarios.SCENARIOS:
        codes = mint_codes(layout, 2) if name in scenarios.CONSUMING else None
        results[name] = count_queries(
            name, scenarios.requests_for(name, layout, port, inputs, codes)
        )
    with transaction.atomic():
        results["console_list_1_client"] = small_console_tenant(layout, port)
        transaction.set_rollback(True)
    write(out, results)


def cmd_profile(layout_path, inputs_path, port, name, count, dump=None) -> None:
    layout, inputs, port, count = load(layout_path), load(inputs_path), int(port), int(count)
    codes = mint_codes(layout, count + 1) if name in scenarios.CONSUMING else None
    requests = scenarios.requests_for(name, layout, port, inputs, codes)
    # One client, as a worker has one handler: middleware is loaded once.
    http = Client()
    replay(http, requests[0])  # warm up
    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(count):
        replay(http, requests[(n + 1) % len(requests)])
    profiler.disable()
    project = re.escape(str(ROOT)) + r"/(oauth_clients|tenants|consent|config)/"
    sections = (
        ("cumulative", (45,), "sorted by cumulative time"),
        ("tottime", (25,), "sorted by own time"),
        ("cumulative", (project, 40), "the project's own functions, by cumulative time"),
    )
    for sort, restrictions, title in sections:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(sort).print_stats(*restrictions)
        print(f"--- {name}: {count} requests, {title} ---")
        print(text.getvalue())
    if dump:
        profiler.dump_stats(dump)


def cmd_cleanup(layout_path, inputs_path=None) -> None:
    """Tokens and codes the benchmark issued (seeded tokens stay), and its sessions."""
    layout = load(layout_path)
    pks = [c["pk"] for c in layout["load_clients"]]
    db = AccessToken.objects.db
    with transaction.atomic():
        RefreshToken.objects.filter(application_id__in=pks)._raw_delete(db)
        AccessToken.objects.filter(application_id__in=pks).exclude(
            jti__startswith="seed-"
        )._raw_delete(db)
        IDToken.objects.filter(application_id__in=pks)._raw_delete(db)
        AuthorizationCode.objects.filter(application_id__in=pks)._raw_delete(db)
        if inputs_path and Path(inputs_path).exists():
            keys = list(load(inputs_path).get("sessions", {}).values())
            Session.objects.filter(session_key__in=keys).delete()
        Session.objects.filter(expire_date__lt=timezone.now()).delete()


def main(argv: list[str]) -> int:
    commands = {
        "inputs": cmd_inputs,
        "codes": cmd_codes,
        "queries": cmd_queries,
        "profile": cmd_profile,
        "cleanup": cmd_cleanup,
    }
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__)
        return 2
    commands[argv[1]](*argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
