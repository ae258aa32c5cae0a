"""Fixtures and helpers of the assistants suites (test_assistants_*.py): more users, a factory of assistants."""

import os
import uuid

import pytest
import requests
from codemie_sdk import CodeMieClient
from codemie_sdk.models.assistant import AssistantCreateRequest


def _client(settings, username_env: str, password_env: str) -> CodeMieClient:
    username = os.environ.get(username_env)
    password = os.environ.get(password_env)
    if not username or not password:
        pytest.fail(f"{username_env}/{password_env} are required (tests/compat/python-sdk.test.ts sets them)")
    return CodeMieClient(
        auth_server_url=settings["auth_url"],
        auth_realm_name=settings["realm"],
        codemie_api_domain=settings["api_url"],
        username=username,
        password=password,
    )


@pytest.fixture(scope="session")
def other_client(settings) -> CodeMieClient:
    """A user of another project (not a member of the compat project, not an admin)."""
    return _client(settings, "CODEMIE_OUTSIDER_USERNAME", "CODEMIE_OUTSIDER_PASSWORD")


@pytest.fixture(scope="session")
def admin_client(settings) -> CodeMieClient:
    """The platform administrator."""
    return _client(settings, "CODEMIE_ADMIN_USERNAME", "CODEMIE_ADMIN_PASSWORD")


@pytest.fixture
def make_assistant(client, project, model):
    """Creates assistants (deleted at the end); returns their ids."""
    created: list[tuple[CodeMieClient, str]] = []

    def make(name: str, owner: CodeMieClient | None = None, **fields) -> str:
        c = owner or client
        req = AssistantCreateRequest(
            name=name,
            description=fields.pop("description", f"{name} (compat)"),
            system_prompt=fields.pop("system_prompt", "You are helpful."),
            project=fields.pop("project", project),
            llm_model_type=fields.pop("llm_model_type", model),
            shared=fields.pop("shared", True),
            **fields,
        )
        res = c.assistants.create(req)
        assert res.message == "Specified assistant saved"
        assert res.assistant_id
        created.append((c, res.assistant_id))
        return res.assistant_id

    yield make
    for c, assistant_id in reversed(created):
        try:
            c.assistants.delete(assistant_id)
        except requests.HTTPError:
            pass


def error_of(exc: pytest.ExceptionInfo) -> tuple[int, dict]:
    """Status and error envelope of an SDK HTTPError."""
    res = exc.value.response
    return res.status_code, res.json()["error"]


def raw(client: CodeMieClient, method: str, path: str, **kwargs) -> requests.Response:
    """A request with the SDK client's own credentials (for routes or details the SDK does not expose)."""
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    return requests.request(method, f"{client._api_domain}{path}", headers=headers, timeout=60, **kwargs)
