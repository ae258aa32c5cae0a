"""Projects through the unmodified SDK: client.projects.* and client.admin.*_application(s)."""

import uuid

import pytest
from codemie_sdk.models.admin import ApplicationCreateRequest
from codemie_sdk.models.project import BulkAssignmentUserItem

from identity_support import error_of, http_error, new_user, raw

INVALID = (
    "Invalid project name. Must be 3-100 lowercase alphanumeric characters (underscore/hyphen allowed), cannot contain "
    "uppercase letters, cannot start with special character, and cannot use reserved names (admin, system, root, api, "
    "null, undefined, default, test, demo)"
)


def pname(prefix: str = "sdk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def owner(admin_client, login):
    """A non-admin user created through the API: it creates and administers the projects below."""
    u = new_user(admin_client, login, "owner")
    # It creates more shared projects than the default limit (3) allows.
    assert admin_client.users.update_admin_user(u.id, project_limit=50).project_limit == 50
    return u


@pytest.fixture(scope="module")
def member(admin_client, login):
    return new_user(admin_client, login, "member")


@pytest.fixture(scope="module")
def auditor(admin_client, login):
    u = new_user(admin_client, login, "auditor")
    updated = admin_client.users.update_admin_user(u.id, is_auditor=True)
    assert updated.is_admin is False
    return u


def test_a_user_created_through_the_api_creates_and_sees_only_its_projects(owner, member):
    name = pname()
    p = owner.client.projects.create_project(name, description="d", display_name="  Nice  ")
    assert p.name == name and p.project_type == "shared" and p.created_by == owner.id
    assert p.display_name == "Nice" and p.enforce_member_spend_limits is False and p.chargeback_attribution == "project"
    assert p.created_at.year >= 2024

    me = owner.client.users.about_me()
    assert name in me.applications and name in me.applications_admin and me.is_admin is False
    assert any(x.name == name and x.is_project_admin for x in me.projects)

    lst = owner.client.projects.list_projects(search=name)
    assert [x.name for x in lst.data] == [name]
    item = lst.data[0]
    assert (item.user_count, item.admin_count, item.spending) == (1, 1, None)
    assert item.counters is not None and item.counters.assistants_count == 0 and item.counters.skills_count == 0
    assert (lst.pagination.total, lst.pagination.page, lst.pagination.per_page) == (1, 0, 20)
    assert all(x.counters is None for x in owner.client.projects.list_projects(include_counters=False).data)

    det = owner.client.projects.get_project_detail(name)
    assert [(m.user_id, m.is_project_admin) for m in det.members] == [(owner.id, True)]

    # Another user does not see it at all.
    assert member.client.projects.list_projects(search=name).data == []
    assert error_of(lambda: member.client.projects.get_project_detail(name))[:2] == (404, "Project not found")
    assert error_of(lambda: member.client.projects.delete_project(name))[:2] == (404, "Project not found")
    assert error_of(lambda: member.client.projects.assign_user_to_project(name, member.id, True))[:2] == (404, "Project not found")


def test_the_project_limit(admin_client, login):
    u = new_user(admin_client, login, "limited")
    for _ in range(3):
        u.client.projects.create_project(pname())
    assert error_of(lambda: u.client.projects.create_project(pname()))[:2] == (
        403,
        "Project creation limit reached (3/3). Contact administrator to increase your limit.",
    )
    admin_client.users.update_admin_user(u.id, project_limit=5)
    assert u.client.projects.create_project(pname()).created_by == u.id


def test_names_and_inputs_are_checked_with_the_reference_texts(owner, settings):
    c = owner.client.projects
    for bad, status, message in [
        ("ab", 400, "Project name must be at least 3 characters"),
        ("a" * 101, 400, "Project name cannot exceed 100 characters"),
        ("Bad", 400, INVALID),
        ("-x1", 400, INVALID),
        ("a b", 400, INVALID),
        ("demo", 400, "Project name 'demo' is reserved and cannot be used"),
        ("admin", 400, "Project name 'admin' is reserved and cannot be used"),
    ]:
        assert error_of(lambda: c.create_project(bad))[:2] == (status, message), bad
    assert error_of(lambda: c.create_project(pname(), description="   "))[:2] == (400, "Project description is required")
    assert error_of(lambda: c.create_project(pname(), description="x" * 501))[:2] == (400, "Project description cannot exceed 500 characters")
    # The SDK refuses a 151-character display name itself: ask the API directly.
    res = raw(owner.client, settings, "POST", "/v1/projects", json={"name": pname(), "display_name": "d" * 151})
    assert res.status_code == 400 and res.json()["error"]["message"] == "Project display name cannot exceed 150 characters"

    name = pname()
    c.create_project(name)
    assert error_of(lambda: c.create_project(name))[:2] == (409, f"Project '{name}' already exists. Please choose a different name.")
    assert http_error(lambda: c.list_projects(per_page=5)).status_code == 422


def test_membership_single_bulk_and_csv(owner, member, admin_client, login):
    name = pname()
    owner.client.projects.create_project(name)
    other = pname()
    owner.client.projects.create_project(other)
    third = new_user(admin_client, login, "third")

    a = owner.client.projects.assign_user_to_project(name, member.id, False)
    assert (a.message, a.user_id, a.project_name, a.is_project_admin) == ("User assigned to project successfully", member.id, name, False)
    # The new member sees the project at once, and only it.
    assert [x.name for x in member.client.projects.list_projects(search=name).data] == [name]
    assert member.client.projects.list_projects(search=other).data == []
    status, message, details = error_of(lambda: owner.client.projects.assign_user_to_project(name, member.id, False))
    assert (status, message, details) == (409, "User already assigned to project", f"User '{member.id}' is already a member of project '{name}'")

    # A plain member may not manage; a project admin manages only its project.
    assert error_of(lambda: member.client.projects.update_project(name, description="x"))[:2] == (403, "Access denied")
    u = owner.client.projects.update_user_project_assignment(name, member.id, True)
    assert (u.message, u.is_project_admin) == ("User role updated successfully", True)
    assert member.client.projects.update_project(name, description="by the project admin").description == "by the project admin"
    assert member.client.projects.assign_user_to_project(name, third.id, False).is_project_admin is False
    assert error_of(lambda: member.client.projects.update_project(other, description="x"))[:2] == (404, "Project not found")
    assert error_of(lambda: member.client.projects.assign_user_to_project(other, third.id, False))[:2] == (404, "Project not found")

    r = owner.client.projects.remove_user_from_project(name, third.id)
    assert (r.message, r.is_project_admin) == ("User removed from project successfully", None)
    assert error_of(lambda: owner.client.projects.remove_user_from_project(name, third.id))[:2] == (404, "User is not assigned to this project")
    assert error_of(lambda: owner.client.projects.remove_user_from_project(name, owner.id))[:2] == (400, "Cannot remove the project creator from the project")
    assert error_of(lambda: owner.client.projects.assign_user_to_project(name, str(uuid.uuid4()), False))[:2] == (404, "User not found")
    assert error_of(lambda: owner.client.projects.assign_user_to_project(name, "not-a-uuid", False))[:2] == (400, "Invalid user_id format")

    bulk = owner.client.projects.bulk_assign_users_to_project(
        name, [BulkAssignmentUserItem(user_id=member.id, is_project_admin=False), BulkAssignmentUserItem(user_id=third.id, is_project_admin=False)]
    )
    assert bulk.total == 2 and [x.action for x in bulk.results] == ["updated", "assigned"]
    dup = [BulkAssignmentUserItem(user_id=third.id, is_project_admin=True), BulkAssignmentUserItem(user_id=third.id, is_project_admin=False)]
    assert error_of(lambda: owner.client.projects.bulk_assign_users_to_project(name, dup))[:2] == (400, "Duplicate user IDs in request")
    removed = owner.client.projects.bulk_remove_users_from_project(name, [member.id, third.id])
    assert removed.message == "Bulk removal completed: 2 users removed" and [x.action for x in removed.results] == ["removed", "removed"]
    status, message, _ = error_of(lambda: owner.client.projects.bulk_remove_users_from_project(name, [member.id]))
    assert (status, message) == (404, "One or more users are not assigned to this project")

    csv = f"email,role\n{member.email.upper()},project_admin\nnobody-{uuid.uuid4().hex[:6]}@example.com,user\n{third.email},user\n".encode()
    rows = owner.client.projects.validate_users_from_csv(name, csv).users
    assert [(x.email, x.role, x.error is None) for x in rows] == [(member.email, "project_admin", True), (rows[1].email, "user", False), (third.email, "user", True)]
    assert rows[1].error == f"User not found for email: '{rows[1].email}'"
    res = http_error(lambda: owner.client.projects.import_users_from_csv(name, csv))
    assert res.status_code == 422 and res.json()["error"]["details"] == {"validation_errors": [{"row": 2, "reason": rows[1].error}]}
    assert owner.client.projects.get_project_detail(name).user_count == 1
    assert error_of(lambda: owner.client.projects.validate_users_from_csv(name, b"name\nx\n")) == (422, "CSV validation failed", "CSV must contain an 'email' column")
    imported = owner.client.projects.import_users_from_csv(name, f"email,role\n{member.email},project_admin\n{third.email},user\n".encode())
    assert imported.message == "CSV import completed: 2 users processed"
    members = {m.user_id: m.is_project_admin for m in owner.client.projects.get_project_detail(name).members}
    assert members == {owner.id: True, member.id: True, third.id: False}


def test_update_delete_and_ownership(owner, member, admin_client):
    name = pname()
    c = owner.client.projects
    c.create_project(name, description="first")
    assert c.update_project(name, description="new").description == "new"
    assert c.update_project(name, display_name="X").display_name == "X"
    assert http_error(lambda: c.update_project(name)).json()["error"]["message"] == "request: Value error, At least one mutable field must be provided"
    assert error_of(lambda: c.update_project(name, name=name + "-2"))[:2] == (409, "Project name cannot be changed while users are assigned to it")

    c.assign_user_to_project(name, member.id, False)
    status, message, details = error_of(lambda: c.delete_project(name))
    assert (status, message, details) == (409, f"Project '{name}' cannot be deleted because it has assigned users. Remove all users first.", "Assigned users: 1")

    t = c.transfer_ownership(name, member.id)
    assert (t.name, t.created_by) == (name, member.id)
    assert {m.user_id: m.is_project_admin for m in c.get_project_detail(name).members}[member.id] is True
    assert error_of(lambda: c.transfer_ownership(name, str(uuid.uuid4())))[:2] == (404, "User not found")

    # The new owner removes the old one and deletes the project.
    member.client.projects.remove_user_from_project(name, owner.id)
    d = member.client.projects.delete_project(name)
    assert (d.message, d.name) == (f"Project '{name}' deleted successfully", name)
    assert error_of(lambda: admin_client.projects.get_project_detail(name))[:2] == (404, "Project not found")


def test_a_project_with_an_assistant_cannot_be_deleted(owner, settings):
    name = pname()
    owner.client.projects.create_project(name)
    res = raw(owner.client, settings, "POST", "/v1/assistants", json={"name": "Blocker", "description": "d", "system_prompt": "s", "project": name})
    assert res.status_code == 200, res.text
    assert owner.client.projects.list_projects(search=name).data[0].counters.assistants_count == 1
    status, message, details = error_of(lambda: owner.client.projects.delete_project(name))
    assert status == 409 and message.startswith(f"Project '{name}' cannot be deleted because it has assigned resources.")
    assert "assistants_count" in details


def test_admin_applications(admin_client, client):
    name = pname("sdk-app")
    assert name in admin_client.admin.create_application(ApplicationCreateRequest(name=name))
    assert name in admin_client.admin.list_applications()
    assert admin_client.admin.list_applications(name)[0] == name
    assert error_of(lambda: admin_client.admin.create_application(ApplicationCreateRequest(name=name.upper())))[:2] == (
        409,
        f"Application '{name}' already exists. Please choose a different name.",
    )
    assert error_of(lambda: client.admin.list_applications()) == (403, "Access denied", "This action requires administrator or maintainer privileges.")


def test_an_auditor_reads_every_project_and_writes_nothing(auditor, owner, admin_client, settings):
    name = pname()
    owner.client.projects.create_project(name, description="audited")
    assert [x.name for x in auditor.client.projects.list_projects(search=name).data] == [name]
    assert auditor.client.projects.get_project_detail(name).members[0].user_id == owner.id
    assert auditor.client.users.get_admin_user(owner.id).username == owner.username
    assert any(u.id == owner.id for u in auditor.client.users.list_admin_users(search=owner.username).data)
    assert raw(auditor.client, settings, "GET", "/v1/admin/audit").status_code == 200

    for call in [
        lambda: auditor.client.projects.update_project(name, description="x"),
        lambda: auditor.client.projects.delete_project(name),
        lambda: auditor.client.projects.assign_user_to_project(name, auditor.id, True),
        lambda: auditor.client.admin.create_application(ApplicationCreateRequest(name=pname("aud"))),
        lambda: auditor.client.admin.create_local_user(email="x@example.com", username="x-aud", password="long-enough-password"),
        lambda: auditor.client.users.update_admin_user(owner.id, name="x"),
        lambda: auditor.client.dynamic_config.set("AUDITOR_WRITE", True),
        lambda: auditor.client.customer_config.save_setting("banner", {"enabled": True, "message": "x", "linkLabel": "", "linkRoute": ""}),
    ]:
        assert http_error(call).status_code == 403
    assert owner.client.projects.get_project_detail(name).description == "audited"
