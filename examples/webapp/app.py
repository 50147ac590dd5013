"""A small OAuth client web application, with nothing but Python's standard library.

It signs a user in with the authorization code flow and PKCE (S256), then
shows what ``GET /api/v1/users/me`` says about them. Copy it and change what
you like. It runs in one of two modes:

- single-tenant: ``ISSUER`` names the one tenant it signs users in at;
- multi-tenant: ``REGION_AUTHORIZE_URL`` names a region host's authorization
  endpoint. The client is one a tenant *published* to its region; the region
  host asks the user for their tenant and sends them on to it, and the app
  learns which tenant it was from the ``iss`` of the authorization response
  (RFC 9207), then discovers that tenant's endpoints.

Configuration, from the environment:

    ISSUER         the tenant's issuer, e.g. http://acme.eu.localhost:8000
    REGION_AUTHORIZE_URL
                   instead of ISSUER (multi-tenant mode): the region host's
                   authorization endpoint, e.g. http://eu.localhost:8000/oauth/authorize
    CLIENT_ID      the OAuth client's ID (required)
    CLIENT_SECRET  the secret of a Web client; leave it unset for a Native client
                   (a public client: it sends only its client_id and proves itself with PKCE)
    REDIRECT_URI   where the tenant sends the user back, registered on the client
                   exactly as written here (default http://localhost:8080/callback);
                   the app listens on its port and answers on its path
    SCOPE          the scopes to ask for (default "user_default")
    LISTEN_HOST    the address to listen on (default 127.0.0.1)

Run: ``ISSUER=... CLIENT_ID=... CLIENT_SECRET=... python3 app.py`` (or
``REGION_AUTHORIZE_URL=...`` instead of ``ISSUER``), then open the
REDIRECT_URI's origin (e.g. http://localhost:8080/) in a browser.

What it checks, and why:

- discovery: the metadata at ``{issuer}/.well-known/openid-configuration``
  must name that issuer as its ``issuer`` (RFC 8414 §3.3);
- ``state``: bound to the browser's session cookie and used once, so a
  callback the user did not start is refused (RFC 6749 §10.12);
- ``iss``: in single-tenant mode the callback's ``iss`` must be ISSUER, so a
  code from another tenant or server is never redeemed here (RFC 9207,
  mix-up attacks). In multi-tenant mode ``iss`` is what picks the token
  endpoint the client secret and the code are sent to, and anyone can put
  any ``iss`` in a link to the callback; so it must be a tenant of the
  platform (``platform_issuer``): https (http only for ``*.localhost``, in
  development), the region host's scheme and port, and a host under the
  region host's parent domain (the platform's domain). Anything else is
  refused before the app sends a single request to it. The tenant's
  discovery document must then name ``iss`` as its issuer, and its token and
  revocation endpoints must be on the issuer's own origin;
- PKCE S256: the code is useless without the verifier kept in the session
  (RFC 7636).

It never follows HTTP redirects when it talks to the server: urllib would
repeat the ``Authorization`` header (the client secret, a bearer token) to
wherever a redirect points.
"""

import base64
import hashlib
import html
import http.client
import ipaddress
import json
import os
import re
import secrets
import socket
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COOKIE = "example_session"
TIMEOUT = 10


