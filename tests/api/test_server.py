"""`kpi-ledger serve --demo` as a user runs it: a real uvicorn on a free loopback port, the
demo commune recorded, a token printed per role, and a request answered with one of them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_with_demo_data_prints_a_token_per_role_that_the_running_api_accepts(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "POSTGRES_", "PERSISTENCE_"))}
    env |= {"KPI_LEDGER_DB": str(tmp_path / "ledger.sqlite3"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(server.stdout or []), daemon=True)
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert server.poll() is None, "".join(printed)
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "".join(printed)
                time.sleep(0.2)
        output = "".join(printed)
        tokens = dict(re.findall(r"^  (\w+) .*\n\s+(kpi_\S+)$", output, flags=re.MULTILINE))
        assert set(tokens) == {"official", "unit_head", "monitoring", "inspector", "appeals", "admin"}, output
        assert f"{base}/docs" in output

        me = httpx.get(f"{base}/api/v1/access/me", headers={"Authorization": f"Bearer {tokens['unit_head']}"},
                       timeout=10)
        assert me.status_code == 200
        assert me.json()["roles"] == ["unit_head"]
        assert httpx.get(f"{base}/api/v1/access/me", timeout=10).status_code == 401
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        reader.join(timeout=5)
