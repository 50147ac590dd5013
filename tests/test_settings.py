"""Start-up configuration errors are clear, and production defaults are safe."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings


def load_settings(**env):
    """Import config.settings in a fresh interpreter with exactly ``env`` set."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "CLIENT_SECRET_DIGEST_KEY",
            "DATABASE_URL",
            "PLATFORM_SCHEME",
            "PLATFORM_DOMAIN",
            "PLATFORM_PORT",
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.PLATFORM_SCHEME, s.DEBUG)"],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
    )


def test_secret_key_is_required_without_debug():
    result = load_settings(CLIENT_SECRET_DIGEST_KEY="x")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_client_secret_digest_key_is_required_without_debug():
    result = load_settings(SECRET_KEY="x")
    assert result.returncode != 0
    assert "CLIENT_SECRET_DIGEST_KEY must be set when DEBUG is off" in result.stderr


def test_development_defaults_apply_only_with_debug():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http", "True"]


def test_production_defaults_to_https():
    result = load_settings(SECRET_KEY="x", CLIENT_SECRET_DIGEST_KEY="y")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https", "False"]


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("DEBUG", "maybe", "DEBUG must be one of"),
        ("PLATFORM_PORT", "eighty", "PLATFORM_PORT must be a whole number"),
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must start with sqlite:/// or postgres://"),
        ("PLATFORM_SCHEME", "ftp", "PLATFORM_SCHEME must be http or https"),
        ("PLATFORM_DOMAIN", "example.com:8000", "PLATFORM_DOMAIN must be a bare domain name"),
    ],
)
def test_bad_values_are_reported_by_name(name, value, message):
    result = load_settings(**{"DEBUG": "1", name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_allowed_hosts_derive_from_the_platform_domain():
    assert ".localhost" in settings.ALLOWED_HOSTS
    assert settings.USE_X_FORWARDED_HOST is False


def test_rfc9700_gates_are_all_on():
    gates = {
        k: v for k, v in settings.OAUTH2_PROVIDER.items() if k.startswith("COMPLIANT_BCP_RFC9700_")
    }
    assert len(gates) == 10
    assert all(gates.values())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("RATE_CLIENT_AUTH_PER_CLIENT", "RATE_CLIENT_AUTH_PER_CLIENT_ADDRESS"),
        ("RATE_SIGN_IN_PER_ACCOUNT", "RATE_SIGN_IN_PER_ACCOUNT_ADDRESS"),
    ],
)
def test_a_renamed_rate_limit_stops_start_up_naming_its_successor(old, new):
    result = load_settings(DEBUG="1", **{old: "5"})
    assert result.returncode != 0
    assert f"{old} is no longer read; set {new}" in result.stderr


def test_a_redis_cache_gets_short_timeouts():
    """A cache host that drops packets must cost milliseconds, not the OS connect timeout."""
    env = {**os.environ, "DEBUG": "1", "CACHE_URL": "redis://10.0.0.1:6379/3"}
    code = "import json, config.settings as s; print(json.dumps(s.CACHES['default']['OPTIONS']))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**env, "CACHE_TIMEOUT_MS": "300"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"socket_connect_timeout": 0.3, "socket_timeout": 0.3}
