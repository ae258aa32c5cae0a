"""Conversations created by assistant chats: list, details (strict pydantic model), delete."""

import uuid

import pytest
from codemie_sdk.models.assistant import AssistantChatRequest, AssistantCreateRequest
from codemie_sdk.models.conversation import Conversation, ConversationDetails


@pytest.fixture
def assistant_id(client, project, model, unique):
    created = client.assistants.create(
        AssistantCreateRequest(
            name=f"compat-conv-{unique}", description="d", system_prompt="s", project=project, llm_model_type=model
        )
    )
    assistant_id = created.assistant_id
    if assistant_id is None:
        assistant_id = next(a.id for a in client.assistants.list(per_page=100) if a.name == f"compat-conv-{unique}")
    yield assistant_id
    client.assistants.delete(assistant_id)


def test_conversation_history(client, assistant_id):
    conversation_id = str(uuid.uuid4())
    first = client.assistants.chat(assistant_id, AssistantChatRequest(conversation_id=conversation_id, text="First turn"))
    assert first.generated == "Echo: First turn"
    second = client.assistants.chat(assistant_id, AssistantChatRequest(conversation_id=conversation_id, text="Second turn"))
    assert second.generated == "Echo: Second turn"

    listed = client.conversations.list()
    assert all(isinstance(c, Conversation) for c in listed)
    mine = [c for c in listed if c.id == conversation_id]
    assert len(mine) == 1 and assistant_id in mine[0].assistant_ids
    assert conversation_id in [c.id for c in client.conversations.list_by_assistant_id(assistant_id)]

    details = client.conversations.get_conversation(conversation_id)
    assert isinstance(details, ConversationDetails)
    assert details.initial_assistant_id == assistant_id
    messages = [(h.role, h.message) for h in details.history]
    assert messages == [
        ("User", "First turn"),
        ("Assistant", "Echo: First turn"),
        ("User", "Second turn"),
        ("Assistant", "Echo: Second turn"),
    ]

    res = client.conversations.delete(conversation_id)
    assert res["message"]  # a JSON body, never an empty 204
    assert conversation_id not in [c.id for c in client.conversations.list()]
