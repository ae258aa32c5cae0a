"""Assistants through the unmodified SDK: listing (scopes, filters, sort, per_page), lookup errors, slugs,
fields the SDK models require (mcp_servers[].description), templates and catalogs."""

import re

import pytest
import requests
from codemie_sdk.models.assistant import Assistant, AssistantBase, MCPServerDetails, MCPServerConfig, PromptVariable

from assistants_support import admin_client, error_of, make_assistant, other_client, raw  # noqa: F401


def test_list_visibility_filters_sort(client, other_client, make_assistant, project, unique):
    shared = make_assistant(f"Listing shared {unique}")
    private = make_assistant(f"Listing private {unique}", shared=False)
    mine = [a.id for a in client.assistants.list(per_page=100, filters={"search": unique})]
    assert set(mine) == {shared, private}
    assert [a.id for a in other_client.assistants.list(per_page=100, filters={"search": unique})] == []
    found = client.assistants.list(filters={"search": f"Listing shared {unique}"})
    assert found[0].id == shared
    full = client.assistants.list(filters={"project": project, "search": unique}, minimal_response=False, per_page=100)
    assert all(isinstance(a, Assistant) and a.system_prompt == "You are helpful." for a in full)
    minimal = client.assistants.list(filters={"search": unique}, per_page=100)
    assert all(isinstance(a, AssistantBase) for a in minimal)
    assert len(client.assistants.list(per_page=500)) >= 2  # no 422 above 100
    by_name = client.assistants.list(sort_by="name", sort_order="asc", per_page=100, filters={"search": unique})
    assert [a.name for a in by_name] == sorted(a.name for a in by_name)
    assert by_name[0].id == private  # "private" < "shared"
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.list(sort_by="bogus")
    status, error = error_of(err)
    assert status == 422
    assert error["message"] == "query.sort_by: Input should be 'usage', 'likes', 'dislikes' or 'name'"


def test_invalid_filters_text(client):
    res = raw(client, "GET", "/v1/assistants?filters=notjson")
    assert res.status_code == 400
    assert res.json()["error"] == {
        "message": "Invalid filters",
        "details": "Filters must be a valid encoded JSON object.",
        "help": "Please check the filters and ensure they are in the correct format. ",
    }


def test_get_errors_and_405(client, other_client, make_assistant, unique):
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.get("missing")
    status, error = error_of(err)
    assert status == 404
    assert error == {
        "message": "Assistant not found",
        "details": "No assistant found with the id 'missing'.",
        "help": "Please check the assistant id and ensure it is correct. ",
    }
    private = make_assistant(f"Hidden {unique}", shared=False)
    with pytest.raises(requests.HTTPError) as err:
        other_client.assistants.get(private)
    status, error = error_of(err)
    assert status == 403
    assert error["details"] == "You do not have the necessary permissions to view this entity."
    assert error["help"].startswith("Please ensure you have the correct role or permissions")
    assert raw(client, "GET", f"/v1/assistants/{private}").status_code == 405


def test_mcp_server_without_description_and_context_enum(client, make_assistant, project, model, unique):
    assistant_id = make_assistant(
        f"MCP {unique}",
        mcp_servers=[MCPServerDetails(name="srv", description=None, enabled=True, config=MCPServerConfig(url="http://127.0.0.1:9/mcp"))],
        prompt_variables=[PromptVariable(key="team", default_value="core")],
        enabled_builtin_subagents=["GENERAL_PURPOSE_SUBAGENT", "GENERAL_PURPOSE_SUBAGENT"],
    )
    a = client.assistants.get(assistant_id)
    assert a.mcp_servers[0].name == "srv"
    assert a.mcp_servers[0].description is None
    assert a.mcp_servers[0].enabled is True
    assert a.prompt_variables[0].key == "team" and a.prompt_variables[0].default_value == "core"
    assert a.enabled_builtin_subagents == ["GENERAL_PURPOSE_SUBAGENT"]
    assert a.version_count == 1
    res = raw(
        client,
        "POST",
        "/v1/assistants",
        json={"name": "x", "system_prompt": "s", "project": project, "llm_model_type": model, "context": [{"context_type": "bogus", "name": "r"}]},
    )
    assert res.status_code == 422


def test_slugs(client, make_assistant, unique):
    slug = f"my_bot_{unique}"
    assistant_id = make_assistant(f"Slug {unique}", slug=slug)
    assert client.assistants.get_by_slug(slug).id == assistant_id
    name = f"Twin Name {unique}"
    first = make_assistant(name)
    second = make_assistant(name)
    base = f"twin-name-{unique}"
    assert client.assistants.get(first).slug == base
    assert re.fullmatch(rf"{base}_[a-z]{{15}}", client.assistants.get(second).slug)
    with pytest.raises(requests.HTTPError) as err:
        make_assistant(f"Other {unique}", slug=slug)
    status, error = error_of(err)
    assert status == 400
    assert error["message"] == "Failed to save assistant"
    assert error["details"] == (
        f"An error occurred while trying to save the assistant: Slug '{slug}' is already used by another assistant in this project. "
        "Slugs must be unique within a project — please choose a different slug."
    )


def test_templates_and_catalogs(client, project):
    templates = client.assistants.get_prebuilt()
    assert templates and all(isinstance(t, Assistant) for t in templates)
    slugs = [t.slug for t in templates]
    assert "template-chatgpt-assistant" in slugs
    one = client.assistants.get_prebuilt_by_slug("template-chatgpt-assistant")
    assert one.name == "[Template] ChatGPT" == next(t.name for t in templates if t.slug == "template-chatgpt-assistant")
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.get_prebuilt_by_slug("template-nope")
    status, error = error_of(err)
    assert (status, error["message"]) == (404, "Prebuilt assistant not found")
    page = raw(client, "GET", "/v1/assistants?scope=templates&per_page=5").json()
    assert len(page["data"]) == 5 and all(a["slug"].startswith("template-") for a in page["data"])
    toolkits = {t.toolkit: [x.name for x in t.tools] for t in client.assistants.get_tools()}
    assert "write_file_to_file_system" in toolkits["FileSystem"] and toolkits["SQL"] == ["sql"]
    assert toolkits["OpenAPI"] == ["open_api", "open_api_spec"]
    assert client.assistants.get_context(project) == []
    assert raw(client, "GET", "/v1/assistants/context").status_code == 422
    subagents = client.assistants.get_builtin_subagents()
    assert [(s.id, s.display_name) for s in subagents] == [("GENERAL_PURPOSE_SUBAGENT", "General Purpose")]
