"""Assistant calls beyond /model through the unmodified SDK: sub-assistants (a delegation is a nested Agent thought),
built-in subagents, virtual assistants, tool-call approval and resume, prompt variables.
The test LLM calls a tool when the user writes "TOOL:<name>:<json>", then answers "Done: <result>"."""

import json
from pathlib import Path

import pytest
import requests
from codemie_sdk.models.assistant import (
    AssistantChatRequest,
    MCPServerConfig,
    MCPServerDetails,
    PromptVariable,
    ToolCallResumeRequest,
    ToolPermissionsConfig,
    VirtualAssistantChatRequest,
)

from assistants_support import error_of, make_assistant, other_client  # noqa: F401

EVERYTHING = Path(__file__).resolve().parents[3] / "node_modules/@modelcontextprotocol/server-everything/dist/index.js"


def test_delegation_shows_the_sub_assistant_thought(client, make_assistant, unique):
    sub = make_assistant(f"Helper {unique}", description="helps with subtasks")
    orchestrator = make_assistant(f"Boss {unique}", assistant_ids=[sub])
    tool = f"transfer_to_helper_{unique}"
    res = client.assistants.chat(orchestrator, AssistantChatRequest(text=f'TOOL:{tool}:{json.dumps({"task": "say hi"})}'))
    assert res.generated == "Done: Echo: say hi"
    agents = [t for t in res.thoughts if t["author_type"] == "Agent"]
    assert len(agents) == 1
    assert agents[0]["author_name"] == f"Helper {unique}"
    assert agents[0]["message"] == "Echo: say hi"


def test_sub_assistant_save_rules(client, make_assistant, project, model, unique):
    from codemie_sdk.models.assistant import AssistantUpdateRequest

    a = make_assistant(f"Self {unique}")
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.update(a, AssistantUpdateRequest(name=f"Self {unique}", description="d", system_prompt="s", project=project, llm_model_type=model, assistant_ids=[a]))
    status, error = error_of(err)
    assert status == 400
    assert "Circular reference detected: An assistant cannot include itself as an inner assistant" in error["details"]
    with pytest.raises(requests.HTTPError) as err:
        make_assistant(f"Dangling {unique}", assistant_ids=["nope"])
    assert 'Invalid reference: Assistant with ID "nope" does not exist in the system' in error_of(err)[1]["details"]
    leaf = make_assistant(f"Leaf {unique}")
    middle = make_assistant(f"Middle {unique}", assistant_ids=[leaf])
    with pytest.raises(requests.HTTPError) as err:
        make_assistant(f"Top {unique}", assistant_ids=[middle])
    assert "Nested assistants aren't supported" in error_of(err)[1]["details"]


def test_builtin_subagent(client, make_assistant, unique):
    assistant_id = make_assistant(f"Generalist {unique}", enabled_builtin_subagents=["GENERAL_PURPOSE_SUBAGENT"])
    tool = "transfer_to___builtin__general_purpose_subagent"
    res = client.assistants.chat(assistant_id, AssistantChatRequest(text=f'TOOL:{tool}:{json.dumps({"task": "summarise"})}'))
    assert res.generated == "Done: Echo: summarise"
    assert [t["author_name"] for t in res.thoughts if t["author_type"] == "Agent"] == ["General Purpose"]


def test_virtual_assistant(client, model):
    before = len(client.conversations.list())
    res = client.assistants.ask_virtual(VirtualAssistantChatRequest(system_prompt="V", text="hi", llm_model_type=model))
    assert res.generated == "Echo: hi"
    assert client.assistants.ask_virtual(VirtualAssistantChatRequest(system_prompt="You are V.", text="SYSTEM?", llm_model_type=model)).generated == "System: You are V."
    assert len(client.conversations.list()) == before


def test_tool_call_approval_and_resume(client, other_client, make_assistant, unique):
    assert EVERYTHING.exists(), EVERYTHING
    assistant_id = make_assistant(
        f"Careful {unique}",
        mcp_servers=[MCPServerDetails(name="everything", description=None, enabled=True, config=MCPServerConfig(command="node", args=[str(EVERYTHING), "stdio"]))],
        tool_permissions=ToolPermissionsConfig(tool_call_policy="ask_for_approval"),
    )
    assert client.assistants.get(assistant_id).tool_permissions.tool_call_policy.value == "ask_for_approval"
    request = AssistantChatRequest(text=f'TOOL:echo:{json.dumps({"message": "approved"})}')
    paused = client.assistants.chat(assistant_id, request)
    assert "waiting for your approval" in paused.generated
    with pytest.raises(requests.HTTPError) as err:
        other_client.assistants.resume_tool_call(assistant_id, ToolCallResumeRequest(conversation_id=request.conversation_id, action="allow", stream=False))
    assert error_of(err)[0] == 403
    res = client.assistants.resume_tool_call(assistant_id, ToolCallResumeRequest(conversation_id=request.conversation_id, action="allow", stream=False))
    assert res.status_code == 200
    assert res.json()["generated"] == "Done: Echo: approved"
    with pytest.raises(requests.HTTPError) as err:
        client.assistants.resume_tool_call(assistant_id, ToolCallResumeRequest(conversation_id=request.conversation_id, action="allow", stream=False))
    status, error = error_of(err)
    assert (status, error["message"]) == (404, "No pending tool call")

    denied_request = AssistantChatRequest(text=f'TOOL:echo:{json.dumps({"message": "nope"})}')
    client.assistants.chat(assistant_id, denied_request)
    streamed = client.assistants.resume_tool_call(assistant_id, ToolCallResumeRequest(conversation_id=denied_request.conversation_id, action="deny"))
    assert streamed.status_code == 200
    chunks = [json.loads(line[5:]) for line in streamed.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    assert chunks[-1]["last"] is True
    assert chunks[-1]["generated"].startswith("Done: The user rejected this tool call")


def test_prompt_variables(client, make_assistant, unique):
    assistant_id = make_assistant(
        f"Templated {unique}",
        system_prompt="Team {{ team }} for {{ current_user }}",
        prompt_variables=[PromptVariable(key="team", default_value="core")],
    )
    assert client.assistants.chat(assistant_id, AssistantChatRequest(text="SYSTEM?")).generated == "System: Team core for Compat User"
