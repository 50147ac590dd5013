"""Data and inputs for the stock django-oauth-toolkit reference (``refsite``).

    REFERENCE_DATABASE_URL=postgres://... python bench/reference/refbench.py seed --scale 1
    ... refbench.py inputs --out FILE        # a session, bearer tokens, the load applications
    ... refbench.py codes N --out FILE       # N authorization codes (PKCE S256), each usable once

Seeded like the product at the same scale: 20,000 applications and 200,000
stored access tokens at ``--scale 1`` (idempotent: what exists is kept), so
the indexes the lookups use are as large on both sides. The load is spread
over 100 client-credentials applications and 100 authorization-code
applications (``skip_authorization``), with plaintext secrets.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refsite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import AccessToken, Application, Grant  # noqa: E402

BASE_APPLICATIONS = 20_000
BASE_TOKENS = 200_000
USERS = 5_000
LOAD_APPLICATIONS = 100
REDIRECT_URI = "https://bench.example.com/callback"
SECRET = "reference-secret-"  # + index: plaintext, as the reference stores it
BATCH = 5_000
BACKEND = "django.contrib.auth.backends.ModelBackend"


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def application(index: int, grant_type: str, **extra) -> Application:
    return Application(
        client_id=f"ref-{grant_type[:4]}-{index:06d}",
        client_secret=f"{SECRET}{index}",
        hash_client_secret=False,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=grant_type,
        redirect_uris=REDIRECT_URI,
        name=f"Reference {index}",
        **extra,
    )


def seed(scale: float) -> None:
    """Users, applications and tokens up to the scale's numbers (nothing twice)."""
    want_apps = int(BASE_APPLICATIONS * scale)
    want_tokens = int(BASE_TOKENS * scale)
    with transaction.atomic():
        have = User.objects.count()
        User.objects.bulk_create(
            [User(username=f"ref{i}", password="!unusable") for i in range(have, USERS)],  # noqa: S106
            batch_size=BATCH,
        )
        have = Application.objects.count()
        rows = []
        for i in range(have, want_apps):
            if i < LOAD_APPLICATIONS:
                rows.append(application(i, Application.GRANT_CLIENT_CREDENTIALS))
            else:
                rows.append(
                    application(i, Application.GRANT_AUTHORIZATION_CODE, skip_authorization=True)
                )
        Application.objects.bulk_create(rows, batch_size=BATCH)
        have = AccessToken.objects.count()
        user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
        app_ids = list(Application.objects.order_by("pk").values_list("pk", flat=True))
        expires = timezone.now() + timedelta(days=365)
        for start in range(have, want_tokens, BATCH):
            batch = []
            for i in range(start, min(start + BATCH, want_tokens)):
                token = f"seed-{i:08d}-{secrets.token_hex(8)}"
                batch.append(
                    AccessToken(
                        user_id=user_ids[i % len(user_ids)],
                        application_id=app_ids[i % len(app_ids)],
                        token=token,
                        token_checksum=checksum(token),
                        expires=expires,
                        scope="read",
                    )
                )
            AccessToken.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def load_applications(grant_type: str) -> list[dict]:
    apps = Application.objects.filter(authorization_grant_type=grant_type).order_by("pk")
    return [
        {"client_id": app.client_id, "client_secret": app.client_secret, "pk": app.pk}
        for app in apps[:LOAD_APPLICATIONS]
    ]


def inputs() -> dict:
    """A signed-in session for the load user, one bearer token per load application."""
    user = User.objects.get(username="ref0")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    code_apps = load_applications(Application.GRANT_AUTHORIZATION_CODE)
    expires = timezone.now() + timedelta(days=1)
    tokens = {}
    for app in code_apps:
        token = secrets.token_urlsafe(30)
        AccessToken.objects.create(
            user=user,
            application_id=app["pk"],
            token=token,
            token_checksum=checksum(token),
            expires=expires,
            scope="read introspection",
        )
        tokens[app["client_id"]] = token
    return {
        "session": session.session_key,
        "user_id": user.pk,
        "redirect_uri": REDIRECT_URI,
        "client_credentials_apps": load_applications(Application.GRANT_CLIENT_CREDENTIALS),
        "code_apps": code_apps,
        "tokens": tokens,
    }


def codes(count: int) -> list[dict]:
    """``count`` authorization codes with PKCE S256, as DOT's authorize view stores them."""
    user = User.objects.get(username="ref0")
    apps = load_applications(Application.GRANT_AUTHORIZATION_CODE)
    expires = timezone.now() + timedelta(seconds=60)
    out, rows = [], []
    for i in range(count):
        app = apps[i % len(apps)]
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        code = secrets.token_urlsafe(30)
        rows.append(
            Grant(
                user=user,
                code=code,
                application_id=app["pk"],
                expires=expires,
                redirect_uri=REDIRECT_URI,
                scope="read",
                code_challenge=challenge.rstrip(b"=").decode(),
                code_challenge_method="S256",
            )
        )
        out.append({**app, "code": code, "verifier": verifier})
    Grant.objects.bulk_create(rows, batch_size=BATCH)
    return out


def cleanup() -> None:
    """What a run issued (seeded tokens stay)."""
    Grant.objects.all().delete()
    AccessToken.objects.exclude(token__startswith="seed-").delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("seed").add_argument("--scale", type=float, default=1.0)
    sub.add_parser("inputs").add_argument("--out", required=True)
    codes_parser = sub.add_parser("codes")
    codes_parser.add_argument("count", type=int)
    codes_parser.add_argument("--out", required=True)
    sub.add_parser("cleanup")
    args = parser.parse_args()
    if args.command == "seed":
        seed(args.scale)
    elif args.command == "inputs":
        Path(args.out).write_text(json.dumps(inputs()))
    elif args.command == "codes":
        Path(args.out).write_text(json.dumps(codes(args.count)))
    else:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