class Settings:
    def __init__(self, environ):
        issuer = (environ.get("ISSUER") or "").rstrip("/")
        region_authorize_url = environ.get("REGION_AUTHORIZE_URL") or ""
        if issuer and region_authorize_url:
            raise SystemExit("Set ISSUER or REGION_AUTHORIZE_URL, not both (see app.py).")
        missing = [] if issuer or region_authorize_url else ["ISSUER (or REGION_AUTHORIZE_URL)"]
        missing += [] if environ.get("CLIENT_ID") else ["CLIENT_ID"]
        if missing:
            raise SystemExit(f"Set {' and '.join(missing)} in the environment (see app.py).")
        # Single-tenant mode: the one issuer. Multi-tenant mode: None, and each
        # sign-in learns its issuer from the callback's ``iss``.
        self.issuer = issuer or None
        self.region_authorize_url = region_authorize_url or None
        if self.region_authorize_url:
            self.platform = Platform.from_region_authorize_url(self.region_authorize_url)
        self.client_id = environ["CLIENT_ID"]
        self.client_secret = environ.get("CLIENT_SECRET") or None
        self.redirect_uri = environ.get("REDIRECT_URI") or "http://localhost:8080/callback"
        self.scope = environ.get("SCOPE") or "user_default"
        self.listen_host = environ.get("LISTEN_HOST") or "127.0.0.1"
        redirect = urllib.parse.urlsplit(self.redirect_uri)
        if redirect.scheme != "http" or not redirect.port:
            raise SystemExit("REDIRECT_URI must be http://host:port/path (this app serves it).")
        self.port = redirect.port
        self.callback_path = redirect.path or "/"
        self.origin = f"{redirect.scheme}://{redirect.netloc}"

    @property
    def multi_tenant(self) -> bool:
        return self.region_authorize_url is not None


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Platform:
    """Which issuers are tenants of the platform, judged from the region host alone.

    The platform names a region ``{region}.{domain}`` and a tenant
    ``{tenant}.{region}.{domain}``, all served with one scheme and port. So a
    tenant's issuer is a host under the region host's parent domain, with the
    region host's scheme and port.
    """

    def __init__(self, scheme: str, domain: str, port: int):
        self.scheme, self.domain, self.port = scheme, domain, port

    @classmethod
    def from_region_authorize_url(cls, url: str) -> "Platform":
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            port = None
        allowed = parts.scheme == "https" or (parts.scheme == "http" and _is_localhost(host))
        if not allowed or not port or parts.username or parts.query or parts.fragment:
            raise SystemExit(
                "REGION_AUTHORIZE_URL must be an https URL (http only for *.localhost) "
                "without a query, e.g. https://eu.example.com/oauth/authorize."
            )
        _region, dot, domain = host.partition(".")
        if not dot or not domain or _is_ip_address(host):
            raise SystemExit("REGION_AUTHORIZE_URL's host must be a region's, e.g. eu.localhost.")
        return cls(parts.scheme, domain, port)

    def issuer(self, iss) -> str | None:
        """``iss`` if it is a tenant's issuer on this platform, else None.

        This decides where the client secret and the code go. Without it,
        anyone could send a user to our callback with a real code and an
        ``iss`` of their own server, and read our secret from the token request.
        """
        if not isinstance(iss, str) or not iss.isascii():
            return None
        parts = urllib.parse.urlsplit(iss)
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return None
        host = parts.hostname or ""
        if parts.scheme != self.scheme or port != self.port:
            return None
        if parts.netloc != (host if parts.port is None else f"{host}:{parts.port}"):
            return None  # user info, upper case, an empty port: not how the platform writes it
        if parts.path or parts.query or parts.fragment or iss.endswith(("?", "#")):
            return None  # the platform's issuers are bare origins
        if not host.endswith("." + self.domain):
            return None
        labels = host[: -len(self.domain) - 1].split(".")
        if not all(_DNS_LABEL.fullmatch(label) for label in labels):
            return None
        return iss


# --- HTTP client -------------------------------------------------------------------


class _LoopbackNamesConnection(http.client.HTTPConnection):
    """Connects to 127.0.0.1 for ``*.localhost`` names; the Host header keeps the name.

    Browsers send every ``*.localhost`` name to the loopback address (RFC 6761
    §6.3), but not every system resolver does, and the demo tenants live at
    names such as acme.eu.localhost. Other names are resolved as usual.
    """

    def connect(self):
        host = self.host
        if host == "localhost" or host.rstrip(".").endswith(".localhost"):
            host = "127.0.0.1"
        self.sock = socket.create_connection((host, self.port), self.timeout, self.source_address)


class _LoopbackNamesHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_LoopbackNamesConnection, req)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect comes back as its 3xx answer instead of being followed.

    urllib would send the request's headers, ``Authorization`` included, on
    to wherever the ``Location`` points, and the OAuth endpoints never redirect.
    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_LoopbackNamesHandler, _NoRedirects)


