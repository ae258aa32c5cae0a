"""Every conversation method of the official SDK (client.conversations) against the server:
create/update/get_files, folders, history import and edits, share links (a read-only snapshot that
opens without a token), feedback, finishing (owner, admin bulk, admin list), delete_all.

Needs a second user and an admin (CODEMIE_OTHER_USERNAME/PASSWORD, CODEMIE_ADMIN_USERNAME/PASSWORD;
tests/compat/python-sdk.test.ts sets them)."""

import os
import re
import uuid
from datetime import datetime, timezone

import pytest
import requests
from codemie_sdk import CodeMieClient
from codemie_sdk.models.assistant import AssistantChatRequest, AssistantCreateRequest
from codemie_sdk.models.conversation import (
    AdminConversationListResponse,
    ConversationCreateRequest,
    ConversationDetails,
    ConversationFinishBulkResponse,
    ConversationFinishResponse,
    ConversationFolder,
    ConversationShareResponse,
    FeedbackCreateRequest,
    FeedbackDeleteRequest,
    FeedbackMark,
    HistoryItem,
    SharedConversationResponse,
    UpdateConversationFolderRequest,
    UpdateConversationRequest,
    UpdateHistoryByIndexRequest,
    UpsertHistoryRequest,
)


def _client(settings, user_var: str, password_var: str) -> CodeMieClient:
    username, password = os.environ.get(user_var), os.environ.get(password_var)
    if not username or not password:
        pytest.fail(f"{user_var}/{password_var} are required (tests/compat/python-sdk.test.ts sets them)")
    return CodeMieClient(
        auth_server_url=settings["auth_url"],
        auth_realm_name=settings["realm"],
        codemie_api_domain=settings["api_url"],
        username=username,
        password=password,
    )


@pytest.fixture(scope="module")
def other_client(settings) -> CodeMieClient:
    return _client(settings, "CODEMIE_OTHER_USERNAME", "CODEMIE_OTHER_PASSWORD")


@pytest.fixture(scope="module")
def admin_client(settings) -> CodeMieClient:
    return _client(settings, "CODEMIE_ADMIN_USERNAME", "CODEMIE_ADMIN_PASSWORD")


@pytest.fixture
def assistant_id(client, project, model, unique):
    name = f"compat-convsdk-{unique}"
    created = client.assistants.create(
        AssistantCreateRequest(name=name, description="d", system_prompt="s", project=project, llm_model_type=model, shared=True)
    )
    aid = created.assistant_id or next(a.id for a in client.assistants.list(per_page=100) if a.name == name)
    yield aid
    client.assistants.delete(aid)


def chat(client, aid: str, conversation_id: str, text: str, **extra):
    return client.assistants.chat(aid, AssistantChatRequest(conversation_id=conversation_id, text=text, **extra))


def error_of(exc: pytest.ExceptionInfo) -> tuple[int, dict]:
    res = exc.value.response
    return res.status_code, res.json()["error"]


def test_create_update_files(client, assistant_id, unique, tmp_path):
    folder = f"F-{unique}"
    created = client.conversations.create(ConversationCreateRequest(initial_assistant_id=assistant_id, folder=folder))
    cid = created["id"]
    assert created["conversation_id"] == cid and created["conversation_name"] == "" and created["history"] == []
    assert created["folder"] == folder
    assert folder in [f.folder_name for f in client.conversations.list_folders()]

    updated = client.conversations.update(cid, UpdateConversationRequest(name="Renamed", pinned=True))
    assert isinstance(updated, ConversationDetails)
    assert updated.conversation_name == "Renamed" and updated.pinned is True
    assert next(c for c in client.conversations.list() if c.id == cid).pinned is True

    notes = tmp_path / f"notes-{unique}.txt"
    notes.write_text("attached", encoding="utf-8")
    file_url = client.assistants.upload_file_to_chat(notes)["file_url"]
    chat(client, assistant_id, cid, "with a file", file_names=[file_url])
    assert client.conversations.get_files(cid) == [file_url]
    other = str(uuid.uuid4())
    chat(client, assistant_id, other, "no file")
    assert client.conversations.get_files(other) == []


def test_long_name(client, assistant_id):
    cid = str(uuid.uuid4())
    text = "N" * 60
    chat(client, assistant_id, cid, text)
    assert client.conversations.get_conversation(cid).conversation_name == text[:50] + "..."


