"""The signing key files: the commands that make them and the settings that read them."""

import os
import stat
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from oauth_clients.keys import KEY_SIZE, generate_private_key_pem, kid, read_pem, signing_key

BASE_DIR = Path(django_settings.BASE_DIR)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *[str(a) for a in args], stdout=out)
    return out.getvalue()


# --- generate_signing_key ------------------------------------------------------------
def test_generate_creates_an_owner_only_rsa_pem(tmp_path):
    target = tmp_path / "keys" / "signing-key.pem"

    output = run("generate_signing_key", target)

    assert target.exists()
    assert mode_of(target) == 0o600
    pem = target.read_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert read_pem(str(target), "SIGNING_KEY_FILE") == pem
    key = signing_key(pem)
    assert key["kty"] == "RSA"
    assert key.has_private
    loaded = serialization.load_pem_private_key(pem.encode(), password=None)
    assert loaded.key_size == KEY_SIZE >= 2048
    assert str(target) in output


def test_generate_makes_a_different_key_each_time(tmp_path):
    run("generate_signing_key", tmp_path / "one.pem")
    run("generate_signing_key", tmp_path / "two.pem")

    assert (tmp_path / "one.pem").read_text() != (tmp_path / "two.pem").read_text()


def test_generate_refuses_to_overwrite_a_key(tmp_path):
    target = tmp_path / "signing-key.pem"
    run("generate_signing_key", target)
    before = target.read_text()

    with pytest.raises(CommandError, match="never overwritten"):
        run("generate_signing_key", target)

    assert target.read_text() == before