def http_json(url, *, data=None, headers=None):
    """``(status, parsed JSON or text)`` of a GET, or a form POST when ``data`` is given."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise OAuthFailure(f"Not an http(s) URL: {url!r}")
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    # The scheme is checked above (no file: or ftp: URLs from a discovery document).
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Accept": "application/json"}
    )
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


# --- OAuth -------------------------------------------------------------------------


class OAuthClient:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._metadata: dict[str, dict] = {}  # by issuer
        self._lock = threading.Lock()

    def metadata(self, issuer: str) -> dict:
        """The issuer's discovery document, fetched once and checked (RFC 8414 §3.3).

        In multi-tenant mode ``issuer`` has passed ``Platform.issuer`` first.
        """
        with self._lock:
            if issuer not in self._metadata:
                url = f"{issuer}/.well-known/openid-configuration"
                status, document = http_json(url)
                if status != 200 or not isinstance(document, dict):
                    raise OAuthFailure(f"Discovery at {url} answered {status}.")
                if document.get("issuer") != issuer:
                    raise OAuthFailure(
                        f"Discovery names the issuer {document.get('issuer')!r}, not {issuer!r}."
                    )
                if "S256" not in document.get("code_challenge_methods_supported", []):
                    raise OAuthFailure("The server does not support PKCE S256.")
                if self.settings.multi_tenant:
                    # The secret goes to these: they must be the tenant's own.
                    for name in ("token_endpoint", "revocation_endpoint"):
                        endpoint = document.get(name)
                        if name == "token_endpoint" or endpoint is not None:
                            _check_same_origin(issuer, name, endpoint)
                self._metadata[issuer] = document
            return self._metadata[issuer]

    def authorization_url(self, state: str, code_verifier: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": self.settings.scope,
            "state": state,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        if self.settings.multi_tenant:
            # The region host asks for the tenant and passes this query on to it.
            endpoint = self.settings.region_authorize_url
        else:
            endpoint = self.metadata(self.settings.issuer)["authorization_endpoint"]
        return f"{endpoint}?{urllib.parse.urlencode(params)}"

    def _client_auth(self, data: dict) -> dict:
        """client_secret_basic for a Web client; client_id in the body for a public one."""
        if self.settings.client_secret is None:
            data["client_id"] = self.settings.client_id
            return {}
        # RFC 6749 §2.3.1: both parts form-encoded before Base64.
        pair = ":".join(
            urllib.parse.quote_plus(part)
            for part in (self.settings.client_id, self.settings.client_secret)
        )
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def redeem(self, issuer: str, code: str, code_verifier: str) -> dict:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "code_verifier": code_verifier,
        }
        endpoint = self.metadata(issuer)["token_endpoint"]
        headers = self._client_auth(data)
        status, token = http_json(endpoint, data=data, headers=headers)
        if status != 200 or not isinstance(token, dict) or "access_token" not in token:
            raise OAuthFailure(f"The token endpoint answered {status}: {token}")
        return token

    def revoke(self, issuer: str, token: str, hint: str) -> None:
        endpoint = self.metadata(issuer).get("revocation_endpoint")
        if endpoint:
            data = {"token": token, "token_type_hint": hint}
            http_json(endpoint, data=data, headers=self._client_auth(data))

    def users_me(self, issuer: str, access_token: str):
        return http_json(
            f"{issuer}/api/v1/users/me",
            headers={"Authorization": f"Bearer {access_token}"},
        )


def _check_same_origin(issuer: str, name: str, endpoint) -> None:
    if not isinstance(endpoint, str):
        raise OAuthFailure(f"Discovery at {issuer} names no {name}.")
    parts = urllib.parse.urlsplit(endpoint)
    if f"{parts.scheme}://{parts.netloc}" != issuer:
        raise OAuthFailure(f"Discovery at {issuer} names a {name} elsewhere: {endpoint!r}.")


class OAuthFailure(Exception):
    pass


# --- The web application ----------------------------------------------------------

# Server-side sessions, in memory: {session id: {"pending": {state: verifier}, "token": {...}}}.
SESSIONS: dict[str, dict] = {}
SESSIONS_LOCK = threading.Lock()

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}}
pre{{background:#f4f4f4;padding:1rem;overflow:auto}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def make_handler(settings: Settings, oauth: OAuthClient):
    class Handler(BaseHTTPRequestHandler):
        server_version = "ExampleOAuthClient/1.0"

        def do_GET(self):  # noqa: N802 - http.server's name
            url = urllib.parse.urlsplit(self.path)
            if self.headers.get("Host") != urllib.parse.urlsplit(settings.origin).netloc:
                # Cookies are per host name: stay on the redirect URI's origin.
                return self.redirect(settings.origin + self.path)
            routes = {"/": self.home, "/login": self.login}
            if url.path == settings.callback_path:
                return self.callback(urllib.parse.parse_qs(url.query))
            route = routes.get(url.path)
            if route is None:
                return self.page(404, "Not found", "<p>There is nothing here.</p>")
            try:
                return route()
            except OAuthFailure as failure:
                return self.page(502, "Sign-in failed", f"<p>{html.escape(str(failure))}</p>")

        def do_POST(self):  # noqa: N802 - http.server's name
            # Sign-out is a POST: the SameSite=Lax cookie keeps other sites from sending it.
            if urllib.parse.urlsplit(self.path).path == "/logout":
                return self.logout()
            return self.page(405, "Method not allowed", "<p>Use GET.</p>")

        # --- Pages ---
        def home(self):
            session = self.session(create=False)
            token = session.get("token") if session else None
            if not token:
                if settings.multi_tenant:
                    where = (
                        "Multi-tenant: you choose your tenant at "
                        f"<code>{html.escape(settings.region_authorize_url)}</code>"
                    )
                else:
                    where = f"Issuer: <code>{html.escape(settings.issuer)}</code>"
                return self.page(
                    200,
                    "Example OAuth client",
                    f'<p>Not signed in. {where}</p><p><a href="/login">Sign in</a></p>',
                )
            issuer = session["issuer"]
            status, me = oauth.users_me(issuer, token["access_token"])
            shown = json.dumps(me, indent=2, sort_keys=True) if status == 200 else f"{status} {me}"
            return self.page(
                200,
                "Signed in",
                f'<p>Issuer: <code id="issuer">{html.escape(issuer)}</code></p>'
                "<p>GET /api/v1/users/me answered:</p>"
                f'<pre id="users-me">{html.escape(shown)}</pre>'
                '<form method="post" action="/logout"><button>Sign out</button></form>',
            )

        def login(self):
            state = secrets.token_urlsafe(32)
            verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9-_]
            url = oauth.authorization_url(state, verifier)
            session_id, session = self.session(create=True)
            with SESSIONS_LOCK:
                session.setdefault("pending", {})[state] = verifier
            return self.redirect(url, session_id)

        def callback(self, query: dict):
            params = {key: values[0] for key, values in query.items()}
            session = self.session(create=False)
            pending = session.get("pending", {}) if session else {}
            with SESSIONS_LOCK:
                verifier = pending.pop(params.get("state", ""), None)
            if verifier is None:
                return self.page(400, "Sign-in failed", "<p>Unknown or reused state.</p>")
            if settings.multi_tenant:
                # Checked before anything is sent anywhere: see Platform.issuer.
                issuer = settings.platform.issuer(params.get("iss"))
                if issuer is None:
                    return self.page(
                        400,
                        "Sign-in failed",
                        "<p>The response does not come from a tenant of the platform.</p>",
                    )
            elif params.get("iss") == settings.issuer:
                issuer = settings.issuer
            else:
                return self.page(
                    400, "Sign-in failed", "<p>The response does not come from our issuer.</p>"
                )
            if "error" in params:
                detail = params.get("error_description") or ""
                return self.page(
                    400,
                    "Sign-in failed",
                    f'<p><code id="error">{html.escape(params["error"])}</code></p>'
                    f'<p id="error-description">{html.escape(detail)}</p>',
                )
            try:
                token = oauth.redeem(issuer, params.get("code", ""), verifier)
            except OAuthFailure as failure:
                return self.page(502, "Sign-in failed", f"<p>{html.escape(str(failure))}</p>")
            with SESSIONS_LOCK:
                session["token"] = token
                session["issuer"] = issuer
            return self.redirect("/")

        def logout(self):
            session = self.session(create=False)
            with SESSIONS_LOCK:
                token = session.pop("token", None) if session else None
                issuer = session.pop("issuer", None) if session else None
            if token and issuer:
                try:
                    if token.get("refresh_token"):
                        oauth.revoke(issuer, token["refresh_token"], "refresh_token")
                    oauth.revoke(issuer, token["access_token"], "access_token")
                except OAuthFailure as failure:
                    sys.stderr.write(f"example-app: revocation failed: {failure}\n")
            return self.redirect("/")

        # --- Plumbing ---
        def session(self, *, create: bool):
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            session_id = cookie[COOKIE].value if COOKIE in cookie else None
            with SESSIONS_LOCK:
                session = SESSIONS.get(session_id) if session_id else None
                if not create:
                    return session
                if session is None:
                    session_id = secrets.token_urlsafe(32)
                    session = SESSIONS[session_id] = {}
            return session_id, session

        def redirect(self, location: str, session_id: str | None = None):
            self.send_response(302)
            self.send_header("Location", location)
            if session_id:
                self.send_header(
                    "Set-Cookie", f"{COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax"
                )
            self.send_header("Content-Length", "0")
            self.end_headers()

        def page(self, status: int, title: str, body: str):
            content = PAGE.format(title=html.escape(title), body=body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format, *args):  # noqa: A002 - http.server's signature
            sys.stderr.write(f"example-app: {format % args}\n")

    return Handler


def main() -> None:
    settings = Settings(os.environ)
    server = ThreadingHTTPServer(
        (settings.listen_host, settings.port), make_handler(settings, OAuthClient(settings))
    )
    where = settings.region_authorize_url if settings.multi_tenant else f"issuer {settings.issuer}"
    print(f"Example OAuth client on {settings.origin}/ ({where})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
