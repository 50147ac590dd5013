"""The RSA keys that sign access tokens and ID tokens.

Every worker and every instance must sign and verify with the same keys, so
they come from files named in settings (``SIGNING_KEY_FILE``, and
``PREVIOUS_SIGNING_KEY_FILES`` for keys that are still published in the JWKS
for verification). Rotation publishes a new key before it signs anything:
see ``manage.py rotate_signing_key``.
"""

from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk

KEY_SIZE = 2048


def generate_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode()


def write_private_key(path: Path) -> None:
    """Create a new key file readable only by its owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_text(generate_private_key_pem())


def read_pem(path: str, setting: str) -> str:
    try:
        pem = Path(path).read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"{setting}: cannot read {path} ({error.strerror}).") from None
    try:
        key = jwk.JWK.from_pem(pem.encode())
    except (ValueError, TypeError):
        raise ImproperlyConfigured(f"{setting}: {path} is not a PEM private key.") from None
    if key.get("kty") != "RSA" or not key.has_private:
        raise ImproperlyConfigured(f"{setting}: {path} must hold an RSA private key.")
    return pem


@cache
def _jwk(pem: str) -> jwk.JWK:
    return jwk.JWK.from_pem(pem.encode())


def signing_key(pem: str) -> jwk.JWK:
    """The parsed key for a PEM (parsed once per process: parsing RSA keys is slow)."""
    return _jwk(pem)


def kid(pem: str) -> str:
    """The key id published in the JWKS: the RFC 7638 thumbprint, as DOT's JWKS view uses."""
    return signing_key(pem).thumbprint()
