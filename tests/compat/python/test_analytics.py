"""Usage analytics, budgets and activity events through the unmodified SDK (analytics, activity_events services).

The numbers asserted are what the test itself did: tokens the calls reported (tokensUsed), calls made,
assistants created with a unique name. The suite runs once per auth mode against the same server, so
totals are compared before and after the test's own calls."""

import pytest
import requests
from codemie_sdk.models.analytics import AnalyticsQueryParams, PaginatedAnalyticsQueryParams
from codemie_sdk.models.assistant import AssistantChatRequest

from assistants_support import admin_client, error_of, make_assistant, other_client, raw  # noqa: F401


def metric(summary, metric_id):
    return next(m.value for m in summary.data.metrics if m.id == metric_id)


def me(client):
    users = client.analytics.get_users(AnalyticsQueryParams(time_period="last_year")).data.users
    return users


def test_calls_show_in_summaries_and_tables(client, admin_client, make_assistant, unique):
    name = f"Counted {unique}"
    assistant_id = make_assistant(name)
    q = AnalyticsQueryParams(time_period="last_24_hours")
    before = client.analytics.get_summaries(q)
    used = []
    for text in ["first question", "second question here"]:
        res = client.assistants.chat(assistant_id, AssistantChatRequest(text=text))
        assert res.generated == f"Echo: {text}"
        used.append(res.tokens_used)
    after = client.analytics.get_summaries(q)
    assert metric(after, "total_tokens") - metric(before, "total_tokens") == sum(used)
    assert metric(after, "total_input_tokens") + metric(after, "total_output_tokens") - metric(before, "total_input_tokens") - metric(before, "total_output_tokens") == sum(used)
    assert after.metadata.filters_applied["time_period"] == "last_24_hours"

    chats = client.analytics.get_assistants_chats(PaginatedAnalyticsQueryParams(time_period="last_24_hours", per_page=1000))
    row = next(r for r in chats.data.rows if r["assistant"] == name)
    assert row["total_chats"] == 2
    assert row["total_messages"] == 2
    assert row["unique_users"] == 1
    assert row["success_ops"] == 2
    assert row["total_errors"] == 0
    assert row["total_tokens"] == sum(used)
    assert [c.id for c in chats.data.columns][:3] == ["assistant", "total_chats", "total_messages"]
    assert chats.pagination.total_count >= 1

    agents = client.analytics.get_agents_usage(PaginatedAnalyticsQueryParams(time_period="last_24_hours", per_page=1000))
    assert next(r for r in agents.data.rows if r["assistant_name"] == name)["total_conversations"] == 2

    llms = client.analytics.get_llms_usage(PaginatedAnalyticsQueryParams(time_period="last_24_hours"))
    assert any(r["model_name"] == "test-model" and r["total_requests"] >= 2 for r in llms.data.rows)

    # A plain user sees their own usage only; the admin sees everyone's.
    mine = client.analytics.get_users_spending(PaginatedAnalyticsQueryParams(time_period="last_24_hours"))
    assert len(mine.data.rows) == 1
    assert mine.data.totals["total_cost_usd"] == round(mine.data.rows[0]["total_cost_usd"], 2)
    users = me(client)
    assert len(users) == 1
    everyone = admin_client.analytics.get_users_spending(PaginatedAnalyticsQueryParams(time_period="last_24_hours", per_page=1000))
    assert mine.data.rows[0] in everyone.data.rows
    activity = client.analytics.get_users_activity(PaginatedAnalyticsQueryParams(time_period="last_24_hours"))
    assert activity.data.rows[0]["user_email"] == mine.data.rows[0]["user_email"]
    assert activity.data.rows[0]["assistant_tokens"] >= sum(used)
    projects = client.analytics.get_projects_activity(PaginatedAnalyticsQueryParams(time_period="last_24_hours", projects="compat-demo"))
    assert [r["project_name"] for r in projects.data.rows] == ["compat-demo"]


