"""Test settings: production settings with a test environment, not a second configuration."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

if "SIGNING_KEY_FILE" not in os.environ:
    # A throwaway signing key for this test run (the real ones are never committed).
    from oauth_clients.keys import write_private_key

    _key_dir = tempfile.mkdtemp(prefix="oauth-console-test-keys-")
    atexit.register(shutil.rmtree, _key_dir, ignore_errors=True)
    write_private_key(Path(_key_dir) / "signing-key.pem")
    os.environ["SIGNING_KEY_FILE"] = str(Path(_key_dir) / "signing-key.pem")

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("CLIENT_SECRET_DIGEST_KEY", "test-client-secret-digest-key")
# The test server and the browser tests speak plain http on *.localhost.
os.environ.setdefault("PLATFORM_SCHEME", "http")

from config.settings import *  # noqa: E402, F403

# User passwords are hashed with PBKDF2 in production; tests sign in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# No collectstatic before tests: serve static files from the app directories.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Live-server threads would otherwise keep PostgreSQL connections open past
# the test run, and the test database could not be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# Every request reads the cache generations: query counts do not depend on the
# clock, and a change made by the test counts at once.
GENERATION_CHECK_SECONDS = 0
