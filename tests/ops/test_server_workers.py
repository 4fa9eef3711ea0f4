"""Real servers: several worker processes sharing PostgreSQL (sessions and metrics across workers, SIGTERM), and
graceful shutdown finishing an in-flight request."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from conftest import World, bearer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.args} {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become ready")


@pytest.mark.slow
def test_two_workers_share_sessions_and_metrics(world: World, settings) -> None:
    if settings.is_sqlite:
        with pytest.raises(Exception, match="PostgreSQL"):
            from typer.testing import CliRunner

            from accord.cli.main import app as cli

            r = CliRunner().invoke(cli, ["--data", settings.data, "--database-url", settings.url, "serve",
                                         "--workers", "2"])
            raise r.exception or AssertionError("serve --workers 2 was accepted on SQLite")
        return
    port = _free_port()
    env = {**os.environ, "ACCORD_SECRET_KEY": settings.secret_key, "ACCORD_LOG_FORMAT": "json"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    accord = str(Path(sys.executable).with_name("accord"))
    args = [accord, "--data", settings.data, "--database-url", settings.url, "serve", "--workers", "2",
            "--port", str(port)]
    proc = subprocess.Popen(args,  # noqa: S603 - our own CLI with test arguments
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
        # No keep-alive: each request opens a new connection, so the kernel spreads them over both workers.
        with httpx.Client(base_url=base, limits=httpx.Limits(max_keepalive_connections=0)) as c:
            login = c.post("/api/v1/auth/login", json={"username": "bob", "password": "password-bob"})
            assert login.status_code == 200, login.text
            for _ in range(20):
                assert c.get("/api/v1/me").json()["username"] == "bob"  # the session cookie, on any worker
                assert c.get("/api/v1/items", headers=bearer(world, "alice")).status_code == 200
            metrics = c.get("/metrics").text
        line = next(x for x in metrics.splitlines()
                    if x.startswith('accord_http_request_duration_seconds_count{method="GET",route="/api/v1/me"'))
        assert float(line.rsplit(" ", 1)[1]) == 20.0  # summed over the workers
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b'"logger": "accord.access"' in err or b'"logger":"accord.access"' in err


async def test_graceful_shutdown_finishes_in_flight_requests(app: FastAPI) -> None:
    started = threading.Event()

    @app.get("/test-slow")
    async def slow() -> dict[str, str]:
        started.set()
        await asyncio.sleep(1.0)
        return {"done": "yes"}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           timeout_graceful_shutdown=10, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    await asyncio.to_thread(_wait_ready, base)
    async with httpx.AsyncClient() as c:
        pending = asyncio.create_task(c.get(base + "/test-slow", timeout=10))
        await asyncio.to_thread(started.wait, 5)
        server.should_exit = True  # what uvicorn's SIGTERM handler does
        r = await pending
    await asyncio.to_thread(thread.join, 15)
    assert r.status_code == 200 and r.json() == {"done": "yes"}
    assert not thread.is_alive()