def test_generate_refuses_to_overwrite_any_file(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")

    with pytest.raises(CommandError):
        run("generate_signing_key", target)

    assert target.read_text() == "keep me"


def test_generate_if_missing_leaves_an_existing_key_alone(tmp_path):
    target = tmp_path / "signing-key.pem"
    run("generate_signing_key", target)
    before = target.read_text()

    output = run("generate_signing_key", target, "--if-missing")

    assert output == ""
    assert target.read_text() == before
    assert mode_of(target) == 0o600


def test_generate_if_missing_creates_a_missing_key(tmp_path):
    target = tmp_path / "signing-key.pem"

    run("generate_signing_key", target, "--if-missing")

    assert mode_of(target) == 0o600
    assert read_pem(str(target), "SIGNING_KEY_FILE")


# --- rotate_signing_key ----------------------------------------------------------------
def test_rotate_writes_a_new_key_and_prints_the_two_steps(settings, tmp_path):
    settings.SIGNING_KEY_FILE = "/etc/oauth/current.pem"
    settings.PREVIOUS_SIGNING_KEY_FILES = []
    target = tmp_path / "next.pem"

    output = run("rotate_signing_key", target)

    assert mode_of(target) == 0o600
    new_pem = read_pem(str(target), "new key")
    assert kid(new_pem) in output
    assert kid(new_pem) != kid(django_settings.SIGNING_KEY_PEM)
    step1, step2 = output.split("1. ", 1)[1].split("2. ", 1)
    # 1. Publish the new key while the current one still signs.
    assert f"PREVIOUS_SIGNING_KEY_FILES={target}\n" in step1
    assert "SIGNING_KEY_FILE=" not in step1.replace("PREVIOUS_SIGNING_KEY_FILES", "")
    # 2. Sign with the new key; the old one is still published.
    assert f"SIGNING_KEY_FILE={target}\n" in step2
    assert "PREVIOUS_SIGNING_KEY_FILES=/etc/oauth/current.pem\n" in step2


def test_rotate_keeps_the_keys_already_published(settings, tmp_path):
    settings.SIGNING_KEY_FILE = "/etc/oauth/current.pem"
    settings.PREVIOUS_SIGNING_KEY_FILES = ["/etc/oauth/older.pem"]
    target = tmp_path / "next.pem"

    output = run("rotate_signing_key", target)

    step1, step2 = output.split("1. ", 1)[1].split("2. ", 1)
    assert f"PREVIOUS_SIGNING_KEY_FILES=/etc/oauth/older.pem,{target}\n" in step1
    assert f"SIGNING_KEY_FILE={target}\n" in step2
    assert "PREVIOUS_SIGNING_KEY_FILES=/etc/oauth/older.pem,/etc/oauth/current.pem\n" in step2


def test_rotate_refuses_an_existing_file(tmp_path):
    target = tmp_path / "next.pem"
    target.write_text("something")

    with pytest.raises(CommandError):
        run("rotate_signing_key", target)

    assert target.read_text() == "something"


def test_rotate_never_touches_the_current_key(tmp_path):
    current = Path(django_settings.SIGNING_KEY_FILE).read_text()

    run("rotate_signing_key", tmp_path / "next.pem")

    assert Path(django_settings.SIGNING_KEY_FILE).read_text() == current


# --- settings: start-up errors ------------------------------------------------------------
def import_settings(**env) -> subprocess.CompletedProcess:
    """``import config.settings`` in a fresh interpreter, as a production start would."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SIGNING_KEY_FILE",
            "PREVIOUS_SIGNING_KEY_FILES",
            "DJANGO_SETTINGS_MODULE",
            "PLATFORM_SCHEME",
        }
    }
    base.update(SECRET_KEY="x" * 50, CLIENT_SECRET_DIGEST_KEY="y" * 50)
    base.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(len(s.SIGNING_KEY_PEM))"],
        cwd=BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused(result, *fragments):
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in last_line, last_line


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "signing-key.pem"
    path.write_text(generate_private_key_pem())
    return path


def test_settings_start_with_a_key_file(key_file):
    result = import_settings(SIGNING_KEY_FILE=str(key_file))

    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 1000


def test_settings_without_signing_key_file_refuse_to_start():
    assert_refused(import_settings(), "SIGNING_KEY_FILE", "generate_signing_key")


def test_settings_with_an_empty_signing_key_file_refuse_to_start():
    assert_refused(import_settings(SIGNING_KEY_FILE=""), "SIGNING_KEY_FILE")


def test_settings_with_a_missing_key_file_refuse_to_start(tmp_path):
    missing = tmp_path / "nowhere.pem"

    assert_refused(import_settings(SIGNING_KEY_FILE=str(missing)), "SIGNING_KEY_FILE", str(missing))


def test_settings_with_a_non_pem_file_refuse_to_start(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("this is not a key\n")

    assert_refused(
        import_settings(SIGNING_KEY_FILE=str(junk)),
        "SIGNING_KEY_FILE",
        str(junk),
        "not a PEM private key",
    )


def test_settings_with_a_public_key_refuse_to_start(tmp_path):
    private = serialization.load_pem_private_key(generate_private_key_pem().encode(), None)
    public = tmp_path / "public.pem"
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )

    assert_refused(
        import_settings(SIGNING_KEY_FILE=str(public)), "SIGNING_KEY_FILE", "RSA private key"
    )


def test_settings_with_an_ec_key_refuse_to_start(tmp_path):
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    assert_refused(
        import_settings(SIGNING_KEY_FILE=str(path)), "SIGNING_KEY_FILE", "RSA private key"
    )


def test_settings_with_a_bad_previous_key_refuse_to_start(key_file, tmp_path):
    junk = tmp_path / "old.pem"
    junk.write_text("not a key")

    assert_refused(
        import_settings(SIGNING_KEY_FILE=str(key_file), PREVIOUS_SIGNING_KEY_FILES=str(junk)),
        "PREVIOUS_SIGNING_KEY_FILES",
        str(junk),
    )


def test_settings_read_previous_keys(key_file, tmp_path):
    old = tmp_path / "old.pem"
    old.write_text(generate_private_key_pem())
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import config.settings as s; "
            "print(len(s.PREVIOUS_SIGNING_KEY_PEMS), "
            "s.OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEYS_INACTIVE'] == s.PREVIOUS_SIGNING_KEY_PEMS)",
        ],
        cwd=BASE_DIR,
        env={
            **{k: v for k, v in os.environ.items() if k != "DEBUG"},
            "SECRET_KEY": "x" * 50,
            "CLIENT_SECRET_DIGEST_KEY": "y" * 50,
            "SIGNING_KEY_FILE": str(key_file),
            "PREVIOUS_SIGNING_KEY_FILES": f"{old}, ",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]


def test_in_debug_a_missing_key_only_postpones_the_error(tmp_path):
    # Development: `manage.py generate_signing_key` must be able to start without a key.
    result = import_settings(DEBUG="1", SIGNING_KEY_FILE=str(tmp_path / "later.pem"))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