def test_folders(client, assistant_id, unique):
    q1, q2 = f"Team/{unique}/Q1", f"Team {unique} Q2"
    assert client.conversations.create_folder(UpdateConversationFolderRequest(folder=q1)).message == "Folder created"
    with pytest.raises(requests.HTTPError) as dup:
        client.conversations.create_folder(UpdateConversationFolderRequest(folder=q1))
    assert error_of(dup) == (400, {"message": "Folder name already exists", "details": "Folder name should be unique", "help": ""})
    with pytest.raises(requests.HTTPError) as reserved:
        client.conversations.create_folder(UpdateConversationFolderRequest(folder="Default"))
    assert error_of(reserved)[0] == 400

    cid = str(uuid.uuid4())
    chat(client, assistant_id, cid, "in a folder")
    client.conversations.update(cid, UpdateConversationRequest(folder=q1))
    # The SDK puts the name in the path as is ("/" kept).
    assert client.conversations.update_folder(q1, UpdateConversationFolderRequest(folder=q2)).message == "Folder name updated"
    folders = client.conversations.list_folders()
    assert all(isinstance(f, ConversationFolder) for f in folders)
    names = [f.folder_name for f in folders]
    assert q2 in names and q1 not in names
    assert client.conversations.get_conversation(cid).folder == q2

    taken = f"Taken-{unique}"
    client.conversations.create_folder(UpdateConversationFolderRequest(folder=taken))
    with pytest.raises(requests.HTTPError) as onto:
        client.conversations.update_folder(q2, UpdateConversationFolderRequest(folder=taken))
    assert error_of(onto)[0] == 400
    assert client.conversations.get_conversation(cid).folder == q2

    assert client.conversations.delete_folder(q2).message == "Folder removed"
    assert client.conversations.get_conversation(cid).folder == ""
    client.conversations.update(cid, UpdateConversationRequest(folder=taken))
    client.conversations.delete_folder(taken, remove_conversations=True)
    assert cid not in [c.id for c in client.conversations.list()]


def test_upsert_history(client, assistant_id):
    cid = f"import-{uuid.uuid4()}"
    now = datetime.now(timezone.utc)

    def pair(i: int, q: str, a: str):
        return [
            HistoryItem(role="User", message=q, historyIndex=i, date=now, fileNames=[]),
            HistoryItem(role="Assistant", message=a, historyIndex=i, date=now, fileNames=[]),
        ]

    first = client.conversations.upsert_history(cid, UpsertHistoryRequest(assistant_id=assistant_id, history=pair(0, "Q", "A")))
    assert (first.created, first.new_messages, first.total_messages) == (True, 2, 2)
    again = client.conversations.upsert_history(cid, UpsertHistoryRequest(assistant_id=assistant_id, history=pair(0, "Q", "A")))
    assert (again.created, again.new_messages, again.total_messages) == (False, 2, 2)
    assert client.conversations.upsert_history(cid, UpsertHistoryRequest(assistant_id=assistant_id, history=pair(1, "Q2", "A2"))).total_messages == 4
    replaced = client.conversations.upsert_history(
        cid, UpsertHistoryRequest(assistant_id=assistant_id, history=[HistoryItem(role="Assistant", message="A-new", historyIndex=0, date=now, fileNames=[])])
    )
    assert replaced.total_messages == 4
    d = client.conversations.get_conversation(cid)
    assert [(h.role, h.message, h.historyIndex) for h in d.history] == [
        ("User", "Q", 0), ("Assistant", "A-new", 0), ("User", "Q2", 1), ("Assistant", "A2", 1),
    ]
    assert d.history[0].messageRaw == "Q"
    with pytest.raises(requests.HTTPError) as missing:
        client.conversations.upsert_history(f"import-{uuid.uuid4()}", UpsertHistoryRequest(history=pair(0, "q", "a")))
    assert missing.value.response.status_code == 422
    with pytest.raises(requests.HTTPError) as empty:
        client.conversations.upsert_history(f"import-{uuid.uuid4()}", UpsertHistoryRequest(assistant_id=assistant_id, history=[]))
    assert error_of(empty)[:1] == (400,) and error_of(empty)[1]["message"] == "History cannot be empty"


def test_history_edits(client, assistant_id):
    cid = str(uuid.uuid4())
    for t in ("First turn", "Second turn", "Third turn"):
        chat(client, assistant_id, cid, t)
    edited = client.conversations.update_history_by_index(cid, UpdateHistoryByIndexRequest(messageIndex=0, message="edited"))
    assert isinstance(edited, ConversationDetails)
    assert len(edited.history) == 8
    assert [(h.role, h.message, h.historyIndex) for h in edited.history[-2:]] == [("User", "First turn", 0), ("Assistant", "edited", 0)]
    # messageIndex is also the turn in the SDK's path: turn 1 gets an edited variant.
    edited1 = client.conversations.update_history_by_index(cid, UpdateHistoryByIndexRequest(messageIndex=1, message="edited 1"))
    assert (edited1.history[-1].role, edited1.history[-1].message, edited1.history[-1].historyIndex) == ("Assistant", "edited 1", 1)

    after = client.conversations.delete_history_by_index(cid, 1)
    assert [h.historyIndex for h in after.history if h.message in ("Third turn", "Echo: Third turn")] == [1, 1]
    assert all(h.message not in ("Second turn", "edited 1") for h in after.history)

    cleared = client.conversations.delete_history(cid)
    assert cleared.history == [] and cleared.assistant_ids == [assistant_id]
    assert cid in [c.id for c in client.conversations.list()]


