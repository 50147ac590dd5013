"""Benchmark data: tenants, users, OAuth clients and stored tokens, in bulk.

    DATABASE_URL=postgres://... .venv/bin/python bench/seed.py [--scale 1] [--out FILE]

At ``--scale 1``: 1,000 tenants, 20,000 clients (each with its connection
config and one secret), 200,000 stored access tokens, 5 users per tenant.
``--scale 10`` is ten times that (fractions such as 0.02 give a small data
set for trying the suite out). Everything is named deterministically, so a
second run creates nothing and a larger scale only adds what is missing.
All of it is written in one transaction.

The layout the benchmark relies on:

- tenant 0 (``bench00000``) is the console tenant: 200 clients, admin user 0;
- tenants 1-10 each own 10 *load clients*: Web, machine-to-machine (service
  user, admin membership), trusted consent, redirect URL ``REDIRECT_URI``;
  the token load is spread over these 100 clients;
- the other clients are spread evenly over the remaining tenants.

The load clients' secrets are replaced by fresh ones on every run and
written with the rest of the layout to ``--out`` (JSON, mode 600): secrets
are stored only as digests, so this is the one place their plaintext exists.
"""

import argparse
import hashlib
import json
import os
import secrets
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from oauth_clients.models import (  # noqa: E402
    AccessToken,
    ClientSecret,
    ConnectionConfig,
    OAuthClient,
    generate_client_id,
    secret_digest,
)
from tenants.hosts import tenant_hostname  # noqa: E402
from tenants.models import Membership, Region, Tenant, User  # noqa: E402

BASE_TENANTS = 1_000
BASE_CLIENTS = 20_000
BASE_TOKENS = 200_000
USERS_PER_TENANT = 5  # user 0 is the tenant admin, the others are members
CONSOLE_CLIENTS = 200
LOAD_TENANTS = 10
LOAD_CLIENTS_PER_TENANT = 10
REGIONS = [("eu", "Europe"), ("us", "United States"), ("ap", "Asia Pacific")]
REDIRECT_URI = "https://bench.example.com/callback"
LOAD_SCOPES = "user_default openid profile email offline_access"
SEED_JTI_PREFIX = "seed-"  # tokens the benchmark issues have other jtis (see run cleanup)
UNUSABLE_PASSWORD = "!bench-no-password"  # noqa: S105 - unusable by construction ("!")
BATCH = 5_000


def tenant_slug(index: int) -> str:
    return f"bench{index:05d}"


def user_email(slug: str, index: int) -> str:
    return f"user{index}@{slug}.bench.test"


class Layout:
    """How many of everything a scale means, and where each client belongs."""

    def __init__(self, scale: float):
        self.scale = scale
        self.tenants = max(round(BASE_TENANTS * scale), LOAD_TENANTS + 2)
        self.clients = max(
            round(BASE_CLIENTS * scale),
            CONSOLE_CLIENTS + LOAD_TENANTS * LOAD_CLIENTS_PER_TENANT + self.tenants,
        )
        self.tokens = round(BASE_TOKENS * scale)

    def clients_of(self, tenant_index: int) -> int:
        if tenant_index == 0:
            return CONSOLE_CLIENTS
        rest = self.clients - CONSOLE_CLIENTS
        others = self.tenants - 1
        count = rest // others + (1 if tenant_index <= rest % others else 0)
        if tenant_index <= LOAD_TENANTS:
            count = max(count, LOAD_CLIENTS_PER_TENANT)
        return count

    @staticmethod
    def is_load_client(tenant_index: int, client_index: int) -> bool:
        return 1 <= tenant_index <= LOAD_TENANTS and client_index < LOAD_CLIENTS_PER_TENANT


def log(message: str) -> None:
    print(f"seed: {message}", flush=True)


CREATED = {"rows": 0}


def bulk(model, rows: list, label: str) -> list:
    CREATED["rows"] += len(rows)
    created = []
    for start in range(0, len(rows), BATCH):
        created.extend(model.objects.bulk_create(rows[start : start + BATCH]))
    if rows:
        log(f"{len(rows):>9,} {label}")
    return created


