"""Settings for the test suite: the real settings, with a throwaway var/ and a test key."""

import os
import tempfile

os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("PATRON_VAR_DIR", tempfile.mkdtemp(prefix="patron-test-var-"))

from patron.settings import *  # noqa: F403