def test_regenerate_from_a_point(client, assistant_id):
    cid = str(uuid.uuid4())
    chat(client, assistant_id, cid, "one")
    chat(client, assistant_id, cid, "two")
    again = client.assistants.chat(assistant_id, AssistantChatRequest(conversation_id=cid, text="one, again", history_index=0))
    assert again.generated == "Echo: one, again"
    history = client.conversations.get_conversation(cid).history
    assert [(h.message, h.historyIndex) for h in history[-2:]] == [("one, again", 0), ("Echo: one, again", 0)]


def test_share_snapshot(client, other_client, assistant_id, settings):
    cid = str(uuid.uuid4())
    chat(client, assistant_id, cid, "Shared turn")
    private = str(uuid.uuid4())
    chat(client, assistant_id, private, "PRIVATE other conversation")

    share = client.conversations.share_conversation(cid)
    assert isinstance(share, ConversationShareResponse)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", share.token) and share.access_count == 0
    chat(client, assistant_id, cid, "After the share")

    seen = client.conversations.get_shared_conversation(share.token)
    assert isinstance(seen, SharedConversationResponse)
    assert seen.conversation.id == cid and seen.access_count == 1 and seen.shared_by
    assert [(h.role, h.message) for h in seen.conversation.history] == [("User", "Shared turn"), ("Assistant", "Echo: Shared turn")]
    assert other_client.conversations.get_shared_conversation(share.token).access_count == 2

    # Opened without any token: the snapshot and nothing else.
    anon = requests.get(f"{settings['api_url']}/v1/share/conversations/{share.token}", timeout=30)
    assert anon.status_code == 200
    body = anon.json()
    assert sorted(body) == ["access_count", "conversation", "created_at", "shared_by"]
    assert body["conversation"]["user_id"] == "" and body["conversation"]["project"] is None
    assert "PRIVATE other" not in anon.text and "After the share" not in anon.text and private not in anon.text

    guess = requests.get(f"{settings['api_url']}/v1/share/conversations/{'A' * 32}", timeout=30)
    assert guess.status_code == 404 and guess.json()["error"]["message"] == "Shared conversation not found"

    with pytest.raises(requests.HTTPError) as foreign:
        other_client.conversations.get_conversation(cid)
    assert error_of(foreign)[0] == 403
    with pytest.raises(requests.HTTPError) as foreign_share:
        other_client.conversations.share_conversation(cid)
    assert error_of(foreign_share) == (403, {
        "message": "Access denied",
        "details": "You do not have the necessary permissions to share this entity.",
        "help": "Please ensure you have the correct role or permissions assigned to your account. "
        "If you believe this is an error, contact your system administrator.",
    })
    client.conversations.delete(cid)
    with pytest.raises(requests.HTTPError) as gone:
        client.conversations.get_shared_conversation(share.token)
    assert error_of(gone)[0] == 404


def test_feedback(client, assistant_id):
    cid = str(uuid.uuid4())
    chat(client, assistant_id, cid, "First turn")
    fb = client.conversations.create_feedback(
        FeedbackCreateRequest(
            conversation_id=cid, message_index=1, assistant_id=assistant_id, request="First turn",
            response="Echo: First turn", mark=FeedbackMark.WRONG, comments="bad",
        )
    )
    assert fb.id
    mark = client.conversations.get_conversation(cid).history[1].userMark
    assert (mark.mark, mark.comments, mark.feedback_id) == ("wrong", "bad", fb.id)
    removed = client.conversations.delete_feedback(
        FeedbackDeleteRequest(conversation_id=cid, feedback_id=fb.id, message_index=1, assistant_id=assistant_id)
    )
    assert removed.message == "Specified feedback entry removed"
    assert client.conversations.get_conversation(cid).history[1].userMark is None
    with pytest.raises(requests.HTTPError) as unknown:
        client.conversations.create_feedback(
            FeedbackCreateRequest(conversation_id="no-such-conversation", message_index=1, assistant_id=assistant_id, request="q", response="", mark=FeedbackMark.CORRECT)
        )
    status, err = error_of(unknown)
    assert status == 404
    assert err["help"] == "Please verify the conversation ID and try again. If you believe this is an error, contact support."


