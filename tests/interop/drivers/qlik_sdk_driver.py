"""Drives Qlik's Python SDK (``qlik-sdk``) for tests/interop/test_qlik_sdk.py.

Runs in its own virtual environment (``.venv-qlik-sdk``, made by ``make
test`` from ``qlik_sdk_requirements.txt``): qlik-sdk pins requests and PyJWT
to versions older than the server's. It uses the SDK as an application
would, against the live server, and reports what it saw; the test asserts.

Protocol, one JSON object per line:

- stdin, first line: ``{"scenario": ..., "host": ..., "client_id": ..., ...}``;
- stdout ``{"sign_in": <authorization URL>}`` when the user must sign in;
  the test answers on stdin with ``{"callback": <the URL the browser was
  sent back to>}``;
- stdout, last line: ``{"result": {...}}``, or ``{"error": ...}`` (and exit
  status 1). Either carries ``exchanges``: the SDK's requests to
  ``/oauth/*`` as sent, seen through its own response interceptors.
"""

import json
import socket
import sys
import traceback

from qlik_sdk import AuthType, Config, Qlik

# The SDK's exchanges with /oauth/token and /oauth/revoke, as the server got them.
exchanges: list[dict] = []


def resolve_localhost_names() -> None:
    """Resolve ``*.localhost`` to 127.0.0.1 (RFC 6761 §6.3); glibc here does not.

    The URL, and so the Host header, keeps the tenant's name.
    """
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii")
        if isinstance(host, str) and host.rstrip(".").lower().endswith(".localhost"):
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def send(message: dict) -> None:
    print(json.dumps(message), flush=True)


def receive() -> dict:
    return json.loads(sys.stdin.readline())


def sign_in(authorization_url: str) -> str:
    """The browser step: the test signs the user in and returns the callback URL."""
    send({"sign_in": authorization_url})
    return receive()["callback"]


def record(response):
    """A response interceptor (the SDK's own hook): keep the request as sent."""
    request = response.request
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    exchanges.append(
        {
            "method": request.method,
            "url": request.url,
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "body": body,
            "status": response.status_code,
            "response": response.text,
        }
    )
    return response


def oauth2(args: dict, **config) -> Qlik:
    qlik = Qlik(Config(host=args["host"], auth_type=AuthType.OAuth2, **config))
    qlik.auth.rest.interceptors["response"].use(record)
    return qlik


def user(me) -> dict:
    return {key: value for key, value in vars(me).items() if key != "auth"}


def sign_in_refresh_and_users_me(args: dict) -> dict:
    """A Web client: sign in, ``users.get_me()``, refresh the token, ``get_me()`` again."""
    qlik = oauth2(
        args,
        client_id=args["client_id"],
        client_secret=args["client_secret"],
        redirect_url=args["redirect_url"],
        scope=args["scope"],
    )
    token = qlik.auth.authorize(sign_in(qlik.auth.generate_authorization_url()))
    result = {
        "token": token,
        "refresh_token_kept": bool(qlik.config.refresh_token),
        "me": user(qlik.users.get_me()),
        "access_token": qlik.config.api_key,
    }
    qlik.auth.refresh_token()
    result["refreshed_access_token"] = qlik.config.api_key
    result["me_after_refresh"] = user(qlik.users.get_me())
    return result


def sign_in_then_deauthorize(args: dict) -> dict:
    """A Web client: sign in, then sign out with ``Auth.deauthorize`` (revokes the token)."""
    qlik = oauth2(
        args,
        client_id=args["client_id"],
        client_secret=args["client_secret"],
        redirect_url=args["redirect_url"],
        scope=args["scope"],
    )
    qlik.auth.authorize(sign_in(qlik.auth.generate_authorization_url()))
    access_token = qlik.config.api_key
    qlik.auth.deauthorize()
    return {"access_token": access_token}


def client_credentials(args: dict) -> dict:
    """A machine-to-machine client: ``Auth.authorize()`` with no callback URL."""
    qlik = oauth2(args, client_id=args["client_id"], client_secret=args["client_secret"])
    token = qlik.auth.authorize()
    return {"token": token, "me": user(qlik.users.get_me())}


def public_client_then_api_key(args: dict) -> dict:
    """A public client (no secret): sign in, then call the API in ``AuthType.APIKey`` mode.

    Without a client secret the SDK's REST client sends no bearer token, so
    an application uses the access token as an API key.
    """
    qlik = oauth2(args, client_id=args["client_id"], redirect_url=args["redirect_url"])
    token = qlik.auth.authorize(sign_in(qlik.auth.generate_authorization_url()))
    api = Qlik(Config(host=args["host"], auth_type=AuthType.APIKey, api_key=token["access_token"]))
    return {"token": token, "me": user(api.users.get_me())}


SCENARIOS = {
    "sign_in_refresh_and_users_me": sign_in_refresh_and_users_me,
    "sign_in_then_deauthorize": sign_in_then_deauthorize,
    "client_credentials": client_credentials,
    "public_client_then_api_key": public_client_then_api_key,
}


def main() -> int:
    resolve_localhost_names()
    args = receive()
    try:
        result = SCENARIOS[args["scenario"]](args)
    except Exception as error:  # noqa: BLE001 - reported to the test, which fails
        traceback.print_exc()
        send({"error": f"{type(error).__name__}: {error}", "exchanges": exchanges})
        return 1
    send({"result": result, "exchanges": exchanges})
    return 0


if __name__ == "__main__":
    sys.exit(main())
