"""Workflows: create, run with tags and session id, poll executions and their states."""

import time

import pytest
from codemie_sdk.models.workflow import ExecutionStatus, Workflow, WorkflowCreateRequest, WorkflowMode, WorkflowUpdateRequest

YAML = """
assistants:
  - id: checker
    system_prompt: "You check deployments."
states:
  - id: check
    assistant_id: checker
    task: "Check the deployment"
    next:
      state_id: end
"""


def wait_finished(client, workflow_id, execution_id, timeout=30):
    deadline = time.time() + timeout
    while True:
        execution = client.workflows.executions(workflow_id).get(execution_id)
        if execution.status not in (ExecutionStatus.IN_PROGRESS, ExecutionStatus.NOT_STARTED):
            return execution
        if time.time() > deadline:
            pytest.fail(f"execution {execution_id} still {execution.status} after {timeout}s")
        time.sleep(0.2)


@pytest.fixture
def workflow(client, project, unique):
    name = f"compat-wf-{unique}"
    created = client.workflows.create_workflow(
        WorkflowCreateRequest(name=name, description="compat", project=project, yaml_config=YAML)
    )
    # {"message", "data": workflow}: the SDK unwraps "data"
    assert created["name"] == name and created["id"]
    found = [w for w in client.workflows.list(per_page=100, projects=[project]) if w.name == name]
    assert [w.id for w in found] == [created["id"]]
    wf = found[0]
    yield wf
    assert client.workflows.delete(wf.id)["message"]  # a JSON body, never an empty 204


def test_workflow_crud(client, workflow, project):
    wf = client.workflows.get(workflow.id)
    assert isinstance(wf, Workflow)
    assert wf.project == project
    assert wf.mode == WorkflowMode.SEQUENTIAL
    assert wf.yaml_config.strip() == YAML.strip()
    assert wf.created_by is not None and wf.created_by.user_id

    updated = client.workflows.update(
        wf.id,
        WorkflowUpdateRequest(name=wf.name + "-renamed", description="changed", project=project, yaml_config=YAML),
    )
    assert updated["name"] == wf.name + "-renamed"
    assert client.workflows.get(wf.id).name == wf.name + "-renamed"


def test_workflow_run_with_tags_and_session_id(client, workflow):
    started = client.workflows.run(
        workflow.id,
        user_input="Run deployment check",
        session_id="compat-session-1",
        tags=["experiment", "customer_X"],
    )
    execution_id = started.get("execution_id") or started.get("id")
    assert execution_id
    assert started.get("tags") == ["experiment", "customer_X"]
    assert started.get("session_id") == "compat-session-1"

    done = wait_finished(client, workflow.id, execution_id)
    assert done.status == ExecutionStatus.SUCCEEDED
    assert done.prompt == "Run deployment check"
    assert done.workflow_id == workflow.id
    assert done.created_by.user_id

    executions = client.workflows.executions(workflow.id).list()
    assert execution_id in [e.execution_id for e in executions]

    states = client.workflows.executions(workflow.id).states(execution_id).list()
    assert [s.name for s in states] == ["check"]
    assert states[0].status.value == "Succeeded"
    output = client.workflows.executions(workflow.id).states(execution_id).get_output(states[0].id)
    # the test LLM echoes the last user message: the state's task
    assert output.output == "Echo: Check the deployment"


def test_workflow_execution_delete(client, workflow):
    started = client.workflows.run(workflow.id, user_input="to be deleted")
    execution_id = started.get("execution_id") or started.get("id")
    wait_finished(client, workflow.id, execution_id)
    res = client.workflows.executions(workflow.id).delete(execution_id)
    assert res["message"]
    assert execution_id not in [e.execution_id for e in client.workflows.executions(workflow.id).list()]


def test_workflow_prebuilt_templates(client):
    templates = client.workflows.get_prebuilt()
    names = [t.name for t in templates]
    assert "Code Review Pipeline" in names and names == sorted(names)
    review = next(t for t in templates if t.name == "Code Review Pipeline")
    assert isinstance(review, Workflow) and review.id is None
    assert review.project and "states:" in review.yaml_config
    assert "engineering" in review.categories


def test_workflow_marketplace_publish_cycle(client, workflow):
    checked = client.workflows.marketplace_validate(workflow.id)
    assert checked["workflow_id"] == workflow.id and checked["inline_credentials"] == []
    published = client.workflows.publish(workflow.id, categories=["devops"])
    assert published["is_global"] is True and published["categories"] == ["devops"]
    unpublished = client.workflows.unpublish(workflow.id)
    assert unpublished["is_global"] is False