def test_finish_and_admin(client, admin_client, other_client, assistant_id):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    chat(client, assistant_id, a, "to finish")
    chat(client, assistant_id, b, "finished by the admin")
    f = client.conversations.finish(a)
    assert isinstance(f, ConversationFinishResponse) and f.conversation_id == a and f.finished_at
    with pytest.raises(requests.HTTPError) as twice:
        client.conversations.finish(a)
    assert error_of(twice)[0] == 409 and error_of(twice)[1]["message"] == "Conversation is finished"
    with pytest.raises(requests.HTTPError) as more:
        chat(client, assistant_id, a, "more")
    assert more.value.response.status_code == 409
    for call in (
        lambda: client.conversations.delete_history(a),
        lambda: client.conversations.delete_history_by_index(a, 0),
        lambda: client.conversations.update_history_by_index(a, UpdateHistoryByIndexRequest(messageIndex=0, message="x")),
    ):
        with pytest.raises(requests.HTTPError) as blocked:
            call()
        assert blocked.value.response.status_code == 409
    assert client.conversations.update(a, UpdateConversationRequest(name="still ok")).conversation_name == "still ok"
    assert client.conversations.get_conversation(a).finished_at is not None
    assert a in [c.id for c in client.conversations.list(is_finished=True)]
    assert a not in [c.id for c in client.conversations.list(is_finished=False)]
    assert b in [c.id for c in client.conversations.list(is_finished=False)]

    bulk = admin_client.conversations.finish_bulk([b, a, "missing-id"])
    assert isinstance(bulk, ConversationFinishBulkResponse) and bulk.total == 3
    assert [(r.conversation_id, r.already_finished, r.error) for r in bulk.results] == [
        (b, False, None), (a, True, None), ("missing-id", False, "not_found"),
    ]
    assert bulk.results[0].finished_at is not None
    with pytest.raises(requests.HTTPError) as not_admin:
        client.conversations.finish_bulk([b])
    assert not_admin.value.response.status_code == 403

    listed = admin_client.conversations.list_admin(is_finished=True, per_page=200)
    assert isinstance(listed, AdminConversationListResponse) and listed.pagination.per_page == 200
    assert {a, b} <= {c.id for c in listed.data}
    unfinished = admin_client.conversations.list_admin(is_finished=False, per_page=5)
    assert all(c.finished_at is None for c in unfinished.data) and len(unfinished.data) <= 5
    assert admin_client.conversations.list_admin(started_after="2999-01-01T00:00:00Z").pagination.total == 0
    with pytest.raises(requests.HTTPError) as not_admin_list:
        other_client.conversations.list_admin()
    assert not_admin_list.value.response.status_code == 403
    client.conversations.delete(a)


def test_acl_and_delete_all(client, other_client, assistant_id):
    cid = str(uuid.uuid4())
    chat(client, assistant_id, cid, "mine")
    for call, verb in (
        (lambda: other_client.conversations.get_conversation(cid), "view"),
        (lambda: other_client.conversations.update(cid, UpdateConversationRequest(name="x")), "write"),
        (lambda: other_client.conversations.get_files(cid), "view"),
        (lambda: other_client.conversations.delete_history(cid), "write"),
        (lambda: other_client.conversations.finish(cid), "write"),
        (lambda: other_client.conversations.delete(cid), "delete"),
    ):
        with pytest.raises(requests.HTTPError) as denied:
            call()
        status, err = error_of(denied)
        assert status == 403 and err["message"] == "Access denied"
        assert err["details"] == f"You do not have the necessary permissions to {verb} this entity."
    with pytest.raises(requests.HTTPError) as unknown:
        client.conversations.get_conversation("no-such-conversation")
    assert error_of(unknown) == (404, {
        "message": "Conversation not found",
        "details": "The conversation with ID [no-such-conversation] could not be found in the system.",
        "help": "Please verify the conversation ID and try again. If you believe this is an error, contact support.",
    })

    # delete_all: the second user's conversations, folders and links go; the first user's stay.
    theirs = str(uuid.uuid4())
    chat(other_client, assistant_id, theirs, "theirs")
    other_client.conversations.create_folder(UpdateConversationFolderRequest(folder=f"other-{uuid.uuid4().hex[:6]}"))
    token = other_client.conversations.share_conversation(theirs).token
    assert other_client.conversations.delete_all().message == "Conversation history cleared"
    assert other_client.conversations.list() == []
    assert other_client.conversations.list_folders() == []
    with pytest.raises(requests.HTTPError) as revoked:
        client.conversations.get_shared_conversation(token)
    assert revoked.value.response.status_code == 404
    assert cid in [c.id for c in client.conversations.list()]
