"""Behind a proxy that ends TLS: the settings come from the environment, sign-in passes the
CSRF check for the named origin only, and pages carry HSTS and a Content-Security-Policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

PASSWORD = "Patron-Test-Pass-2024"
ORIGIN = "https://crm.example.com"


def _settings(tmp_path: Path, **env: str) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PATRON_", "DJANGO_"))}
    code = (
        "import json, patron.settings as s; print(json.dumps({'proxy': getattr(s, "
        "'SECURE_PROXY_SSL_HEADER', None), 'origins': s.CSRF_TRUSTED_ORIGINS, 'secure': "
        "s.SESSION_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "PATRON_VAR_DIR": str(tmp_path), "PATRON_DEBUG": "true", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


def test_proxy_settings_come_from_the_environment(tmp_path: Path) -> None:
    plain = _settings(tmp_path)
    assert plain == {"proxy": None, "origins": [], "secure": False, "hsts": 0}
    proxied = _settings(
        tmp_path,
        PATRON_TLS_PROXY="true",
        PATRON_CSRF_TRUSTED_ORIGINS=f"{ORIGIN}, https://crm2.example.com",
    )
    assert proxied == {
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "origins": [ORIGIN, "https://crm2.example.com"],
        "secure": True,
        "hsts": 31_536_000,
    }


def _sign_in_through_the_proxy(client: Client, host: str = "crm.example.com") -> Any:
    headers = {"X-Forwarded-Proto": "https", "Origin": ORIGIN, "Host": host}
    client.get("/accounts/login/", headers=headers)
    token = client.cookies["csrftoken"].value
    return client.post(
        "/accounts/login/",
        {"username": "mia", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={**headers, "Referer": f"{ORIGIN}/accounts/login/"},
    )


@pytest.mark.django_db
def test_sign_in_behind_the_proxy_passes_the_csrf_check(make_user: Any, settings: Any) -> None:
    # given a user, and Patron behind a TLS proxy at https://crm.example.com
    make_user("mia", "marketing", password=PASSWORD)
    settings.ALLOWED_HOSTS = ["crm.example.com", "127.0.0.1"]
    settings.SECURE_HSTS_SECONDS = 31_536_000

    # when Patron does not trust the proxy's X-Forwarded-Proto, the browser's https origin
    # does not match the http request it sees: the sign-in fails the CSRF check (the bug)
    settings.SECURE_PROXY_SSL_HEADER = None
    assert _sign_in_through_the_proxy(Client(enforce_csrf_checks=True)).status_code == 403

    # a proxy that passes the public host: PATRON_TLS_PROXY is enough
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert _sign_in_through_the_proxy(Client(enforce_csrf_checks=True)).status_code == 302

    # a proxy that rewrites the host (proxy_pass http://127.0.0.1:8000 without Host): the
    # public origin must be named in PATRON_CSRF_TRUSTED_ORIGINS
    settings.CSRF_TRUSTED_ORIGINS = []
    rewritten = _sign_in_through_the_proxy(Client(enforce_csrf_checks=True), host="127.0.0.1")
    assert rewritten.status_code == 403
    settings.CSRF_TRUSTED_ORIGINS = [ORIGIN]
    client = Client(enforce_csrf_checks=True)
    signed_in = _sign_in_through_the_proxy(client, host="127.0.0.1")
    assert signed_in.status_code == 302, signed_in.content[:500]

    # then pages carry HSTS over https, and the policy that loads nothing from elsewhere
    page = client.get(
        "/customers/", headers={"X-Forwarded-Proto": "https", "Host": "crm.example.com"}
    )
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "http:" not in policy and "https:" not in policy  # nothing from elsewhere
    # plain HTTP (no proxy header): no HSTS, but the policy all the same
    plain = Client().get("/accounts/login/", headers={"Host": "crm.example.com"})
    assert "Strict-Transport-Security" not in plain.headers
    assert "Content-Security-Policy" in plain.headers
