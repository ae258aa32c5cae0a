"""Fixtures for the Python SDK compatibility suite (drives a live CodeMie Open server).

Environment (tests/compat/python-sdk.test.ts sets all of it; set it yourself to run by hand):
  CODEMIE_API_URL        server base URL the SDK calls (…/v1/... is appended). The SDK picks its auth
                         path from this: a host containing localhost/127.0.0.1/0.0.0.0/192.168 →
                         local-auth login (POST /v1/local-auth/login), any other host → Keycloak.
  CODEMIE_AUTH_URL       Keycloak base URL (…/realms/<realm>/protocol/openid-connect/token is appended),
                         for the embedded IdP: <server>/auth
  CODEMIE_AUTH_REALM     realm (default codemie)
  CODEMIE_USERNAME / CODEMIE_PASSWORD        a user (password grant / local login)
  CODEMIE_CLIENT_ID / CODEMIE_CLIENT_SECRET  a confidential client (client_credentials), optional
  CODEMIE_PROJECT        a project the user belongs to (default compat-demo)
  CODEMIE_LLM_MODEL      base_name of a configured model (default test-model)
  CODEMIE_LOCAL_API_URL  a localhost URL of the same server, for the no-credentials 401 check (optional)
  COMPAT_AUTH_MODE       keycloak | localhost: the mode the run is meant to exercise (asserted)
The answers asserted on are the test LLM server's deterministic "Echo: <last user message>".
"""

import os
import uuid

import pytest
from codemie_sdk import CodeMieClient


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        pytest.exit(f"environment variable {name} is required (see tests/compat/python/conftest.py)", returncode=2)
    return value


@pytest.fixture(scope="session")
def settings() -> dict:
    return {
        "api_url": env("CODEMIE_API_URL").rstrip("/"),
        "auth_url": env("CODEMIE_AUTH_URL", env("CODEMIE_API_URL").rstrip("/") + "/auth"),
        "realm": env("CODEMIE_AUTH_REALM", "codemie"),
        "username": env("CODEMIE_USERNAME"),
        "password": env("CODEMIE_PASSWORD"),
        "client_id": os.environ.get("CODEMIE_CLIENT_ID"),
        "client_secret": os.environ.get("CODEMIE_CLIENT_SECRET"),
        "project": env("CODEMIE_PROJECT", "compat-demo"),
        "model": env("CODEMIE_LLM_MODEL", "test-model"),
        "local_api_url": os.environ.get("CODEMIE_LOCAL_API_URL"),
        "mode": os.environ.get("COMPAT_AUTH_MODE"),
    }


@pytest.fixture(scope="session")
def client(settings) -> CodeMieClient:
    """Password grant (Keycloak mode) or local-auth login (localhost mode), as the SDK decides."""
    c = CodeMieClient(
        auth_server_url=settings["auth_url"],
        auth_realm_name=settings["realm"],
        codemie_api_domain=settings["api_url"],
        username=settings["username"],
        password=settings["password"],
    )
    if settings["mode"] == "keycloak":
        assert not c._is_localhost, f"{settings['api_url']} looks like localhost to the SDK: Keycloak mode not exercised"
    elif settings["mode"] == "localhost":
        assert c._is_localhost, f"{settings['api_url']} does not look like localhost to the SDK"
    return c


@pytest.fixture(scope="session")
def model(settings) -> str:
    return settings["model"]


@pytest.fixture(scope="session")
def project(settings) -> str:
    return settings["project"]


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


# ── identity fixtures (projects, admin users, config suites) ──


@pytest.fixture(scope="session")
def login(settings):
    """Logs a user in the way the SDK decides (password grant or local-auth login); returns its client."""

    def make(username: str, password: str) -> CodeMieClient:
        return CodeMieClient(
            auth_server_url=settings["auth_url"],
            auth_realm_name=settings["realm"],
            codemie_api_domain=settings["api_url"],
            username=username,
            password=password,
        )

    return make


@pytest.fixture(scope="session")
def admin_client(login) -> CodeMieClient:
    """The platform admin (bootstrap user `admin`): CODEMIE_ADMIN_USERNAME / CODEMIE_ADMIN_PASSWORD."""
    return login(env("CODEMIE_ADMIN_USERNAME", "admin"), env("CODEMIE_ADMIN_PASSWORD"))
