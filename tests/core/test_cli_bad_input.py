"""Hostile arguments, files, settings and database URLs for the ``accord`` command: each ends with a readable
error and exit code 2, never a Python traceback, and a refused import stores nothing of the chunk in hand.
(test_cli_commands.py covers the common refusals; this file covers what a hostile or careless caller sends.)"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
import test_cli_commands
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from test_cli_commands import services_for, setup_hub

from accord.sharing.items import ItemFilter

accord = test_cli_commands.accord  # the fixture that runs the real entry point

ITEM = orjson.dumps({"kind": "report", "content": {"title": "fine", "body": "b"}})
BUNDLE_HEAD = b'{"type":"bundle","id":"bundle--6f1b2a3c-4d5e-4f60-8a7b-9c0d1e2f3a4b","objects":'
INDICATOR = orjson.dumps({
    "type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-1111-4111-8111-111111111111",
    "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "one",
    "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"})


def item_count(data: Path) -> int:
    svc = services_for(data)
    try:
        return svc.items.count(svc.accounts.principal_for("alice"), ItemFilter())
    finally:
        svc.close()


def refused(r, *needles: str) -> None:
    assert r.code == 2, r.text
    assert "Traceback" not in r.text
    for needle in needles:
        assert needle in r.text, r.text


# ----- import: files -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "body", "needle"), [
    ("binary.json", bytes(range(256)) * 8, "binary.json:1: not valid JSON"),
    ("latin1.ndjson", b'{"kind":"report","content":{"title":"caf\xe9"}}\n', "latin1.ndjson:1: not valid JSON"),
    ("truncated.json", b'[' + ITEM + b',{"kind":"rep', "truncated.json:1: not valid JSON"),
    ("mid.ndjson", ITEM + b"\n" + ITEM + b"\n{oops\n" + ITEM + b"\n", "mid.ndjson:3: not valid JSON"),
    ("huge-line.ndjson", b'{"kind":"report","content":{"title":"' + b"x" * 3_000_000, "huge-line.ndjson:1"),
    ("bundle-dict.json", BUNDLE_HEAD + b'{"a": 1}}', "objects: must be a list of STIX objects"),
    ("bundle-str.json", BUNDLE_HEAD + b'"nope"}', "objects: must be a list of STIX objects"),
    ("bundle-truncated.json", BUNDLE_HEAD + b"[" + INDICATOR + b',{"type":"ind', "not valid JSON after object 1"),
    ("bundle-bytes.json", BUNDLE_HEAD + b'[{"type":"\xff"}]}', "bundle-bytes.json: not valid JSON"),
    ("bundle-mid.json", BUNDLE_HEAD + b"[" + INDICATOR + b", {,}]}", "bundle-mid.json: not valid JSON"),
])
def test_a_bad_import_file_is_refused_and_stores_nothing_of_its_chunk(accord, tmp_path: Path, name: str,
                                                                       body: bytes, needle: str) -> None:
    setup_hub(accord)
    path = tmp_path / name
    path.write_bytes(body)
    r = accord("import", str(path), "--as", "alice", "--workers", "0")
    refused(r, needle)
    assert item_count(accord.data) == 0  # the chunk with the bad object in it is not half-applied
    assert "indicator--" not in accord("export", "--as", "alice", "--format", "stix").out


def test_empty_and_blank_files_import_nothing(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    for name, body in (("empty.json", b""), ("blank.ndjson", b"\n \n\t\n")):
        (tmp_path / name).write_bytes(body)
        r = accord("import", str(tmp_path / name), "--as", "alice", "--workers", "0")
        assert r.code == 0 and "Imported 0 items, rejected 0" in r.text


def test_a_directory_or_missing_file_is_a_usage_error(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    refused(accord("import", str(tmp_path), "--as", "alice"), "directory")
    refused(accord("import", str(tmp_path / "nope.json"), "--as", "alice"), "does not exist")


@pytest.mark.parametrize("batch", ["0", "-1", "-5000"])
def test_a_batch_below_one_is_refused(accord, tmp_path: Path, batch: str) -> None:
    """--batch 0 was range()'s ValueError (JSON) or an endless loop (NDJSON); a negative one imported nothing."""
    setup_hub(accord)
    path = tmp_path / "items.ndjson"
    path.write_bytes(ITEM + b"\n" + ITEM + b"\n")
    refused(accord("import", str(path), "--as", "alice", "--batch", batch), "--batch")
    assert item_count(accord.data) == 0


