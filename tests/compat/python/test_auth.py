"""Both auth paths of the SDK, and the 401 of its no-credentials mode."""

import base64
import json

import pytest
import requests
from codemie_sdk import CodeMieClient


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_user_token_is_a_jwt_of_the_user(client, settings):
    token = client.token
    c = claims(token)
    assert c["preferred_username"] == settings["username"]
    assert c["iss"].endswith(f"/auth/realms/{settings['realm']}")
    assert c["exp"] > c["iat"]
    me = client.users.about_me()  # GET /v1/user through the SDK's User model
    assert me.username == settings["username"]
    assert me.applications == [settings["project"]]


def test_token_came_through_the_expected_auth_path(client, settings):
    if settings["mode"] == "keycloak":
        # KeycloakCredentials: password grant against <auth_url>/realms/<realm>/protocol/openid-connect/token
        assert client.auth.server_url == settings["auth_url"]
        assert client.auth._cached_token == client._token
    elif settings["mode"] == "localhost":
        # LocalAuthCredentials: POST <api>/v1/local-auth/login {email, password} -> {access_token}
        assert client._local_auth is not None
        assert client._local_auth._login_url == settings["api_url"] + "/v1/local-auth/login"
    else:
        pytest.skip("COMPAT_AUTH_MODE not set")


def test_refresh_token_gets_a_new_token(client):
    assert client.refresh_token()
    assert client.llms.list()


def test_client_credentials_grant(settings):
    if settings["mode"] != "keycloak" or not settings["client_id"]:
        pytest.skip("client credentials are a Keycloak-mode path (needs CODEMIE_CLIENT_ID/SECRET)")
    c = CodeMieClient(
        auth_server_url=settings["auth_url"],
        auth_realm_name=settings["realm"],
        codemie_api_domain=settings["api_url"],
        auth_client_id=settings["client_id"],
        auth_client_secret=settings["client_secret"],
    )
    assert claims(c.token)["azp"] == settings["client_id"]
    models = c.llms.list()
    assert settings["model"] in [m.base_name for m in models]


def test_wrong_password_is_rejected(settings):
    with pytest.raises(requests.HTTPError) as err:
        CodeMieClient(
            auth_server_url=settings["auth_url"],
            auth_realm_name=settings["realm"],
            codemie_api_domain=settings["api_url"],
            username=settings["username"],
            password="not-the-password",
        )
    assert err.value.response.status_code == 401
    assert err.value.response.headers["content-type"].startswith("application/json")


def test_no_credentials_mode_gets_a_401_that_says_how_to_authenticate(settings):
    if not settings["local_api_url"]:
        pytest.skip("CODEMIE_LOCAL_API_URL not set")
    c = CodeMieClient(
        auth_server_url=settings["auth_url"],
        auth_realm_name=settings["realm"],
        codemie_api_domain=settings["local_api_url"],
    )
    assert c.assistants._api._get_headers()["Authorization"] == "dev-codemie-user"
    with pytest.raises(requests.HTTPError) as err:
        c.llms.list()
    res = err.value.response
    assert res.status_code == 401
    error = res.json()["error"]  # {"message", "details", "help"}: details says what was wrong and how to fix it
    assert error["message"] == "Authentication failed"
    assert "raw user id" in error["details"]
    assert settings["local_api_url"] + "/v1/local-auth/login" in error["details"]
    assert "/auth/realms/" + settings["realm"] + "/protocol/openid-connect/token" in error["details"]
    assert "Bearer" in error["help"]
