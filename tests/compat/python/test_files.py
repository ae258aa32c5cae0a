"""Files: upload_file_to_chat, files.bulk_upload, files.get_file, and uploaded files attached to an
assistant call (file_names) and a workflow run (file_name)."""

import base64
import time
from pathlib import Path

import pytest
import requests
from codemie_sdk.models.assistant import AssistantChatRequest, AssistantCreateRequest
from codemie_sdk.models.workflow import ExecutionStatus, WorkflowCreateRequest

YAML = """
assistants:
  - id: reader
    system_prompt: "You read files."
states:
  - id: read
    assistant_id: reader
    task: "Files {{file_names}}"
    next:
      state_id: end
"""


@pytest.fixture
def notes(tmp_path: Path, unique) -> Path:
    p = tmp_path / f"notes-{unique}.txt"
    p.write_text("KIWI-314 is the answer\n", encoding="utf-8")
    return p


def test_upload_get_and_bulk(client, notes, tmp_path):
    uploaded = client.assistants.upload_file_to_chat(notes)
    file_url = uploaded["file_url"]
    assert base64.urlsafe_b64decode(file_url + "=" * (-len(file_url) % 4)).decode().endswith("/" + notes.name)
    assert client.files.get_file(file_url) == notes.read_bytes()

    second = tmp_path / "data.json"
    second.write_text('{"a": 1}', encoding="utf-8")
    bulk = client.files.bulk_upload([notes, second])
    assert len(bulk.files) == 2 and not bulk.failed_files
    assert client.files.get_file(bulk.files[1].file_url) == b'{"a": 1}'

    with pytest.raises(requests.HTTPError) as err:
        client.files.get_file(base64.urlsafe_b64encode(b"00000000-0000-4000-8000-000000000000/x.txt").decode())
    assert err.value.response.status_code == 404


def test_assistant_call_with_file(client, project, model, unique, notes):
    created = client.assistants.create(
        AssistantCreateRequest(
            name=f"compat-files-{unique}", description="files", system_prompt="You read files.",
            project=project, llm_model_type=model,
        )
    )
    assistant_id = created.assistant_id or [
        a for a in client.assistants.list(per_page=100, filters={"search": f"compat-files-{unique}"})
    ][0].id
    try:
        file_url = client.assistants.upload_file_to_chat(notes)["file_url"]
        res = client.assistants.chat(assistant_id, AssistantChatRequest(text="Read it", file_names=[file_url], stream=False))
        # the test LLM echoes the last user message: the text plus the file's content
        assert res.generated.startswith("Echo: Read it")
        assert "KIWI-314 is the answer" in res.generated
        with pytest.raises(requests.HTTPError) as err:
            client.assistants.chat(assistant_id, AssistantChatRequest(text="x", file_names=["not-uploaded.txt"], stream=False))
        assert err.value.response.status_code == 400
        assert "not-uploaded.txt" in err.value.response.json()["error"]["details"]
    finally:
        client.assistants.delete(assistant_id)


def test_workflow_run_with_file(client, project, unique, notes):
    name = f"compat-files-wf-{unique}"
    created = client.workflows.create_workflow(WorkflowCreateRequest(name=name, description="files", project=project, yaml_config=YAML))
    wid = created["id"]
    try:
        file_url = client.assistants.upload_file_to_chat(notes)["file_url"]
        started = client.workflows.run(wid, user_input="go", file_name=file_url)
        execution_id = started.get("execution_id") or started.get("id")
        deadline = time.time() + 30
        while True:
            execution = client.workflows.executions(wid).get(execution_id)
            if execution.status not in (ExecutionStatus.IN_PROGRESS, ExecutionStatus.NOT_STARTED):
                break
            assert time.time() < deadline, "execution did not finish"
            time.sleep(0.2)
        assert execution.status == ExecutionStatus.SUCCEEDED
        states = client.workflows.executions(wid).states(execution_id).list()
        output = client.workflows.executions(wid).states(execution_id).get_output(states[0].id)
        # the context store's file_names (original names) rendered into the task
        assert output.output == f'Echo: Files ["{notes.name}"]'
        with pytest.raises(requests.HTTPError) as err:
            client.workflows.run(wid, user_input="go", file_name="not-uploaded.txt")
        assert err.value.response.status_code == 400
    finally:
        client.workflows.delete(wid)