def test_a_later_chunk_that_does_not_parse_leaves_the_earlier_chunks(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    path = tmp_path / "bundle.json"
    second = INDICATOR.replace(b"11111111-1111-4111-8111-111111111111", b"22222222-2222-4222-8222-222222222222")
    path.write_bytes(BUNDLE_HEAD + b"[" + INDICATOR + b"," + second + b',{"type":')
    r = accord("import", str(path), "--as", "alice", "--batch", "1")
    refused(r, "not valid JSON after object 2", "the 2 objects before this chunk were imported")
    exported = accord("export", "--as", "alice", "--format", "stix")
    assert exported.out.count("indicator--") == 2, exported.out[-500:]


# ----- other commands: option values and files ------------------------------------------------------------------
@pytest.mark.parametrize(("args", "needle"), [
    (["token", "create", "alice", "--days", "-5"], "--days"),  # was a token that never expires
    (["token", "create", "alice", "--days", "99999999"], "--days"),  # was OverflowError
    (["user", "add", "zed", "ALPHA", "--password", "zed-password", "--language", "xx"], "language: must be one"),
    (["user", "add", "zed", "ALPHA", "--password", "zed-password", "--clearance", "-1"], "clearance:"),
    (["user", "add", "zed", "ALPHA", "--password", "zed-password", "--clearance", "99999999999999999999"],
     "clearance:"),
    (["member", "add", "LONG", "N" * 100_000], "name: must be 1-200 characters"),
    (["export", "--as", "alice", "--format", "xml"], "format: must be items or stix"),  # was an NDJSON export
    (["export", "--as", "alice", "-o", "/nonexistent-accord-dir/x.ndjson"], "No such file or directory"),
    (["places", "x", "--limit", "-1"], "--limit"),  # was an empty answer
    (["places", "x", "--limit", "99999999999999999999"], "--limit"),
    (["entities", "match", "x", "--as", "alice", "--limit", "0"], "limit: must be between 1 and 100"),
    (["stats", "--as", "alice", "--from", "2026-13-01", "--to", "2026-02-01"], "from: must be"),
    (["stats", "--as", "alice", "--from", "2026-02-01", "--to", "99999-01-01"], "to: must be"),
    (["stats", "--as", "alice", "--from", "2026-01-01", "--to", "2026-02-01", "--member", "ZULU"], "ZULU"),
    (["stats", "--as", "alice", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "xml"], "format:"),
    (["report", "activity", "--as", "alice", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "html",
      "-o", "/nonexistent-accord-dir/r.html"], "No such file or directory"),
    (["report", "activity", "--as", "alice", "--from", "x", "--to", "2026-02-01", "--format", "html"], "from:"),
    (["meeting", "create", "--as", "alice", "--title", "t", "--date", "2026-02-30", "--from", "2026-01-01",
      "--to", "2026-02-01", "--member", "BRAVO"], "date:"),
    (["meeting", "create", "--as", "alice", "--title", "t", "--date", "2026-03-01", "--from", "2026-01-01",
      "--to", "2026-02-01", "--member", "ZULU"], "no member ZULU"),
    (["meeting", "show", "x" * 10_000, "--as", "alice"], "error: No such object"),
    (["restore", "/dev/null", "--yes"], "error:"),
])
def test_bad_option_values_are_readable_errors(accord, args: list[str], needle: str) -> None:
    setup_hub(accord)
    refused(accord(*args), needle)


def test_meeting_files_that_cannot_be_read(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    r = accord("meeting", "create", "--as", "alice", "--title", "Q1", "--date", "2026-03-01", "--from",
               "2026-01-01", "--to", "2026-02-01", "--member", "BRAVO")
    assert r.code == 0, r.text
    mid = next(w for w in r.text.split() if w.startswith("mtg_"))
    latin1 = tmp_path / "narrative.txt"
    latin1.write_bytes(b"caf\xe9")
    refused(accord("meeting", "summary", mid, "--as", "alice", "--narrative", str(latin1)), "narrative:",
            "not UTF-8")
    refused(accord("meeting", "summary", mid, "--as", "alice", "--narrative", str(tmp_path / "none.txt")),
            "No such file or directory")
    refused(accord("meeting", "communique", mid, "--as", "alice", "--text", f"en={tmp_path / 'none.txt'}"),
            "No such file or directory")
    refused(accord("meeting", "communique", mid, "--as", "alice", "--text", f"en={latin1}"), "text:", "not UTF-8")


# ----- settings and the database ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "toml", "needle"), [
    ({"ACCORD_PORT": "eighty"}, None, "cannot read 'eighty' as int"),
    ({"ACCORD_AUDIT_READS": "perhaps"}, None, "cannot read 'perhaps' as bool"),
    ({"ACCORD_ENVIRONMENT": "staging"}, None, "must be development or production"),
    ({"ACCORD_READ_POOL_SIZE": "-3"}, None, "read_pool_size (ACCORD_READ_POOL_SIZE): must be at least 1"),  # hung
    ({"ACCORD_MAX_BATCH": "-1"}, None, "max_batch (ACCORD_MAX_BATCH): must be at least 0"),
    ({"ACCORD_CONFIG": "/nonexistent-accord.toml"}, None, "no such file"),  # was silently ignored
    ({"ACCORD_CONFIG": "/"}, None, "Is a directory"),
    ({}, b"port = \xff\n", "not UTF-8 text"),
    ({}, b"port = [\n", "config file"),
    ({}, b"[server]\nport = 1\n", "unknown setting 'server'"),
    ({}, b"port = {a = 1}\n", "cannot read"),
    ({"ACCORD_DATABASE_URL": "mysql://x@127.0.0.1/x"}, None, "must be a sqlite:///... or postgresql://... URL"),
    ({"ACCORD_DATABASE_URL": "not a url"}, None, "must be a sqlite:///... or postgresql://... URL"),
    ({"ACCORD_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, None, "error: database: connection failed"),
])
def test_bad_settings_are_readable_errors(accord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          env: dict[str, str], toml: bytes | None, needle: str) -> None:
    data = tmp_path / "conf"
    data.mkdir()
    if toml is not None:
        (data / "accord.toml").write_bytes(toml)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = accord("member", "list", data_dir=data)
    refused(r, needle)
    assert r.text.count("error") == 1  # one message


def test_a_missing_postgresql_database_is_a_readable_error(accord) -> None:
    r = accord("--database-url", "postgresql://postgres@127.0.0.1:5432/accord_no_such_db_x", "init")
    refused(r, "error: database:")


def test_a_data_directory_that_is_a_file(accord, tmp_path: Path) -> None:
    file = tmp_path / "plain"
    file.write_text("x")
    refused(accord("init", data_dir=file), "error:")


def test_migrate_to_a_bad_or_unreachable_url(accord) -> None:
    setup_hub(accord)
    source = f"sqlite:///{accord.data / 'accord.db'}"
    refused(accord("migrate", source, "nonsense"), "must be a sqlite:///")
    refused(accord("migrate", source, "postgresql://nobody@127.0.0.1:1/x"), "error: database:")


def test_nul_in_an_argument_on_either_backend(accord, db_url: str) -> None:
    """A real process cannot pass NUL in its arguments, but a script calling the CLI in-process can; PostgreSQL
    refuses it in text: a readable error, and the write's transaction rolls back."""
    args = ["--database-url", db_url]
    assert accord(*args, "member", "add", "ALPHA", "Alpha").code == 0
    r = accord(*args, "member", "add", "DELTA", "Del\x00ta")
    assert "Traceback" not in r.text
    if r.code != 0:
        assert r.code == 2 and "error:" in r.text
        listed = accord(*args, "member", "list", "--json")
        assert [m["code"] for m in orjson.loads(listed.out)] == ["ALPHA"]


def test_nul_in_an_imported_object_is_that_object_rejected(accord, db_url: str, tmp_path: Path) -> None:
    args = ["--database-url", db_url]
    assert accord(*args, "member", "add", "ALPHA", "Alpha").code == 0
    assert accord(*args, "user", "add", "alice", "ALPHA", "--password", "alice-password").code == 0
    path = tmp_path / "nul.ndjson"
    path.write_bytes(ITEM + b'\n{"kind":"report","content":{"title":"a\\u0000b"}}\n')
    r = accord(*args, "import", str(path), "--as", "alice", "--workers", "0")
    assert r.code == 1 and "Imported 1 items, rejected 1" in r.text and "NUL" in r.text


@pytest.mark.skipif(not os.path.exists("/proc/self"), reason="Linux only")
def test_unreadable_is_reported(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    refused(accord("import", "/proc/self/mem", "--as", "alice", "--workers", "0"), "error:")
