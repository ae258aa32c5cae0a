"""Categories, the marketplace (validate, publish, unpublish) and reactions through the unmodified SDK."""

import pytest
import requests
from codemie_sdk.models.assistant import AssistantUpdateRequest, MCPServerConfig, MCPServerDetails, ReactionRequest
from codemie_sdk.models.categories import CategoryCreateRequest, CategoryUpdateRequest

from assistants_support import admin_client, error_of, make_assistant, other_client  # noqa: F401


def test_categories(client, admin_client, make_assistant, unique):
    listed = client.categories.get_categories()
    assert len(listed) >= 15
    assert any(c.id == "engineering" and c.name == "Engineering" for c in listed)
    with pytest.raises(requests.HTTPError) as err:
        client.categories.create_category(CategoryCreateRequest(name=f"Denied {unique}"))
    assert error_of(err)[0] == 403
    made = admin_client.categories.create_category(CategoryCreateRequest(name=f"Compat {unique}", description="from the suite"))
    assert made.id == f"compat_{unique}"
    assert (made.name, made.marketplace_count, made.project_count) == (f"Compat {unique}", 0, 0)
    assert admin_client.categories.get_category(made.id).name == f"Compat {unique}"
    page = admin_client.categories.list_categories(page=0, per_page=100)
    assert page.metadata.total >= 16
    assert made.id in [c.id for c in page.items]
    with pytest.raises(requests.HTTPError) as err:
        admin_client.categories.create_category(CategoryCreateRequest(name=f"Compat {unique}"))
    status, error = error_of(err)
    assert (status, error["message"]) == (409, "Category already exists")
    renamed = admin_client.categories.update_category(made.id, CategoryUpdateRequest(name=f"Compat renamed {unique}"))
    assert renamed.name == f"Compat renamed {unique}"

    assistant_id = make_assistant(f"Categorised {unique}", categories=[made.id])
    assert admin_client.categories.get_category(made.id).project_count == 1
    with pytest.raises(requests.HTTPError) as err:
        admin_client.categories.delete_category(made.id)
    status, error = error_of(err)
    assert (status, error["message"], error["details"]) == (409, "Cannot delete category", "Cannot delete category with 1 assigned assistants")
    client.assistants.delete(assistant_id)
    assert admin_client.categories.delete_category(made.id) == {}
    with pytest.raises(requests.HTTPError) as err:
        admin_client.categories.get_category(made.id)
    assert error_of(err)[1]["message"] == "Category not found"
    with pytest.raises(requests.HTTPError) as err:
        make_assistant(f"Bad category {unique}", categories=["nope"])
    status, error = error_of(err)
    assert status == 400
    assert "Invalid category IDs: ['nope']" in error["details"]


def test_publish_validate_unpublish(client, other_client, make_assistant, project, model, unique):
    assistant_id = make_assistant(f"Market {unique}", shared=False)
    v = client.assistants.marketplace_validate(assistant_id)
    assert v["requires_confirmation"] is False
    assert v["message"] == f"Assistant {assistant_id} is ready to be published to marketplace"
    with_env = make_assistant(
        f"Env {unique}",
        mcp_servers=[MCPServerDetails(name="srv", description=None, enabled=True, config=MCPServerConfig(command="npx", args=["x"], env={"TOKEN": "t"}))],
    )
    creds = client.assistants.marketplace_validate(with_env)
    assert creds["requires_confirmation"] is True
    assert creds["inline_credentials"][0]["credential_type"] == "mcp_inline_config_env"

    with pytest.raises(requests.HTTPError) as err:
        client.assistants.publish(assistant_id)
    status, error = error_of(err)
    assert (status, error["message"]) == (400, "At least one category is required")
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.publish(assistant_id, categories=["nope"])
    assert error_of(err)[1]["message"] == "Invalid category IDs: ['nope']"
    assert client.assistants.publish(assistant_id, categories=["engineering"]) == {"message": f"Assistant {assistant_id} published to marketplace successfully"}
    assert client.assistants.get(assistant_id).is_global is True
    assert assistant_id in [a.id for a in other_client.assistants.list(scope="marketplace", per_page=100)]
    assert assistant_id not in [a.id for a in client.assistants.list(per_page=100)]
    assert other_client.assistants.chat(assistant_id, _chat("from the marketplace")).generated == "Echo: from the marketplace"
    with pytest.raises(requests.HTTPError) as err:
        other_client.assistants.publish(assistant_id, categories=["engineering"])
    assert error_of(err)[0] == 403

    # An SDK update of a published assistant must name a category.
    base = dict(name=f"Market {unique}", description="d", system_prompt="s", project=project, llm_model_type=model)
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.update(assistant_id, AssistantUpdateRequest(**base, is_global=True))
    status, error = error_of(err)
    assert (status, error["message"]) == (400, "Failed to update assistant")
    assert error["details"].endswith("At least one category is required")
    assert client.assistants.update(assistant_id, AssistantUpdateRequest(**base, is_global=True, categories=["engineering"])).message

    assert client.assistants.unpublish(assistant_id) == {"message": f"Assistant {assistant_id} unpublished from marketplace successfully"}
    assert assistant_id not in [a.id for a in other_client.assistants.list(scope="marketplace", per_page=100)]
    with pytest.raises(requests.HTTPError) as err:
        other_client.assistants.get(assistant_id)
    assert error_of(err)[0] == 403


def test_publish_with_sub_assistant(client, make_assistant, unique):
    sub = make_assistant(f"Sub {unique}", shared=False)
    orchestrator = make_assistant(f"Orchestrator {unique}", assistant_ids=[sub])
    v = client.assistants.marketplace_validate(orchestrator)
    assert v["sub_assistants"][0]["id"] == sub
    assert v["message"].endswith(" along with 1 sub-assistant(s)")
    res = client.assistants.publish(orchestrator, categories=["engineering"])
    assert "along with 1 sub-assistant(s) published to marketplace" in res["message"]
    assert client.assistants.get(sub).is_global is True


def test_reactions(client, other_client, make_assistant, unique):
    assistant_id = make_assistant(f"Reactions {unique}")
    assert client.assistants.react(assistant_id, ReactionRequest(reaction="like")) == {
        "success": True,
        "reaction": "like",
        "like_count": 1,
        "dislike_count": 0,
        "error": None,
    }
    again = client.assistants.react(assistant_id, ReactionRequest(reaction="like"))
    assert again["reaction"] is None and again["like_count"] == 0
    assert client.assistants.react(assistant_id, ReactionRequest(reaction="dislike"))["dislike_count"] == 1
    assert client.assistants.get(assistant_id).unique_dislikes_count == 1
    cleared = client.assistants.remove_reactions(assistant_id)
    assert (cleared["like_count"], cleared["dislike_count"], cleared["reaction"]) == (0, 0, None)
    private = make_assistant(f"Private reactions {unique}", shared=False)
    with pytest.raises(requests.HTTPError) as err:
        other_client.assistants.react(private, ReactionRequest(reaction="like"))
    assert error_of(err)[0] == 403


def _chat(text: str):
    from codemie_sdk.models.assistant import AssistantChatRequest

    return AssistantChatRequest(text=text)
