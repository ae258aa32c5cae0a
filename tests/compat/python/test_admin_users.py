"""Users through the unmodified SDK: client.users.* (me and admin), client.admin.*_user(s)."""

import json
import uuid

import pytest
import requests

from identity_support import PASSWORD, error_of, http_error, new_user


def test_about_me_and_data(client, settings):
    me = client.users.about_me()
    assert me.user_id and me.username == settings["username"] and me.is_admin is False
    assert settings["project"] in me.applications
    assert any(p.name == settings["project"] for p in me.projects)
    assert isinstance(me.picture, str)
    d = client.users.get_data()
    assert d.user_id == me.user_id and isinstance(d.id, str) and isinstance(d.date, str)
    assert client.users.get_data().id == d.id


def test_create_list_and_detail(admin_client, login, client):
    u = new_user(admin_client, login, "adm")
    assert error_of(lambda: admin_client.admin.create_local_user(email=u.email.upper(), username=f"x{u.username}", password=PASSWORD))[:2] == (409, "Email already registered")
    assert error_of(lambda: admin_client.admin.create_local_user(email=f"x{u.email}", username=u.username, password=PASSWORD))[:2] == (409, "Username already taken")
    assert http_error(lambda: admin_client.admin.create_local_user(email="short@example.com", username=f"s-{uuid.uuid4().hex[:6]}", password="short")).status_code == 422
    assert error_of(lambda: client.admin.create_local_user(email="n@example.com", username="nope-user", password=PASSWORD))[0] == 403

    page = admin_client.users.list_admin_users(search=u.username)
    assert [x.id for x in page.data] == [u.id] and page.pagination.total == 1
    row = page.data[0]
    assert row.is_active is True and row.is_admin is False and row.is_maintainer is False and row.projects == []
    assert admin_client.admin.list_users(search=u.username)[0].username == u.username

    detail = admin_client.users.get_admin_user(u.id)
    assert detail.email_verified is True and detail.auth_source == "local" and detail.project_limit == 3 and detail.projects == []
    assert error_of(lambda: admin_client.users.get_admin_user(str(uuid.uuid4())))[:2] == (404, "User not found")
    assert error_of(lambda: admin_client.users.list_admin_users(filters="not json"))[:2] == (400, "Invalid filters")
    assert error_of(lambda: client.users.list_admin_users())[0] == 403


def test_update_and_roles(admin_client, login):
    u = new_user(admin_client, login, "upd")
    assert admin_client.users.update_admin_user(u.id, name="N").name == "N"
    assert error_of(lambda: admin_client.users.update_admin_user(u.id, username="x"))[:2] == (400, "Username cannot be changed")
    assert error_of(lambda: admin_client.users.update_admin_user(u.id))[:2] == (400, "No fields to update")
    me = admin_client.users.about_me()
    assert error_of(lambda: admin_client.users.update_admin_user(me.user_id, is_admin=False))[:2] == (403, "Cannot revoke own admin status")
    promoted = admin_client.users.update_admin_user(u.id, is_admin=True)
    assert (promoted.is_admin, promoted.is_maintainer, promoted.project_limit) == (True, True, None)
    # The token the user already holds is an admin's now.
    assert u.client.users.about_me().is_admin is True
    assert isinstance(u.client.admin.list_applications(), list)
    demoted = admin_client.users.update_admin_user(u.id, is_admin=False, is_maintainer=False)
    assert (demoted.is_admin, demoted.project_limit) == (False, 3)
    assert http_error(lambda: u.client.admin.list_applications()).status_code == 403


def test_user_projects_and_default(admin_client, login):
    u = new_user(admin_client, login, "prj")
    proj = f"sdk-{uuid.uuid4().hex[:8]}"
    other = f"sdk-{uuid.uuid4().hex[:8]}"
    assert admin_client.users.assign_user_to_project(u.id, proj, True) == {"message": "Project access granted successfully"}
    admin_client.users.assign_user_to_project(u.id, other)
    assert error_of(lambda: admin_client.users.assign_user_to_project(u.id, proj))[:2] == (409, "User already has access to this project")
    admin_client.users.update_user_project_role(u.id, other, True)
    assert {p.project_name: p.is_project_admin for p in admin_client.users.get_user_projects(u.id)} == {proj: True, other: True}

    admin_client.users.set_default_project(u.id, proj)
    assert {p.name: p.is_default for p in admin_client.users.get_admin_user(u.id).projects} == {proj: True, other: False}
    admin_client.users.set_default_project(u.id, other)
    assert {p.project_name: p.is_default for p in admin_client.users.get_user_projects(u.id)} == {proj: False, other: True}
    admin_client.users.clear_default_project(u.id, other)
    assert not any(p.is_default for p in admin_client.users.get_user_projects(u.id))

    # The user sees exactly these projects.
    assert sorted(u.client.users.about_me().applications) == sorted([proj, other])
    assert sorted(x.name for x in u.client.projects.list_projects().data) == sorted([proj, other])
    admin_client.users.remove_user_from_project(u.id, other)
    assert error_of(lambda: admin_client.users.remove_user_from_project(u.id, other))[:2] == (404, "User does not have access to this project")
    assert u.client.users.about_me().applications == [proj]


def test_project_admin_sees_users_of_its_projects_only(admin_client, login):
    pam = new_user(admin_client, login, "pam")
    mate = new_user(admin_client, login, "mate")
    stranger = new_user(admin_client, login, "stranger")
    proj = f"sdk-{uuid.uuid4().hex[:8]}"
    pam.client.projects.create_project(proj)
    pam.client.projects.assign_user_to_project(proj, mate.id, False)
    assert pam.client.users.get_admin_user(mate.id).username == mate.username
    status, message, _ = error_of(lambda: pam.client.users.get_admin_user(stranger.id))
    assert (status, message) == (403, "User not found in your projects")
    assert error_of(lambda: mate.client.users.get_admin_user(pam.id))[:2] == (403, "Access denied")
    filtered = pam.client.users.list_admin_users(filters=json.dumps({"projects": [proj]}))
    assert sorted(x.id for x in filtered.data) == sorted([pam.id, mate.id])


def test_deactivate_and_reactivate(admin_client, login):
    u = new_user(admin_client, login, "deact")
    admin_client.users.deactivate_user(u.id)
    with pytest.raises(requests.HTTPError) as err:
        login(u.username, PASSWORD)
    assert err.value.response.status_code in (400, 401)  # Keycloak mode: 400 "Account disabled"; local login: 401
    assert http_error(lambda: u.client.users.about_me()).status_code == 401  # its live token is refused
    assert admin_client.users.list_admin_users(search=u.username).data == []
    assert admin_client.users.reactivate_user(u.id).is_active is True
    assert login(u.username, PASSWORD).users.about_me().user_id == u.id
    admin_client.admin.delete_user(u.id)
    assert admin_client.users.get_admin_user(u.id).is_active is False
