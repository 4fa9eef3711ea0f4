"""The ``accord`` command: set-up, members, users, tokens, import, export, audit verify; every command's --help;
errors are one readable line and exit code 2, never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from typer.testing import CliRunner

from accord.cli.main import app as cli_app
from accord.cli.main import main
from accord.config import load_settings
from accord.services import build_services
from accord.sharing.items import ItemFilter

COMMANDS = [[], ["init"], ["serve"], ["demo"], ["member"], ["member", "add"], ["member", "list"],
            ["member", "consumer"], ["user"], ["user", "add"], ["user", "list"], ["user", "disable"], ["token"],
            ["token", "create"], ["token", "revoke"], ["import"], ["export"], ["audit"], ["audit", "verify"]]


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def text(self) -> str:
        """stdout and stderr with Rich's line wrapping undone."""
        return " ".join((self.out + " " + self.err).split())


@pytest.fixture
def accord(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run the real entry point (``main``, which turns errors into messages) in-process against a data dir."""
    data = tmp_path / "hub"
    monkeypatch.setenv("ACCORD_SECRET_KEY", "c" * 40)
    monkeypatch.delenv("ACCORD_DATA", raising=False)
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)

    def run(*args: str, data_dir: Path | None = data) -> Run:
        argv = ["accord", *(["--data", str(data_dir)] if data_dir else []), *args]
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Run(code, out, err)

    run.data = data  # type: ignore[attr-defined]
    return run


def services_for(data: Path):
    return build_services(load_settings(env={}, data=str(data), secret_key="c" * 40), migrate=False)


def setup_hub(accord) -> None:
    """A hub with two members, a consumer and two users, made through the CLI once per module and copied."""
    template = TEMPLATES.get("hub")
    if template is not None:
        shutil.copytree(template, accord.data)
        return
    make_hub(accord)
    template = Path(tempfile.mkdtemp(prefix="accord-cli-template-")) / "hub"
    shutil.copytree(accord.data, template)
    TEMPLATES["hub"] = template


TEMPLATES: dict[str, Path] = {}


def make_hub(accord) -> None:
    assert accord("init").code == 0
    assert accord("member", "add", "ALPHA", "Alpha Service", "--role", "chair").code == 0
    assert accord("member", "add", "bravo", "Bravo Service").code == 0
    assert accord("member", "consumer", "BRAVO", "B-UNIT", "Bravo unit").code == 0
    assert accord("user", "add", "alice", "ALPHA", "--password", "alice-password", "--clearance", "3").code == 0
    assert accord("user", "add", "bob", "BRAVO", "--role", "reader", "--password", "bob-password").code == 0


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "accord" for c in COMMANDS])
def test_every_command_has_help(accord, command: list[str]) -> None:
    r = accord(*command, "--help", data_dir=None)
    assert r.code == 0 and "Usage:" in r.out and "--help" in r.out


def test_init_members_users_and_lists(accord) -> None:
    r = accord("init")
    assert r.code == 0 and "Hub ready" in r.text and (accord.data / "accord.db").exists()
    assert accord("init").code == 0  # idempotent (upgrades an existing store)
    make_hub(accord)
    listed = accord("member", "list", "--json")
    assert listed.code == 0
    members = {m["code"]: m for m in orjson.loads(listed.out)}
    assert members["ALPHA"]["role"] == "chair" and members["BRAVO"]["role"] == "member"
    assert [c["code"] for c in members["BRAVO"]["consumers"]] == ["B-UNIT"]
    table = accord("member", "list")
    assert "ALPHA" in table.text and "B-UNIT" in table.text
    users = accord("user", "list")
    assert users.code == 0 and "alice" in users.text and "bob" in users.text
    only = accord("user", "list", "--member", "BRAVO")
    assert "bob" in only.text and "alice" not in only.text


def test_user_add_prompts_for_the_password(accord) -> None:
    setup_hub(accord)
    r = CliRunner().invoke(cli_app, ["--data", str(accord.data), "user", "add", "carol", "ALPHA"],
                           input="carol-password\ncarol-password\n")
    assert r.exit_code == 0, r.output
    svc = services_for(accord.data)
    try:
        assert svc.accounts.login("carol", "carol-password").username == "carol"
    finally:
        svc.close()


def test_user_disable_and_tokens(accord) -> None:
    setup_hub(accord)
    created = accord("token", "create", "alice", "--name", "feed", "--days", "5")
    assert created.code == 0
    secret = created.out.strip().splitlines()[-1]
    assert secret.startswith("acc_")
    svc = services_for(accord.data)
    try:
        principal = svc.accounts.token_principal(secret)
        assert principal.username == "alice"
        token_id = principal.token_id
        assert accord("token", "revoke", str(token_id)).code == 0
        with pytest.raises(Exception, match="revoked"):
            svc.accounts.token_principal(secret)
        assert accord("user", "disable", "bob").code == 0
        assert "yes" in accord("user", "list", "--member", "BRAVO").text
        with pytest.raises(Exception, match="disabled"):
            svc.accounts.principal_for("bob")
    finally:
        svc.close()


def test_import_json_and_ndjson_then_export(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    items = [{"kind": "report", "content": {"title": f"Report {i}", "body": "b"},
              "handling": {"release": {"scope": "members", "members": ["BRAVO"]}},
              "created": "2026-01-02T03:04:05Z"} for i in range(3)]
    as_json = tmp_path / "items.json"
    as_json.write_bytes(orjson.dumps(items))
    as_wrapped = tmp_path / "wrapped.json"
    as_wrapped.write_bytes(orjson.dumps({"items": items[:1]}))
    as_ndjson = tmp_path / "items.ndjson"
    as_ndjson.write_bytes(b"\n".join(orjson.dumps(i) for i in items[:2]) + b"\n\n")
    r = accord("import", str(as_json), str(as_wrapped), str(as_ndjson), "--as", "alice")
    assert r.code == 0 and "Imported 6 items, rejected 0" in r.text
    out = tmp_path / "export.ndjson"
    r = accord("export", "--as", "bob", "-o", str(out))
    assert r.code == 0 and "Exported 6 items" in r.text
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == 6 and all(x["originator"] == "ALPHA" for x in lines)
    assert all(x["created"] == "2026-01-02T03:04:05.000Z" for x in lines)
    to_stdout = accord("export", "--as", "alice", "--kind", "entity")
    assert to_stdout.code == 0 and to_stdout.out == ""
    # An export to standard output is NDJSON and nothing else.
    everything = accord("export", "--as", "alice")
    assert [orjson.loads(x)["id"] for x in everything.out.splitlines()] == [x["id"] for x in lines]


def test_import_reports_rejected_objects_and_exits_1(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(b"\n".join([
        orjson.dumps({"kind": "report", "content": {"title": "good", "body": "b"}}),
        orjson.dumps({"kind": "observation", "content": {"lat": 99, "lon": 0, "observed_from": "2026-01-01T00:00Z"}}),
        orjson.dumps({"kind": "report", "content": {"title": "also good"}}),
        orjson.dumps({"kind": "memo"}),
    ]))
    r = accord("import", str(path), "--as", "alice")
    assert r.code == 1
    assert "Imported 2 items, rejected 2" in r.text
    assert "rejected mixed.ndjson object 2: content.lat: must be between -90 and 90" in r.text
    assert "object 4: kind:" in r.text
    svc = services_for(accord.data)
    try:
        assert svc.items.count(svc.accounts.principal_for("alice"), ItemFilter()) == 2
    finally:
        svc.close()


def test_audit_verify(accord) -> None:
    setup_hub(accord)
    r = accord("audit", "verify")
    assert r.code == 0 and "intact" in r.text and "5 records" in r.text  # 2 members, a consumer, 2 users


@pytest.mark.parametrize(("args", "message"), [
    (["member", "add", "ALPHA", "Again"], "error: member ALPHA already exists"),
    (["member", "add", "bad code!", "X"], "error: code: 1-32 characters"),
    (["member", "add", "DELTA", "D", "--role", "boss"], "error: role: must be one of member, chair, observer"),
    (["member", "consumer", "ZULU", "Z-U", "unit"], "error: no member ZULU"),
    (["user", "add", "dan", "ZULU", "--password", "dan-password"], "error: no member ZULU"),
    (["user", "add", "Dan Smith", "ALPHA", "--password", "dan-password"], "error: username: 2-64 characters"),
    (["user", "add", "dan", "ALPHA", "--password", "short"], "error: password: must be at least 8 characters"),
    (["user", "add", "dan", "ALPHA", "--role", "god", "--password", "dan-password"], "error: role: must be one of"),
    (["user", "add", "alice", "ALPHA", "--password", "alice-password"], "error: user alice already exists"),
    (["user", "disable", "nobody"], "error: no user nobody"),
    (["token", "create", "nobody"], "error: no user nobody"),
    (["token", "revoke", "999"], "error: no token 999"),
    (["export", "--as", "nobody"], "error: no user nobody"),
    (["export", "--as", "alice", "--kind", "memo"], "error: kind: must be one of"),
])
def test_errors_are_readable_and_exit_2(accord, args: list[str], message: str) -> None:
    setup_hub(accord)
    r = accord(*args)
    assert r.code == 2, r.text
    assert message in r.text
    assert len(r.err.strip().splitlines()) <= 2


def test_import_of_broken_json_is_a_readable_error(accord, tmp_path: Path) -> None:
    setup_hub(accord)
    path = tmp_path / "broken.ndjson"
    path.write_bytes(b'{"kind": "report", "content": {"title": "a"}}\n{"kind": \n')
    r = accord("import", str(path), "--as", "alice")
    assert r.code == 2 and "error: broken.ndjson:2: not valid JSON" in r.text
    r = accord("import", str(tmp_path / "absent.json"), "--as", "alice")
    assert r.code == 2 and "does not exist" in r.text
    r = accord("import", str(path), "--as", "nobody")
    assert r.code == 2 and "error: no user nobody" in r.text


def test_usage_errors_exit_2(accord) -> None:
    r = accord("member", "add")
    assert r.code == 2 and "Missing argument" in r.text
    r = accord("token", "revoke")
    assert r.code == 2 and "Missing argument" in r.text
    r = accord("token", "revoke", "abc")  # ids are opaque (tok_...): an unknown one is a readable error
    assert r.code == 2 and "error: no token abc" in r.text
    r = accord("frobnicate")
    assert r.code == 2 and "No such command" in r.text


def test_a_bad_setting_is_a_readable_error(accord, tmp_path: Path) -> None:
    data = tmp_path / "badconf"
    data.mkdir()
    (data / "accord.toml").write_text("colour = 'red'\n")
    r = accord("init", data_dir=data)
    assert r.code == 2 and "unknown setting 'colour'" in r.text


def test_the_installed_console_script(tmp_path: Path) -> None:
    """The real process: no traceback, exit 2, one line on standard error."""
    script = Path(sys.executable).parent / "accord"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from accord.cli.main import main; main()"]
    env = {"PATH": "/usr/bin:/bin", "ACCORD_SECRET_KEY": "c" * 40, "HOME": str(tmp_path)}
    argv = [*cmd, "--data", str(tmp_path / "hub"), "user", "disable", "nobody"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "error: no user nobody" in done.stderr
