"""Runtime configuration through the unmodified SDK: client.customer_config.* and client.dynamic_config.*."""

import uuid

import pytest
import requests

from identity_support import error_of, http_error, raw


@pytest.fixture
def restore_declarations(admin_client):
    yield
    for component in ("chatDisclaimer", "mcpCustomServersDisabled"):
        admin_client.customer_config.reset_setting(component)


def test_config_lists_enabled_components_anonymously(client, settings):
    cfg = client.customer_config.get_config()
    assert cfg and all(isinstance(c["id"], str) and c["settings"]["enabled"] is True for c in cfg)
    ids = [c["id"] for c in cfg]
    assert "features:userManagement" in ids
    idp = next(c for c in cfg if c["id"] == "idpProvider")
    assert idp["settings"]["value"] == "local"
    anonymous = requests.get(settings["api_url"] + "/v1/config", timeout=30)
    assert anonymous.status_code == 200 and [c["id"] for c in anonymous.json()] == ids


def test_declarations_override_and_reset(admin_client, client, restore_declarations):
    cc = admin_client.customer_config
    decl = {d["component_id"]: d for d in cc.list_declarations()}
    assert {f["name"] for f in decl["chatDisclaimer"]["fields"]} == {"enabled", "text"}
    assert decl["chatDisclaimer"]["overridden"] is False

    saved = cc.save_setting("chatDisclaimer", {"enabled": True, "text": "See [terms](https://x)"})
    assert saved == {"component_id": "chatDisclaimer", "settings": {"enabled": True, "text": "See [terms](https://x)"}}
    shown = next(c for c in cc.get_config() if c["id"] == "chatDisclaimer")
    assert shown["settings"]["text"] == "See [terms](https://x)"
    assert {d["component_id"]: d for d in cc.list_declarations()}["chatDisclaimer"]["overridden"] is True

    assert error_of(lambda: cc.save_setting("chatDisclaimer", {"enabled": True})) == (
        400,
        "Missing configuration field",
        "Field 'text' is required by the declaration",
    )
    assert error_of(lambda: cc.save_setting("chatDisclaimer", {"enabled": "yes", "text": ""}))[:2] == (400, "Invalid configuration value")
    assert error_of(lambda: cc.save_setting("chatDisclaimer", {"enabled": True, "text": "[x](javascript:alert(1))"}))[:2] == (
        400,
        "Unsafe link in configuration value",
    )
    assert error_of(lambda: cc.save_setting("nope", {}))[:2] == (404, "Setting not found")
    assert error_of(lambda: client.customer_config.list_declarations())[0] == 403

    assert client.customer_config.is_mcp_custom_servers_disabled() is False
    cc.save_setting("mcpCustomServersDisabled", {"enabled": True})
    assert client.customer_config.is_mcp_custom_servers_disabled() is True
    cc.reset_setting("mcpCustomServersDisabled")
    cc.reset_setting("mcpCustomServersDisabled")
    assert client.customer_config.is_mcp_custom_servers_disabled() is False


def test_dynamic_config(admin_client, client, settings):
    me = admin_client.users.about_me()
    key = f"SDK_TEST_FLAG_{uuid.uuid4().hex[:6].upper()}"
    r = admin_client.dynamic_config.set(key, True)
    assert (r["key"], r["value"], r["value_type"], r["updated_by"]) == (key, "True", "bool", me.user_id)
    assert admin_client.dynamic_config.set(key, False)["value"] == "False"  # 409 → PUT
    assert error_of(lambda: admin_client.dynamic_config.set(key, 5))[:2] == (400, "Invalid boolean value")
    assert error_of(lambda: admin_client.dynamic_config.set("lower_key", 1))[:2] == (400, "Invalid key format")
    assert http_error(lambda: client.dynamic_config.set(key, True)).status_code == 403
    admin_client.dynamic_config.delete(key)
    admin_client.dynamic_config.delete(key)  # a 404 is "already gone" to the SDK
    res = raw(admin_client, settings, "GET", f"/v1/dynamic-config/{key}")
    assert res.status_code == 404 and res.json()["error"]["message"] == "Config not found"
