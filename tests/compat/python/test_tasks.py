"""Background assistant calls and GET /v1/tasks/{id} (BackgroundTaskEntity)."""

import time

import pytest
from codemie_sdk.models.assistant import AssistantChatRequest, AssistantCreateRequest
from codemie_sdk.models.task import BackgroundTaskStatus


def test_background_task(client, project, model, unique):
    created = client.assistants.create(
        AssistantCreateRequest(
            name=f"compat-task-{unique}", description="d", system_prompt="s", project=project, llm_model_type=model
        )
    )
    assistant_id = created.assistant_id or next(
        a.id for a in client.assistants.list(per_page=100) if a.name == f"compat-task-{unique}"
    )
    try:
        res = client.assistants.chat(assistant_id, AssistantChatRequest(text="In the background", background_task=True))
        assert res.task_id, f"no taskId in {res}"
        deadline = time.time() + 30
        while True:
            task = client.tasks.get(res.task_id)
            assert task.id == res.task_id
            if task.status != BackgroundTaskStatus.STARTED:
                break
            if time.time() > deadline:
                pytest.fail("background task did not finish in 30 s")
            time.sleep(0.2)
        assert task.status == BackgroundTaskStatus.COMPLETED
        assert task.final_output == "Echo: In the background"
        assert task.user.user_id
    finally:
        client.assistants.delete(assistant_id)