def test_every_tabular_endpoint_answers_in_the_reference_shape(client):
    p = PaginatedAnalyticsQueryParams(time_period="last_7_days", page=0, per_page=5)
    for fn in [
        client.analytics.get_workflows,
        client.analytics.get_tools_usage,
        client.analytics.get_webhooks_invocation,
        client.analytics.get_mcp_servers,
        client.analytics.get_mcp_servers_by_users,
        client.analytics.get_projects_spending,
        client.analytics.get_budget_soft_limit,
        client.analytics.get_budget_hard_limit,
    ]:
        res = fn(p)
        assert res.pagination.page == 0 and res.pagination.per_page == 5
        assert res.pagination.has_more == (res.pagination.total_count > 5)
        assert len(res.data.rows) <= 5
        assert res.data.columns


def test_bad_time_period_is_400(client):
    with pytest.raises(requests.HTTPError) as err:
        client.analytics.get_summaries(AnalyticsQueryParams(time_period="last_century"))
    status, error = error_of(err)
    assert status == 400
    assert error["message"] == "Invalid request parameters"
    assert "Invalid time_period: 'last_century'" in error["details"]


def test_hard_budget_stops_the_next_call_and_is_logged(client, admin_client, make_assistant, project, unique):
    assistant_id = make_assistant(f"Budgeted {unique}")
    created = raw(
        admin_client,
        "POST",
        "/v1/admin/project-budgets",
        json={
            "budget_id": f"compat-{unique}",
            "project_name": project,
            "budget_category": "platform",
            "name": f"Compat budget {unique}",
            "soft_budget": 0,
            "max_budget": 0.000000001,
            "budget_duration": "30d",
        },
    )
    assert created.status_code == 201, created.text
    budget_id = created.json()["budget_id"]
    try:
        # Nothing spent in the new period: the first call runs; it spends more than the budget.
        assert client.assistants.chat(assistant_id, AssistantChatRequest(text="within budget")).generated == "Echo: within budget"
        with pytest.raises(requests.HTTPError) as err:
            client.assistants.chat(assistant_id, AssistantChatRequest(text="over budget"))
        status, error = error_of(err)
        assert status == 400
        assert error["message"] == "Your LLM usage budget has been exceeded. Please contact your administrator to increase the limit."
        assert error["details"].startswith("Budget has been exceeded: Your current spending: ")

        hard = admin_client.analytics.get_budget_hard_limit(PaginatedAnalyticsQueryParams(time_period="last_24_hours", per_page=1000))
        email = me(client)[0].name
        assert email in [r["user_email"] for r in hard.data.rows]
        assert [c.id for c in hard.data.columns] == ["user_email", "max_spent"]
    finally:
        assert raw(admin_client, "DELETE", f"/v1/admin/project-budgets/{budget_id}").status_code == 204
    # The budget is gone: calls run again.
    assert client.assistants.chat(assistant_id, AssistantChatRequest(text="after budget")).generated == "Echo: after budget"

    events = admin_client.activity_events.list_events(domain=["budget_management"], entity_id=budget_id, sort_dir="asc")
    assert [e.event_type for e in events.data] == ["budget.project_budget.created", "budget.hard_limit.reached", "budget.project_budget.deleted"]
    assert events.pagination.total == 3
    assert all(e.domain == "budget_management" and e.entity_type == "project_budget" and e.entity_id == budget_id for e in events.data)
    assert events.data[0].actor_name == "admin" or events.data[0].actor_email
    assert events.data[0].attributes["project"] == project
    options = admin_client.activity_events.get_filter_options()
    assert "budget_management" in options.domains
    assert "budget.project_budget.created" in options.event_types
    # Only administrators (and auditors) read the activity log.
    with pytest.raises(requests.HTTPError) as err:
        client.activity_events.list_events()
    assert error_of(err)[0] == 403


def test_activity_events_paging(admin_client):
    page = admin_client.activity_events.list_events(limit=2, offset=0, sort_dir="desc")
    assert page.pagination.per_page == 2
    assert len(page.data) <= 2
    if page.pagination.total > 2:
        nxt = admin_client.activity_events.list_events(limit=2, offset=2, sort_dir="desc")
        assert nxt.pagination.page == 1
        assert {e.id for e in nxt.data}.isdisjoint({e.id for e in page.data})
        assert page.data[0].created_at >= nxt.data[0].created_at
