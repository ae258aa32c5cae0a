"""Assistant versions through the unmodified SDK: a version per change, list/get/compare/rollback, chat_with_version.
(The test LLM answers "SYSTEM?" with the system prompt it was given.)"""

import pytest
import requests
from codemie_sdk.models.assistant import AssistantChatRequest, AssistantUpdateRequest

from assistants_support import error_of, make_assistant  # noqa: F401


def test_versions(client, make_assistant, project, model, unique):
    name = f"Versioned {unique}"
    assistant_id = make_assistant(name, system_prompt="P1")
    base = dict(name=name, description="d", project=project, llm_model_type=model)
    client.assistants.update(assistant_id, AssistantUpdateRequest(**base, system_prompt="P2"))
    versions = client.assistants.list_versions(assistant_id)
    assert [v.version_number for v in versions] == [2, 1]
    assert client.assistants.get(assistant_id).version_count == 2
    assert client.assistants.get_version(assistant_id, 1).system_prompt == "P1"
    client.assistants.update(assistant_id, AssistantUpdateRequest(**{**base, "name": f"{name} renamed"}, system_prompt="P2"))
    assert len(client.assistants.list_versions(assistant_id)) == 2  # a new name is not a new version

    diff = client.assistants.compare_versions(assistant_id, 1, 2)
    assert "root['system_prompt']" in diff["differences"]["values_changed"]
    assert diff["change_summary"].startswith("Changes from version 1 to version 2:")
    assert "  • system_prompt changed" in diff["change_summary"]
    assert client.assistants.compare_versions(assistant_id, 1, 1)["change_summary"] == "No differences between version 1 and version 1"

    assert client.assistants.chat_with_version(assistant_id, 1, AssistantChatRequest(text="SYSTEM?")).generated == "System: P1"
    assert client.assistants.chat(assistant_id, AssistantChatRequest(text="SYSTEM?")).generated == "System: P2"
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.chat_with_version(assistant_id, 9, AssistantChatRequest(text="x"))
    status, error = error_of(err)
    assert (status, error["message"]) == (404, "Version not found")

    assert client.assistants.rollback_to_version(assistant_id, 1) == {"message": "Rolled back to version 1. Created new version 3"}
    after = client.assistants.get(assistant_id)
    assert after.system_prompt == "P1" and after.version_count == 3
    assert "P2" in [h.system_prompt for h in after.system_prompt_history]
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.rollback_to_version(assistant_id, 3)
    status, error = error_of(err)
    assert (status, error["message"]) == (400, "Cannot rollback to current version")
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.rollback_to_version(assistant_id, 7)
    assert error_of(err)[1]["message"] == "Invalid version number"
