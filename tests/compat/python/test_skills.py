"""Skills through the unmodified SDK's SkillService: CRUD, categories, users, config, import/export,
companion files, attaching to assistants, reactions, marketplace, the event log and its stats,
instructions drafted by the model."""

import base64

import pytest
import requests
from codemie_sdk.models.skill import (
    SkillCompanionFilePayload,
    SkillCreateRequest,
    SkillEventRequest,
    SkillImportRequest,
    SkillUpdateRequest,
    SkillVisibility,
)

from assistants_support import error_of, make_assistant, other_client  # noqa: F401

CONTENT = "# Compat skill\n\n" + "Check status codes, response shapes and error envelopes before anything else. " * 3


def test_skill_crud_and_listing(client, other_client, project, unique):
    name = f"compat-skill-{unique}"
    created = client.skills.create(
        SkillCreateRequest(name=name, description="A skill made by the compat suite", content=CONTENT, project=project, categories=["testing"])
    )
    try:
        assert created.name == name
        assert created.visibility == SkillVisibility.PROJECT
        assert created.categories == ["testing"]
        assert created.content == CONTENT
        assert created.created_by is not None and created.created_date is not None

        got = client.skills.get(created.id)
        assert (got.id, got.description, got.project) == (created.id, "A skill made by the compat suite", project)

        updated = client.skills.update(created.id, SkillUpdateRequest(description="Updated by the compat suite", categories=["testing", "devops"]))
        assert updated.description == "Updated by the compat suite"
        assert updated.categories == ["testing", "devops"]
        assert updated.updated_date is not None

        page = client.skills.list(per_page=50, filters={"search": unique})
        assert page.total == 1 and page.pages == 1 and page.per_page == 50
        assert [s.id for s in page.skills] == [created.id]

        with pytest.raises(requests.HTTPError) as err:
            client.skills.create(SkillCreateRequest(name=name, description="A duplicate of the skill", content=CONTENT, project=project))
        status, body = error_of(err)
        assert status == 409 and body["message"] == "Skill name already exists"

        # Someone outside the project may not read a project skill.
        with pytest.raises(requests.HTTPError) as err:
            other_client.skills.get(created.id)
        assert error_of(err)[0] == 403

        categories = client.skills.list_categories()
        assert any(c.value == "code_review" and c.label == "Code Review" for c in categories)
        assert any(u["user_id"] == created.created_by.user_id for u in client.skills.get_users())
        config = client.skills.get_config()
        assert (config.max_content_length, config.min_content_length) == (30000, 100)
    finally:
        assert client.skills.delete(created.id) == {}
    with pytest.raises(requests.HTTPError) as err:
        client.skills.get(created.id)
    assert error_of(err)[0] == 404


def test_skill_import_export_and_companion_files(client, project, unique):
    name = f"imported-{unique}"
    md = f"---\nname: {name}\ndescription: Imported through the SDK\n---\n\n{CONTENT}"
    imported = client.skills.import_skill(
        SkillImportRequest(file_content=base64.b64encode(md.encode()).decode(), filename="SKILL.md", project=project)
    )
    try:
        assert imported.name == name and imported.description == "Imported through the SDK"
        assert imported.content == CONTENT.strip()
        exported = client.skills.export(imported.id)
        assert exported.startswith(f"---\nname: {name}\ndescription: Imported through the SDK\n---\n")

        with_files = client.skills.update(
            imported.id,
            SkillUpdateRequest(companion_files=[SkillCompanionFilePayload(path="references/guide.md", content="# Guide")]),
        )
        assert [f.path for f in with_files.companion_files] == ["references/guide.md"]
        meta = client.skills.list_companion_files(imported.id)
        assert meta[0].size_bytes == 7 and meta[0].mime_type == "text/markdown"
        f = client.skills.get_companion_file(imported.id, "references/guide.md")
        assert f.content == "# Guide"

        with pytest.raises(requests.HTTPError) as err:
            client.skills.import_skill(SkillImportRequest(file_content=base64.b64encode(b"no frontmatter").decode(), filename="x.md", project=project))
        status, body = error_of(err)
        assert status == 400 and body["details"] == "File must start with YAML frontmatter (---)"
    finally:
        client.skills.delete(imported.id)


def test_skill_assistants_reactions_marketplace(client, other_client, make_assistant, project, unique):
    skill = client.skills.create(SkillCreateRequest(name=f"attach-{unique}", description="Attached by the compat suite", content=CONTENT, project=project))
    try:
        assistant_id = make_assistant(f"Skilled {unique}")
        assert client.skills.attach_to_assistant(assistant_id, skill.id) == {"message": "Skill attached successfully"}
        attached = client.skills.get_assistant_skills(assistant_id)
        assert [s.id for s in attached] == [skill.id]
        assert attached[0].is_attached is True
        assert [a["id"] for a in client.skills.get_skill_assistants(skill.id)] == [assistant_id]
        bulk = client.skills.bulk_attach_to_assistants(skill.id, [assistant_id, "missing-assistant"])
        assert (bulk["success_count"], bulk["total_requested"]) == (0, 2)
        assert bulk["failures"] == [{"assistant_id": "missing-assistant", "reason": "Assistant not found with ID 'missing-assistant'"}]
        assert client.skills.detach_from_assistant(assistant_id, skill.id) == {"message": "Skill detached successfully"}
        assert client.skills.get_assistant_skills(assistant_id) == []

        liked = client.skills.react(skill.id, "like")
        assert (liked["reaction"], liked["like_count"]) == ("like", 1)
        assert client.skills.remove_reactions(skill.id)["like_count"] == 0

        published = client.skills.publish(skill.id, categories=["devops"])
        assert published["message"] == f"Skill {skill.id} published to marketplace successfully"
        assert other_client.skills.get(skill.id).categories == ["devops"]
        client.skills.unpublish(skill.id)
        with pytest.raises(requests.HTTPError) as err:
            other_client.skills.get(skill.id)
        assert error_of(err)[0] == 403
    finally:
        client.skills.delete(skill.id)


def test_skill_events_and_stats(client, unique):
    slug = f"cli-skill-{unique}"
    done = client.skills.record_event(SkillEventRequest(session_id=unique, command="add", status="completed", skill_slug=slug, target_agents=["claude"]))
    assert done["success"] is True and done["message"] == "Skill event 'add/completed' recorded"
    client.skills.record_event(SkillEventRequest(session_id=unique, command="remove", status="completed", skill_slug=slug))
    events = client.skills.get_events(limit=1000)
    mine = [e for e in events if e.skill_slug == slug]
    assert sorted(e.command for e in mine) == ["add", "remove"]
    assert any(e.target_agents == ["claude"] for e in mine)
    stats = client.skills.get_events_stats(limit=1000)
    row = next(s for s in stats if s.skill_slug == slug)
    assert (row.installs, row.removals, row.by_agent) == (1, 1, {"codemie-skills": 1})
    single = client.skills.get_skill_stats(slug)
    assert (single.installs, single.removals) == (1, 1)


def test_skill_instructions_generate(client, model):
    out = client.skills.generate_instructions("Reviewing pull requests for security issues", skill_name="security-review", llm_model=model)
    assert out["instructions"]
    assert out["metadata"]["model"] == model and out["metadata"]["mode"] == "generate"
