"""User and project mappings, export and A2A through the unmodified SDK."""

import pytest
import requests
from codemie_sdk.models.assistant import AssistantChatRequest, ExportAssistantPayload

from assistants_support import admin_client, error_of, make_assistant, other_client, raw  # noqa: F401


def test_user_mapping(client, other_client, make_assistant, unique):
    assistant_id = make_assistant(f"Mapped {unique}")
    assert client.assistants.get_user_mapping(assistant_id)["tools_config"] == []
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.save_user_mapping(assistant_id, [{"name": "Git", "integration_id": "not-mine"}])
    status, error = error_of(err)
    assert (status, error["message"]) == (403, "Integration is not accessible")
    assert client.assistants.save_user_mapping(assistant_id, [{"name": "Git", "integration_id": ""}]) == {"message": "Mappings created or updated successfully"}
    mapping = client.assistants.get_user_mapping(assistant_id, workflow_id="wf-1")
    assert mapping["has_assistant_scope_selection"] is True and mapping["workflow_id"] == "wf-1"
    assert client.assistants.delete_user_mapping(assistant_id) == {"message": "Mappings deleted successfully"}
    assert client.assistants.get_user_mapping(assistant_id)["tools_config"] == []
    private = make_assistant(f"Private mapping {unique}", shared=False)
    with pytest.raises(requests.HTTPError) as err:
        other_client.assistants.get_user_mapping(private)
    assert error_of(err)[0] == 403


def test_project_mapping(client, admin_client, make_assistant, project, unique):
    assistant_id = make_assistant(f"Teams {unique}")
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.enable_for_project(assistant_id, project)
    assert error_of(err)[0] == 403  # members may list, project admins enable
    for _ in range(2):
        assert admin_client.assistants.enable_for_project(assistant_id, project).message == "Assistant enabled for project feature successfully"
    listed = client.assistants.list_project_mapping(project, per_page=100)
    assert assistant_id in [a["id"] for a in listed.data]
    assert admin_client.assistants.disable_for_project(assistant_id, project).message == "Assistant disabled for project feature successfully"
    with pytest.raises(requests.HTTPError) as err:
        admin_client.assistants.disable_for_project(assistant_id, project)
    status, error = error_of(err)
    assert (status, error["message"]) == (404, "Mapping not found")


def test_export(client, make_assistant, unique):
    assistant_id = make_assistant(f"Export {unique}", conversation_starters=["Hi"])
    res = client.assistants.export(assistant_id, ExportAssistantPayload())
    assert res.status_code == 200
    assert res.headers["content-disposition"].startswith("attachment;")
    bundle = res.json()
    assert bundle["format"] == "codemie-assistant-export"
    assert bundle["assistant"]["name"] == f"Export {unique}"
    assert bundle["assistant"]["conversation_starters"] == ["Hi"]


def test_a2a(client, other_client, make_assistant, unique):
    assistant_id = make_assistant(f"A2A {unique}", description="talks to agents")
    card = client.a2a.get_agent_card(assistant_id)
    assert card.name == f"A2A {unique}"
    assert card.version == "1.0.0"
    assert card.url.endswith(f"/v1/a2a/assistants/{assistant_id}")
    assert card.capabilities.streaming is False
    assert card.skills[0].id == "conversation"
    with pytest.raises(requests.HTTPError) as err:
        client.a2a.get_agent_card("missing")
    assert error_of(err)[0] == 404
    body = {"jsonrpc": "2.0", "id": "r1", "method": "tasks/send", "params": {"id": f"t-{unique}", "message": {"role": "user", "parts": [{"type": "text", "text": "hi"}]}}}
    sent = raw(client, "POST", f"/v1/a2a/assistants/{assistant_id}", json=body).json()
    assert sent["result"]["status"]["state"] == "completed"
    assert sent["result"]["artifacts"][0]["parts"][0]["text"] == "Echo: hi"
    got = raw(client, "POST", f"/v1/a2a/assistants/{assistant_id}", json={"jsonrpc": "2.0", "id": "r2", "method": "tasks/get", "params": {"id": f"t-{unique}"}}).json()
    assert got["result"]["id"] == f"t-{unique}"
    nf = raw(client, "POST", f"/v1/a2a/assistants/{assistant_id}", json={"jsonrpc": "2.0", "id": "r3", "method": "tasks/get", "params": {"id": "nope"}}).json()
    assert nf["error"]["code"] == -32001
