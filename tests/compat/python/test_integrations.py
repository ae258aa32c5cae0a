"""Integrations (IntegrationService) and webhooks (WebhookService) through the official SDK, unchanged."""

import pytest
import requests
from codemie_sdk.models.integration import (
    CredentialTypes,
    CredentialValues,
    Integration,
    IntegrationTestRequest,
    IntegrationTestResponse,
    IntegrationType,
    TypeOfIntegration,
)
from codemie_sdk.models.workflow import WorkflowCreateRequest

MASK = "**********"
YAML = """
assistants:
  - id: a
    system_prompt: "You react to events."
states:
  - id: react
    assistant_id: a
    task: "React"
    next:
      state_id: end
"""


def test_user_integration_crud_masks_secrets(client, project, unique):
    alias = f"compat-jira-{unique}"
    created = client.integrations.create(
        Integration(
            project_name=project,
            alias=alias,
            credential_type=CredentialTypes.JIRA,
            credential_values=[
                CredentialValues(key="url", value="https://jira.example.com"),
                CredentialValues(key="token", value="jira-secret-token"),
            ],
            setting_type=IntegrationType.USER,
        )
    )
    assert created["message"] == "Specified credentials saved"
    found = client.integrations.get_by_alias(alias)
    assert isinstance(found, Integration)
    assert found.credential_type == CredentialTypes.JIRA and found.project_name == project
    values = {v.key: v.value for v in found.credential_values}
    assert values == {"url": "https://jira.example.com", "token": MASK}
    assert client.integrations.get(found.id).alias == alias

    # Update what the SDK listed (masked token included): the stored token is kept, the url changes.
    found.credential_values = [
        CredentialValues(key="url", value="https://jira2.example.com"),
        CredentialValues(key="token", value=MASK),
    ]
    assert client.integrations.update(found.id, found)["message"] == "Specified credentials updated"
    again = client.integrations.get(found.id)
    assert {v.key: v.value for v in again.credential_values} == {"url": "https://jira2.example.com", "token": MASK}

    available = client.integrations.list_available()
    assert alias in [i.alias for i in available]
    assert client.integrations.list(filters={"credential_type": "Jira"})[0].credential_type == CredentialTypes.JIRA

    assert client.integrations.delete(found.id)["message"] == "Specified credential removed"
    with pytest.raises(Exception):
        client.integrations.get_by_alias(alias)


def test_project_integrations_and_transfer(admin_client, client, project, unique):
    alias = f"compat-llm-{unique}"
    admin_client.integrations.create(
        Integration(
            project_name=project,
            alias=alias,
            credential_type=CredentialTypes.LITE_LLM,
            credential_values=[CredentialValues(key="url", value="http://127.0.0.1:9"), CredentialValues(key="api_key", value="sk-x")],
            setting_type=IntegrationType.PROJECT,
        )
    )
    listed = admin_client.integrations.get_by_alias(alias, IntegrationType.PROJECT)
    assert {v.key: v.value for v in listed.credential_values}["api_key"] == MASK
    # A member of the project may pick it, not manage it.
    assert alias in [i.alias for i in client.integrations.list_available()]
    with pytest.raises(requests.exceptions.HTTPError) as exc:
        client.integrations.delete(listed.id, IntegrationType.PROJECT)
    assert exc.value.response.status_code == 403

    target = f"compat-target-{unique}"
    admin_client.projects.create_project(name=target, description="transfer target")
    moved = admin_client.integrations.transfer(
        project, target, "move", type_of_integration=TypeOfIntegration(project_integrations=True), integrations_list=[alias]
    )
    assert moved.transferred_count == 1 and moved.transferred[0].alias == alias
    assert moved.message == f"Transferred 1 integration(s) from '{project}' to '{target}'."
    assert admin_client.integrations.get(listed.id, IntegrationType.PROJECT).project_name == target
    with pytest.raises(requests.exceptions.HTTPError) as exc:
        admin_client.integrations.transfer(project, project, "copy")
    assert exc.value.response.status_code == 422
    admin_client.integrations.delete(listed.id, IntegrationType.PROJECT)


def test_integration_test_endpoint(client):
    ok = client.integrations.test(
        IntegrationTestRequest(credential_type="Webhook", credential_values=[]), IntegrationTestResponse
    )
    assert ok.success is True and ok.message
    with pytest.raises(requests.exceptions.HTTPError) as exc:
        client.integrations.test(
            IntegrationTestRequest(credential_type="LiteLLM", credential_values=[CredentialValues(key="url", value="http://127.0.0.1:9"), CredentialValues(key="api_key", value="k")]),
            IntegrationTestResponse,
        )
    assert exc.value.response.status_code == 400
    assert exc.value.response.json()["error"]["message"] == "Integration test failed"


def test_webhook_trigger_starts_workflow(client, project, unique):
    created = client.workflows.create_workflow(
        WorkflowCreateRequest(name=f"compat-hook-wf-{unique}", description="webhook target", project=project, yaml_config=YAML)
    )
    workflow_id = created["id"]
    webhook_id = f"compat-hook-{unique}"
    client.integrations.create(
        Integration(
            project_name=project,
            alias=f"hook-{unique}",
            credential_type=CredentialTypes.WEBHOOK,
            credential_values=[
                CredentialValues(key="webhook_id", value=webhook_id),
                CredentialValues(key="is_enabled", value=True),
                CredentialValues(key="resource_type", value="workflow"),
                CredentialValues(key="resource_id", value=workflow_id),
                CredentialValues(key="secure_header_name", value="X-Hook-Token"),
                CredentialValues(key="secure_header_value", value="hook-token-1"),
            ],
        )
    )
    try:
        res = client.webhook.trigger(webhook_id, {"event": "deploy"}, extra_headers={"X-Hook-Token": "hook-token-1"})
        assert res.status_code == 200, res.text
        body = res.json()
        assert body["message"] == "Webhook invoked successfully"
        run_id = body["data"]["run_id"]
        execution = client.workflows.executions(workflow_id).get(run_id)
        assert execution.execution_id == run_id or getattr(execution, "id", None) == run_id

        wrong = client.webhook.trigger(webhook_id, {"event": "deploy"}, extra_headers={"X-Hook-Token": "nope"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["message"] == "Invalid security header"
        unknown = client.webhook.trigger(f"missing-{unique}")
        assert unknown.status_code == 400
        assert unknown.json()["error"]["message"] == f"Webhook with ID 'missing-{unique}' not found or not enabled"
    finally:
        hook = client.integrations.get_by_alias(f"hook-{unique}")
        client.integrations.delete(hook.id)
        client.workflows.delete(workflow_id)
