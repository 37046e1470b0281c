"""The secret key file, written before Django starts (no Django import here)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def var_dir() -> Path:
    default = Path(__file__).resolve().parent.parent.parent.parent / "var"
    return Path(os.environ.get("PATRON_VAR_DIR", default))


def secret_key_ensure() -> bool:
    """Write var/secret_key (mode 600) unless a key is configured; True if one was written."""
    path = var_dir() / "secret_key"
    if os.environ.get("PATRON_SECRET_KEY") or path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    return True
