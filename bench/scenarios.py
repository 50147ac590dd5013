"""The benchmark's scenarios: what each request looks like and what counts as success.

Plain data, no Django: ``run.py`` turns these requests into wrk input and
``helper.py`` replays the same requests through Django's test client to
count SQL queries. A request is a dict with ``method``, ``path``, ``host``,
``headers`` (name → value) and ``body`` (a string).
"""

import base64
import hashlib
from urllib.parse import urlencode

# One PKCE pair for every code: the server hashes the verifier per request anyway.
CODE_VERIFIER = "bench-verifier-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2
CODE_CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(CODE_VERIFIER.encode()).digest()).rstrip(b"=").decode()
)
FORM = "application/x-www-form-urlencoded"

# name: (title, how success is recognised, target ratio to the ceiling or None)
SCENARIOS = {
    "ceiling": ("GET /.well-known/openid-configuration (ceiling)", "2xx", None),
    "client_credentials": ("POST /oauth/token client_credentials", "2xx", 0.25),
    "code_exchange": ("POST /oauth/token authorization_code", "2xx", 0.12),
    "authorize": ("GET /oauth/authorize (302 with a code)", "code_redirect", 0.12),
    "users_me": ("GET /api/v1/users/me (bearer)", "2xx", 0.5),
    "introspection": ("POST /oauth/introspect", "active", 0.3),
    "console_list": ("GET console client list (200 clients)", "2xx", 0.1),
}
# Scenarios whose inputs are used up: each request gets its own.
CONSUMING = {"code_exchange"}


def _host(host: str, port: int) -> str:
    return f"{host}:{port}"


def _basic(client: dict) -> str:
    raw = f"{client['client_id']}:{client['secret']}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _request(method, path, host, port, headers=None, body="") -> dict:
    return {
        "method": method,
        "path": path,
        "host": _host(host, port),
        "headers": headers or {},
        "body": body,
    }


def ceiling(layout: dict, port: int) -> list[dict]:
    hosts = sorted({c["host"] for c in layout["load_clients"]})
    return [_request("GET", "/.well-known/openid-configuration", h, port) for h in hosts]


def client_credentials(layout: dict, port: int) -> list[dict]:
    body = urlencode({"grant_type": "client_credentials", "scope": "user_default"})
    return [
        _request(
            "POST",
            "/oauth/token",
            c["host"],
            port,
            {"Authorization": _basic(c), "Content-Type": FORM},
            body,
        )
        for c in layout["load_clients"]
    ]


def code_exchange(layout: dict, port: int, codes: list[dict]) -> list[dict]:
    """``codes``: [{"client": index into load_clients, "code": ...}], each used once."""
    clients = layout["load_clients"]
    requests = []
    for item in codes:
        c = clients[item["client"]]
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": item["code"],
                "redirect_uri": layout["redirect_uri"],
                "code_verifier": CODE_VERIFIER,
            }
        )
        requests.append(
            _request(
                "POST",
                "/oauth/token",
                c["host"],
                port,
                {"Authorization": _basic(c), "Content-Type": FORM},
                body,
            )
        )
    return requests


def authorize(layout: dict, port: int, inputs: dict) -> list[dict]:
    requests = []
    for c in layout["load_clients"]:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": c["client_id"],
                "redirect_uri": layout["redirect_uri"],
                "scope": "user_default",
                "state": "bench",
                "code_challenge": CODE_CHALLENGE,
                "code_challenge_method": "S256",
            }
        )
        cookie = f"sessionid={inputs['sessions'][c['tenant']]}"
        requests.append(
            _request("GET", f"/oauth/authorize?{query}", c["host"], port, {"Cookie": cookie})
        )
    return requests


def users_me(layout: dict, port: int, inputs: dict) -> list[dict]:
    return [
        _request(
            "GET",
            "/api/v1/users/me",
            c["host"],
            port,
            {"Authorization": f"Bearer {inputs['tokens'][c['client_id']]}"},
        )
        for c in layout["load_clients"]
    ]


def introspection(layout: dict, port: int, inputs: dict) -> list[dict]:
    return [
        _request(
            "POST",
            "/oauth/introspect",
            c["host"],
            port,
            {"Authorization": _basic(c), "Content-Type": FORM},
            urlencode(
                {"token": inputs["tokens"][c["client_id"]], "token_type_hint": "access_token"}
            ),
        )
        for c in layout["load_clients"]
    ]


def console_list(layout: dict, port: int, inputs: dict, console: dict | None = None) -> list[dict]:
    console = console or layout["console"]
    cookie = f"sessionid={inputs['sessions'][console['tenant']]}"
    return [
        _request("GET", "/console/integration/oauth/", console["host"], port, {"Cookie": cookie})
    ]


def requests_for(name: str, layout: dict, port: int, inputs: dict, codes=None) -> list[dict]:
    if name == "ceiling":
        return ceiling(layout, port)
    if name == "client_credentials":
        return client_credentials(layout, port)
    if name == "code_exchange":
        return code_exchange(layout, port, codes or [])
    return {
        "authorize": authorize,
        "users_me": users_me,
        "introspection": introspection,
        "console_list": console_list,
    }[name](layout, port, inputs)


def succeeded(expect: str, status: int, headers: dict, body: bytes) -> bool:
    """The same rule the wrk script applies (bench/run.py, LUA)."""
    if expect == "code_redirect":
        location = headers.get("Location", "")
        return status == 302 and ("?code=" in location or "&code=" in location)
    if expect == "active":
        return status == 200 and b'"active": true' in body
    return 200 <= status < 300
