"""The CLI: ``accord stats`` as CSV and JSON, ``accord report activity`` and ``accord report communique`` as PDF
(Persian and Russian: the two scripts beyond Latin and Arabic), and the meeting commands end to end."""

from __future__ import annotations

import re
import time
from pathlib import Path

import orjson
import pytest
from test_meetings_cycle import check_pdf
from typer.testing import CliRunner

from accord import clock
from accord.cli.main import app
from accord.config import Settings
from conftest import World

pytestmark = pytest.mark.slow


def run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(app, ["--data", str(settings.data), "--database-url", settings.url, *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_stats_reports_and_meeting(settings: Settings, world: World, tmp_path: Path) -> None:
    start = clock.now()
    world.share("alice", kind="observation", handling={"tlp": "amber", "classification": 1,
                                                       "release": {"scope": "all", "consumers": True}},
                content={"lat": 55.75, "lon": 37.62, "observed_from": "2026-10-01T00:00:00Z"})
    world.share("bob", kind="report", handling={"tlp": "amber", "classification": 1, "release": {"scope": "all"}})
    time.sleep(0.003)
    end = clock.now()

    out = run(settings, "stats", "--as", "carol", "--from", start, "--to", end, "--by", "member,kind",
              "--format", "csv")
    assert out.splitlines() == ["member,kind,count,previous,change", "ALPHA,observation,1,0,1",
                                "BRAVO,report,1,0,1"]
    data = orjson.loads(run(settings, "stats", "--as", "bunit", "--from", start, "--to", end, "--format", "json"))
    assert data["total"] == 1  # the consumer unit sees only what was released on to consumers

    pdf = tmp_path / "activity-fa.pdf"
    run(settings, "report", "activity", "--as", "alice", "--member", "ALPHA", "--from", start, "--to", end,
        "--lang", "fa", "--format", "pdf", "-o", str(pdf))
    check_pdf(pdf, "گزارش فعالیت")
    html = tmp_path / "activity-fr.html"
    run(settings, "report", "activity", "--as", "bob", "--from", start, "--to", end, "--lang", "fr",
        "--format", "html", "-o", str(html))
    assert "Rapport d'activité" in html.read_text()

    made = run(settings, "meeting", "create", "--as", "alice", "--title", "Session", "--date", "2026-11-20",
               "--from", start, "--to", end, "--member", "BRAVO", "--member", "CHARLIE", "--place", "Москва")
    found = re.search(r"Meeting (mtg_[A-Za-z0-9_-]{16}) convened", made)
    assert found, made  # the meeting's public id: random, not a row number
    mid = found.group(1)
    text = tmp_path / "ru.txt"
    text.write_text("Участники провели заседание.")
    run(settings, "meeting", "communique", mid, "--as", "alice", "--text", f"ru={text}",
        "--figure", "observations", "--figure", "information")
    run(settings, "meeting", "submit", mid, "--as", "alice")
    for user in ("alice", "bob", "carol"):
        run(settings, "meeting", "approve", mid, "--as", user)
    assert "Published" in run(settings, "meeting", "publish", mid, "--as", "alice")
    assert "reproduced" in run(settings, "meeting", "verify", mid, "--as", "bob")
    pdf = tmp_path / "communique-ru.pdf"
    run(settings, "report", "communique", mid, "--as", "carol", "--lang", "ru", "--format", "pdf", "-o", str(pdf))
    check_pdf(pdf, "Коммюнике")
