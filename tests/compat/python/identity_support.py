"""Helpers of the projects / admin-user / config suites (not tests)."""

import uuid
from dataclasses import dataclass

import pytest
import requests
from codemie_sdk import CodeMieClient

PASSWORD = "sdk-user-password-1"


@dataclass
class SdkUser:
    id: str
    username: str
    email: str
    client: CodeMieClient


def new_user(admin_client: CodeMieClient, login, prefix: str = "u") -> SdkUser:
    """A user created through the admin API (unmodified SDK), logged in with its own password."""
    tag = uuid.uuid4().hex[:8]
    username = f"{prefix}-{tag}"
    email = f"{username}@example.com"
    created = admin_client.admin.create_local_user(email=email, username=username, password=PASSWORD, name=f"User {tag}")
    assert created.username == username and created.email == email
    return SdkUser(id=created.id, username=username, email=email, client=login(username, PASSWORD))


def http_error(call) -> requests.Response:
    """The response of an SDK call that must fail with an HTTP error; the body is the API envelope."""
    with pytest.raises(requests.HTTPError) as err:
        call()
    res = err.value.response
    assert sorted(res.json()["error"].keys()) == ["details", "help", "message"]
    return res


def error_of(call) -> tuple[int, str, object]:
    res = http_error(call)
    e = res.json()["error"]
    return res.status_code, e["message"], e["details"]


def raw(client: CodeMieClient, settings: dict, method: str, path: str, **kwargs) -> requests.Response:
    """A request the SDK does not make itself, with the client's token."""
    return requests.request(method, settings["api_url"] + path, headers={"Authorization": f"Bearer {client.token}"}, timeout=30, **kwargs)