def seed(layout: Layout, create: bool = True) -> dict:
    if not create:
        return existing_layout(layout)
    now = timezone.now()
    regions = {}
    for code, name in REGIONS:
        regions[code], _ = Region.objects.get_or_create(code=code, defaults={"name": name})

    # Tenants.
    slugs = [tenant_slug(i) for i in range(layout.tenants)]
    existing = set(
        Tenant.objects.filter(slug__startswith="bench").values_list("slug", "region__code")
    )
    wanted = [(i, slug, REGIONS[i % len(REGIONS)][0]) for i, slug in enumerate(slugs)]
    bulk(
        Tenant,
        [
            Tenant(slug=slug, name=f"Bench tenant {i}", region=regions[region])
            for i, slug, region in wanted
            if (slug, region) not in existing
        ],
        "tenants",
    )
    tenants = {
        slug: (pk, region)
        for pk, slug, region in Tenant.objects.filter(slug__startswith="bench").values_list(
            "pk", "slug", "region__code"
        )
    }
    tenant_ids = [tenants[slug][0] for slug in slugs]

    # Users and their memberships (user 0 of each tenant is its admin).
    existing_users = dict(
        User.objects.filter(email__endswith=".bench.test").values_list("email", "pk")
    )
    bulk(
        User,
        [
            User(email=user_email(slug, j), name=f"User {j} of {slug}", password=UNUSABLE_PASSWORD)
            for slug in slugs
            for j in range(USERS_PER_TENANT)
            if user_email(slug, j) not in existing_users
        ],
        "users",
    )
    users = dict(User.objects.filter(email__endswith=".bench.test").values_list("email", "pk"))
    members = set(
        Membership.objects.filter(tenant_id__in=tenant_ids).values_list("tenant_id", "user_id")
    )
    bulk(
        Membership,
        [
            Membership(
                tenant_id=tenant_ids[i],
                user_id=users[user_email(slug, j)],
                role=Membership.Role.ADMIN if j == 0 else Membership.Role.MEMBER,
            )
            for i, slug in enumerate(slugs)
            for j in range(USERS_PER_TENANT)
            if (tenant_ids[i], users[user_email(slug, j)]) not in members
        ],
        "memberships",
    )

    # Clients: "App 000" ... per tenant. Load clients get a service user first.
    existing_clients = set(
        OAuthClient.objects.filter(tenant_id__in=tenant_ids).values_list("tenant_id", "name")
    )
    new_clients: list[OAuthClient] = []
    service_users: list[User] = []
    for i, slug in enumerate(slugs):
        for k in range(layout.clients_of(i)):
            name = f"App {k:03d}"
            if (tenant_ids[i], name) in existing_clients:
                continue
            load = layout.is_load_client(i, k)
            client = OAuthClient(
                tenant_id=tenant_ids[i],
                client_id=generate_client_id(),
                name=name,
                description=f"Benchmark client {k} of {slug}",
                app_type=OAuthClient.AppType.WEB,
                client_type=OAuthClient.CLIENT_CONFIDENTIAL,
                authorization_grant_type=OAuthClient.GRANT_AUTHORIZATION_CODE,
                algorithm=OAuthClient.RS256_ALGORITHM,
                hash_client_secret=False,
                client_secret="",
                redirect_uris=REDIRECT_URI if load else f"https://app{k}.{slug}.example.com/cb",
                allowed_scopes=LOAD_SCOPES if load else "user_default offline_access",
                machine_to_machine=load,
                created_by_id=users[user_email(slug, 0)],
                updated_by_id=users[user_email(slug, 0)],
            )
            if load:
                hostname = tenant_hostname(slug, tenants[slug][1])
                service_users.append(
                    User(
                        email=f"{client.client_id}@clients.{hostname}",
                        name=name,
                        is_service=True,
                        password=UNUSABLE_PASSWORD,
                    )
                )
                client._service_email = service_users[-1].email
            new_clients.append(client)
    bulk(User, service_users, "service users")
    if service_users:
        service_ids = dict(
            User.objects.filter(email__in=[u.email for u in service_users]).values_list(
                "email", "pk"
            )
        )
        for client in new_clients:
            if hasattr(client, "_service_email"):
                client.service_user_id = service_ids[client._service_email]
    bulk(OAuthClient, new_clients, "clients")
    if new_clients:
        ids = dict(
            OAuthClient.objects.filter(
                client_id__in=[c.client_id for c in new_clients]
            ).values_list("client_id", "pk")
        )
        configs, stored_secrets, service_members = [], [], []
        for client in new_clients:
            client.pk = ids[client.client_id]
            load = bool(client.service_user_id)
            configs.append(
                ConnectionConfig(
                    client_id=client.pk,
                    tenant_id=client.tenant_id,
                    consent_method=(
                        ConnectionConfig.ConsentMethod.TRUSTED
                        if load or client.pk % 2
                        else ConnectionConfig.ConsentMethod.REQUIRED
                    ),
                    approved_by_id=client.created_by_id,
                    approved_at=now,
                )
            )
            plaintext = secrets.token_hex(36)
            stored_secrets.append(
                ClientSecret(
                    client_id=client.pk,
                    tenant_id=client.tenant_id,
                    digest=secret_digest(plaintext),
                    hint=plaintext[-5:],
                    created_at=now,
                )
            )
            if load:
                service_members.append(
                    Membership(
                        tenant_id=client.tenant_id,
                        user_id=client.service_user_id,
                        role=Membership.Role.ADMIN,
                    )
                )
        bulk(ConnectionConfig, configs, "connection configs")
        bulk(ClientSecret, stored_secrets, "client secrets")
        bulk(Membership, service_members, "service memberships")

    # Stored access tokens, spread round-robin over every client.
    have = AccessToken.objects.filter(jti__startswith=SEED_JTI_PREFIX).count()
    missing = layout.tokens - have
    if missing > 0:
        clients = list(
            OAuthClient.objects.filter(tenant_id__in=tenant_ids)
            .order_by("pk")
            .values_list("pk", "tenant_id")
        )
        slug_of = {pk: slug for slug, (pk, _region) in tenants.items()}
        table = AccessToken._meta.db_table
        columns = (
            "tenant_id, application_id, user_id, token, token_checksum, jti, expires, scope, "
            "resource, created, updated"
        )
        # COPY: several times faster than bulk_create for the largest table.
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {table} ({columns}) FROM STDIN"  # noqa: S608 - names from the model
            ) as copy,
        ):
            for n in range(missing):
                client_pk, tenant_pk = clients[(have + n) % len(clients)]
                raw = secrets.token_urlsafe(32)
                copy.write_row(
                    (
                        tenant_pk,
                        client_pk,
                        users[user_email(slug_of[tenant_pk], (have + n) % USERS_PER_TENANT)],
                        "",
                        hashlib.sha256(raw.encode()).hexdigest(),
                        SEED_JTI_PREFIX + secrets.token_urlsafe(18),
                        now + timedelta(seconds=60 + (have + n) % (30 * 86400)),
                        "user_default",
                        "[]",
                        now,
                        now,
                    )
                )
        created = missing
        CREATED["rows"] += missing
        log(f"{created:>9,} access tokens")

    return load_layout(layout, slugs, tenants, users)


