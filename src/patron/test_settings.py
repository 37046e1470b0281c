"""Settings for the test suite: the real settings, with a throwaway var/ and a test key."""

import os
import tempfile

os.environ.setdefault("PATRON_ALLOW_INSECURE_KEY", "1")
os.environ.setdefault("PATRON_VAR_DIR", tempfile.mkdtemp(prefix="patron-test-var-"))
# Background jobs run at once, in the test's own process (Huey's immediate mode); the tests
# that exercise the real queue and `patron worker` switch it off themselves.
os.environ.setdefault("PATRON_JOBS_IMMEDIATE", "1")

from patron.settings import *  # noqa: F403
