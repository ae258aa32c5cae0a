"""Knowledge bases through the unmodified SDK's datasource service: create_file_datasource (text, CSV,
PDF, zip), list / get / update / delete, assistants using one, health check, index statistics,
embeddings models, assistants.get_context, an assistant whose (scripted) model calls the search tool
and cites the chunk, hostile archives, and the 400 for third-party source types."""

import io
import json
import time
import zipfile

import pytest
import requests
from codemie_sdk.models.assistant import AssistantChatRequest, AssistantCreateRequest, Context, ContextType
from codemie_sdk.models.datasource import (
    ConfluenceDataSourceRequest,
    DataSourceStatus,
    DataSourceType,
    FileDataSourceRequest,
    UpdateFileDataSourceRequest,
)


def pdf(pages: list[str]) -> bytes:
    """A small PDF with one text page per string."""
    objs = {1: "<< /Type /Catalog /Pages 2 0 R >>"}
    n = len(pages)
    font = 3 + n * 2
    objs[2] = "<< /Type /Pages /Kids [%s] /Count %d >>" % (" ".join(f"{3 + i * 2} 0 R" for i in range(n)), n)
    for i, text in enumerate(pages):
        esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({esc}) Tj ET"
        objs[3 + i * 2] = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + i * 2} 0 R >>"
        objs[4 + i * 2] = f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream"
    objs[font] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    out = b"%PDF-1.4\n"
    offsets = {}
    for k in sorted(objs):
        offsets[k] = len(out)
        out += f"{k} 0 obj\n{objs[k]}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offsets[k]:010d} 00000 n \n" for k in sorted(objs)).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def zip_bomb(mib: int) -> bytes:
    """`mib` MiB of zeros deflated: well under 1 MiB on the wire."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("zeros.txt", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(mib):
                f.write(chunk)
    return buf.getvalue()


def find(client, name: str):
    items = [d for d in client.datasources.list(per_page=200, filters={"name": name}) if d.name == name]
    assert len(items) == 1, items
    return items[0]


def wait_done(client, datasource_id: str, timeout: float = 90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ds = client.datasources.get(datasource_id)
        if ds.status in (DataSourceStatus.COMPLETED, DataSourceStatus.FAILED):
            return ds
        time.sleep(0.3)
    raise AssertionError("indexing did not finish")


def raw(client, path: str):
    api = client.datasources._api
    return requests.get(f"{api._base_url}{path}", headers=api._get_headers()).json()


def http_error(fn) -> requests.Response:
    with pytest.raises(requests.HTTPError) as err:
        fn()
    return err.value.response


def test_embeddings_models(client):
    models = client.llms.list_embeddings()
    assert models
    assert sum(1 for m in models if m.default) == 1
    assert all(m.base_name and m.enabled for m in models)


def test_file_knowledge_base_end_to_end(client, project, model, unique):
    name = "kb-" + "".join(c for c in unique if c.isalpha())[:6].ljust(4, "x")  # the SDK allows [a-z_-] only
    request = FileDataSourceRequest(name=name, project_name=project, description="Alpha notes", shared_with_project=True)
    files = [
        ("notes.txt", b"The launch code is PELICAN-42.\nKeep it secret.\n", "text/plain"),
        ("data.csv", b"year;track\n1918;Armistice\n1944;Normandy\n", "text/csv"),
        ("manual.pdf", pdf(["Chapter one: descale the kettle monthly.", "Chapter two: the boiler pressure is 1.5 bar."]), "application/pdf"),
        ("bundle.zip", zip_of({"guide/heron.md": b"# Herons\nHerons are long-legged birds.", "__MACOSX/._heron.md": b"x", "inner.zip": b"x"}), "application/zip"),
    ]
    started = client.datasources.create_file_datasource(request, files=files)
    assert started == {"message": f"Indexing of {name} has started in the background"}

    item = find(client, name)
    assert item.type == DataSourceType.FILE
    assert item.shared_with_project is True
    assert item.user_abilities == ["read", "write", "delete"]
    ds = wait_done(client, item.id)
    assert ds.status == DataSourceStatus.COMPLETED, ds.error_message
    assert sorted(ds.processed_documents) == ["data.csv", "heron.md", "manual.pdf", "notes.txt"]
    assert ds.processing_info.total_documents_count == 4
    assert ds.description == "Alpha notes"
    default_embedding = next(m.base_name for m in client.llms.list_embeddings() if m.default)
    assert ds.embeddings_model == default_embedding
    body = raw(client, f"/v1/index/{item.id}")
    assert body["current_state"] == body["complete_state"] == 4
    assert body["current__chunks_state"] >= 4
    assert body["error"] is False and body["text"] == "" and body["index_type"] == "knowledge_base_file"

    # 409 for the same name; 422 for 11 files and a name the server refuses.
    r = http_error(lambda: client.datasources.create_file_datasource(request, files=files[:1]))
    assert r.status_code == 409
    assert r.json()["error"]["details"] == f"An index with the name '{name}' already exists in the project '{project}'."
    r = http_error(lambda: client.datasources.create_file_datasource(
        FileDataSourceRequest(name=name + "x", project_name=project, description="d"), files=[(f"f{i}.txt", b"x", "text/plain") for i in range(11)]))
    assert r.status_code == 422 and r.json()["error"]["message"] == "files: Too many files. Maximum count is 10"
    r = http_error(lambda: client.datasources.create_file_datasource(FileDataSourceRequest(name="abc", project_name=project, description="d"), files=files[:1]))
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("query.name:")

    # Metadata update, then adding a file.
    upd = UpdateFileDataSourceRequest(name=name, project_name=project, description="Alpha v2", shared_with_project=True)
    assert client.datasources.update(item.id, upd) == {"message": "Edit successful"}
    assert client.datasources.get(item.id).description == "Alpha v2"
    added = client.datasources.update(item.id, upd, files=[("more.md", b"# Kestrel\nKestrels hover over fields.", "text/markdown")])
    assert added == {"message": f"Indexing of {name} has started in the background"}
    ds = wait_done(client, item.id)
    assert "more.md" in ds.processed_documents

    stats = client.datasources.get_elasticsearch_stats(item.id)
    assert stats.index_name == f"{project}-{name}".lower() and stats.size_in_bytes > 0
    assert client.datasources.health_check(index_type="file", project_name=project) == {"implemented": False, "documents_count": None, "error": None}

    # An assistant with the KB as context: the scripted model calls search_kb_<name>, the tool thought cites the chunk.
    assert Context(context_type=ContextType.KNOWLEDGE_BASE, name=name) in client.assistants.get_context(project)
    created = client.assistants.create(AssistantCreateRequest(
        name=f"kb-bot-{unique}", description="kb", system_prompt="Answer from the knowledge base.", project=project,
        llm_model_type=model, context=[Context(context_type=ContextType.KNOWLEDGE_BASE, name=name)]))
    assistant_id = created.assistant_id or [a for a in client.assistants.list(per_page=100, filters={"search": f"kb-bot-{unique}"})][0].id
    try:
        using = client.datasources.get_assistants_using_datasource(item.id)
        assert [a.id for a in using] == [assistant_id]
        res = client.assistants.chat(assistant_id, AssistantChatRequest(text="What is the launch code?", stream=False))
        assert res.generated == "According to notes.txt-1: The launch code is PELICAN-42."
        tool = [t for t in res.thoughts if t["author_name"].startswith("Search Kb")]
        assert tool and tool[0]["author_type"] == "Tool"
        assert tool[0]["author_name"] == "Search Kb " + name.replace("_", " ").title()
        assert tool[0]["message"].startswith("[]")
        assert "**Source:**notes.txt-1" in tool[0]["message"] and "PELICAN-42" in tool[0]["message"]

        # Delete: the datasource is gone and the assistant's next call fails until it is re-saved.
        assert client.datasources.delete(item.id) == {"message": f"'Index {name} was deleted successfully"}
        r = http_error(lambda: client.datasources.get(item.id))
        assert r.status_code == 404 and r.json()["error"]["message"] == f"Cannot find datasource by given id: {item.id}"
        r = http_error(lambda: client.assistants.chat(assistant_id, AssistantChatRequest(text="again", stream=False)))
        assert r.status_code == 500 and f"Datasource name: **{name}**" in r.json()["error"]["details"]
    finally:
        client.assistants.delete(assistant_id)


@pytest.mark.parametrize(
    "archive, message, details",
    [
        (b"not a zip", "Invalid ZIP archive", "The uploaded file could not be opened as a ZIP archive."),
        (zip_of({f"f{i}.txt": b"x" for i in range(1001)}), "ZIP archive contains too many files", "Archives are limited to 1000 files."),
        (zip_bomb(600), "ZIP archive too large", "Uncompressed content exceeds the 500 MB limit."),
        (zip_of({"../../etc/evil.txt": b"x"}), "ZIP archive contains an unsafe path", None),
        (zip_of({"only/": b""}), "ZIP archive contained no extractable files", None),
    ],
    ids=["not-a-zip", "too-many-files", "bomb", "zip-slip", "empty"],
)
def test_hostile_archives_get_clear_errors(client, project, unique, archive, message, details):
    name = "kb-zip-" + "".join(c for c in unique if c.isalpha())[:6]
    r = http_error(lambda: client.datasources.create_file_datasource(
        FileDataSourceRequest(name=name, project_name=project, description="d"), files=[("x.zip", archive, "application/zip")]))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["message"] == message
    if details:
        assert err["details"] == details
    assert err["help"]
    assert not [d for d in client.datasources.list(per_page=200) if d.name == name]


def test_bad_json_and_empty_files(client, project, unique):
    base = "kb-j-" + "".join(c for c in unique if c.isalpha())[:6]
    r = http_error(lambda: client.datasources.create_file_datasource(
        FileDataSourceRequest(name=base, project_name=project, description="d"), files=[("bad.json", b'{"a": 1}', "application/json")]))
    assert r.status_code == 422 and r.json()["error"]["message"] == "File has incorrect format" and "bad.json" in r.json()["error"]["details"]
    client.datasources.create_file_datasource(FileDataSourceRequest(name=base + "e", project_name=project, description="d"), files=[("empty.txt", b"", "text/plain")])
    ds = wait_done(client, find(client, base + "e").id)
    assert ds.status == DataSourceStatus.FAILED
    assert ds.error_message == f"No chunks were imported for datasource '{base}e'. All files were skipped or failed to process. Please check your files and try again."
    client.datasources.delete(ds.id)


def test_third_party_types_are_refused_by_name(client, project):
    r = http_error(lambda: client.datasources.create(ConfluenceDataSourceRequest(name="conf", project_name=project, description="d", cql="space=X")))
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Unsupported datasource type"
    assert "'confluence'" in r.json()["error"]["details"]
