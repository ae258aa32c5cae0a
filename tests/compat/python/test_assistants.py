"""Assistants: create, get, list, update, chat (non-stream, stream, output schema, X-* headers), delete."""

import json

import pytest
from pydantic import BaseModel
from codemie_sdk.models.assistant import (
    Assistant,
    AssistantChatRequest,
    AssistantCreateRequest,
    AssistantUpdateRequest,
    BaseModelResponse,
)


def parse_stream(res) -> list[dict]:
    """Chunks of a /model stream: SSE (`data: {...}` lines, the default) or concatenated/NDJSON objects."""
    body = res.text
    if res.headers.get("content-type", "").startswith("text/event-stream"):
        return [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:") and line[5:].strip()]
    decoder, chunks, i = json.JSONDecoder(), [], 0
    while i < len(body):
        while i < len(body) and body[i].isspace():
            i += 1
        if i >= len(body):
            break
        obj, i = decoder.raw_decode(body, i)
        chunks.append(obj)
    return chunks


@pytest.fixture
def assistant(client, project, model, unique):
    name = f"compat-assistant-{unique}"
    created = client.assistants.create(
        AssistantCreateRequest(
            name=name,
            description="Compatibility suite assistant",
            system_prompt="You are a helpful assistant.",
            project=project,
            llm_model_type=model,
            conversation_starters=["Hello"],
        )
    )
    assert created.message
    assistant_id = created.assistant_id
    if assistant_id is None:
        found = [a for a in client.assistants.list(per_page=100, filters={"search": name}) if a.name == name]
        assert found, f"created assistant {name} not listed"
        assistant_id = found[0].id
    yield client.assistants.get(assistant_id)
    assert client.assistants.delete(assistant_id)["message"]  # a JSON body, never an empty 204


def test_assistant_crud(client, assistant, project, model):
    a = client.assistants.get(assistant.id)
    assert isinstance(a, Assistant)
    assert a.project == project
    assert a.llm_model_type == model
    assert a.system_prompt == "You are a helpful assistant."
    assert a.conversation_starters == ["Hello"]

    listed = client.assistants.list(per_page=100)
    assert assistant.id in [x.id for x in listed]
    full = client.assistants.list(minimal_response=False, per_page=100)
    assert assistant.id in [x.id for x in full]

    res = client.assistants.update(
        assistant.id,
        AssistantUpdateRequest(
            name=a.name,
            description="changed",
            system_prompt="You are terse.",
            project=project,
            llm_model_type=model,
        ),
    )
    assert res.message
    again = client.assistants.get(assistant.id)
    assert again.description == "changed"
    assert again.system_prompt == "You are terse."


def test_assistant_chat(client, assistant):
    res = client.assistants.chat(assistant.id, AssistantChatRequest(text="Hello compat", stream=False))
    assert isinstance(res, BaseModelResponse)
    assert res.generated == "Echo: Hello compat"
    assert res.success is True
    assert res.time_elapsed is not None


def test_assistant_chat_stream(client, assistant):
    res = client.assistants.chat(assistant.id, AssistantChatRequest(text="Stream please", stream=True))
    assert res.status_code == 200
    chunks = parse_stream(res)
    assert chunks, "no chunks"
    last = chunks[-1]
    assert last["last"] is True
    assert last["generated"] == "Echo: Stream please"
    assert all(c["last"] is False for c in chunks[:-1])


class Verdict(BaseModel):
    status: str
    score: int


def test_assistant_chat_output_schema(client, assistant):
    text = 'JSON:{"status": "green", "score": 7}'
    res = client.assistants.chat(assistant.id, AssistantChatRequest(text=text, output_schema=Verdict))
    assert isinstance(res.generated, Verdict)
    assert res.generated == Verdict(status="green", score=7)

    schema = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}
    raw = client.assistants.chat(assistant.id, AssistantChatRequest(text='JSON:{"status": "blue"}', output_schema=schema))
    assert raw.generated == {"status": "blue"}


def test_assistant_chat_with_propagated_headers(client, assistant):
    res = client.assistants.chat(
        assistant.id,
        AssistantChatRequest(text="With headers", propagate_headers=True),
        headers={"X-Tenant-Id": "tenant-42", "X-Request-Source": "compat"},
    )
    assert res.generated == "Echo: With headers"


def test_assistant_chat_by_slug(client, project, model, unique):
    slug = f"compat-slug-{unique}"
    created = client.assistants.create(
        AssistantCreateRequest(
            name=f"slugged-{unique}", description="d", system_prompt="s", project=project, llm_model_type=model, slug=slug
        )
    )
    try:
        assert client.assistants.get_by_slug(slug).slug == slug
        res = client.assistants.chat_by_slug(slug, AssistantChatRequest(text="By slug"))
        assert res.generated == "Echo: By slug"
    finally:
        assistant_id = created.assistant_id or client.assistants.get_by_slug(slug).id
        client.assistants.delete(assistant_id)