def existing_layout(layout: Layout) -> dict:
    slugs = [tenant_slug(i) for i in range(layout.tenants)]
    tenants = {
        slug: (pk, region)
        for pk, slug, region in Tenant.objects.filter(slug__in=slugs).values_list(
            "pk", "slug", "region__code"
        )
    }
    users = dict(User.objects.filter(email__endswith=".bench.test").values_list("email", "pk"))
    return load_layout(layout, slugs, tenants, users)


def load_layout(layout: Layout, slugs, tenants, users) -> dict:
    """Fresh secrets for the 100 load clients, and what the benchmark needs to know."""
    load = list(
        OAuthClient.objects.filter(
            tenant__slug__in=slugs[1 : LOAD_TENANTS + 1],
            machine_to_machine=True,
            deleted_at__isnull=True,
        )
        .select_related("tenant__region")
        .order_by("tenant__slug", "name")
    )
    ClientSecret.objects.filter(client__in=load)._raw_delete(ClientSecret.objects.db)
    now = timezone.now()
    plaintexts = {client.pk: secrets.token_hex(36) for client in load}
    ClientSecret.objects.bulk_create(
        [
            ClientSecret(
                client=client,
                tenant=client.tenant,
                digest=secret_digest(plaintexts[client.pk]),
                hint=plaintexts[client.pk][-5:],
                created_at=now,
            )
            for client in load
        ]
    )
    console_slug = slugs[0]
    return {
        "scale": layout.scale,
        "counts": {
            "tenants": layout.tenants,
            "clients": layout.clients,
            "tokens": layout.tokens,
        },
        "redirect_uri": REDIRECT_URI,
        "console": {
            "tenant": console_slug,
            "host": tenant_hostname(console_slug, tenants[console_slug][1]),
            "tenant_id": tenants[console_slug][0],
            "admin_id": users[user_email(console_slug, 0)],
            "clients": CONSOLE_CLIENTS,
        },
        "load_clients": [
            {
                "pk": client.pk,
                "client_id": client.client_id,
                "secret": plaintexts[client.pk],
                "tenant": client.tenant.slug,
                "tenant_id": client.tenant_id,
                "host": client.tenant.hostname,
                # A member (not admin) of the tenant signs in for authorize and codes.
                "user_id": users[user_email(client.tenant.slug, 1)],
                "service_user_id": client.service_user_id,
            }
            for client in load
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--layout-only",
        action="store_true",
        help="create nothing; only renew the load clients' secrets and write the layout",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "layout.json")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("seed: DATABASE_URL must point at PostgreSQL.", file=sys.stderr)
        return 2
    started = time.monotonic()
    layout = Layout(args.scale)
    log(
        f"scale {args.scale:g}: {layout.tenants:,} tenants, {layout.clients:,} clients, "
        f"{layout.tokens:,} stored tokens"
    )
    with transaction.atomic():
        info = seed(layout, create=not args.layout_only)
    if len(info["load_clients"]) != LOAD_TENANTS * LOAD_CLIENTS_PER_TENANT:
        print(
            f"seed: expected 100 load clients, found {len(info['load_clients'])}", file=sys.stderr
        )
        return 1
    if CREATED["rows"]:
        # Planner statistics for the new rows, as autovacuum would gather them later.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.touch(mode=0o600, exist_ok=True)
    args.out.write_text(json.dumps(info, indent=1))
    log(f"done in {time.monotonic() - started:.1f} s; layout in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
