"""JupyterLab starts, serves the notebooks, runs a cell in a kernel and shuts down cleanly.

This is what `make lab` gives a learner; the test drives it through the server's REST and
websocket APIs on 127.0.0.1 with a token, as a browser would.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

websocket = pytest.importorskip("websocket")

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(base: str, token: str, path: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = response.read()
        return response.status, (json.loads(payload) if payload else None)


@pytest.fixture
def lab_server(tmp_path):
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}", "--ServerApp.port_retries=0",
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    log = open(tmp_path / "lab.log", "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            _request(base, token, "/api/status")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.close()
                pytest.fail(f"JupyterLab did not start:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield base, token, process
    if process.poll() is None:
        process.kill()
    log.close()


def _execute(base: str, token: str, kernel_id: str, code: str) -> str:
    url = base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels?token={token}"
    connection = websocket.create_connection(url, timeout=60)
    message_id = uuid.uuid4().hex
    connection.send(
        json.dumps(
            {
                "header": {"msg_id": message_id, "msg_type": "execute_request", "username": "test",
                           "session": uuid.uuid4().hex, "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }
        )
    )  # fmt: skip
    outputs, deadline = [], time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            message = json.loads(connection.recv())
            if message.get("parent_header", {}).get("msg_id") != message_id:
                continue
            kind = message["msg_type"]
            if kind == "stream":
                outputs.append(message["content"]["text"])
            elif kind == "execute_result":
                outputs.append(message["content"]["data"]["text/plain"])
            elif kind == "error":
                outputs.append("ERROR " + message["content"]["ename"])
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                break
    finally:
        connection.close()
    return "".join(outputs)


def test_jupyterlab_lists_notebooks_runs_a_cell_and_shuts_down(lab_server):
    base, token, process = lab_server
    status, listing = _request(base, token, "/api/contents/notebooks")
    names = {entry["name"] for entry in listing["content"]}
    assert status == 200 and "00_setup.ipynb" in names

    status, lab_page = 0, None
    with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=30) as response:
        status, lab_page = response.status, response.read().decode()
    assert status == 200 and "JupyterLab" in lab_page

    status, kernel = _request(base, token, "/api/kernels", method="POST", body={"name": "python3"})
    assert status == 201
    output = _execute(base, token, kernel["id"], "import course_utils, sys\nprint(6 * 7, sys.executable)")
    assert output.startswith("42 ")
    assert Path(output.split()[1]).resolve() == Path(sys.executable).resolve()  # the course's environment

    status, _ = _request(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
    assert status == 204
    status, _ = _request(base, token, "/api/shutdown", method="POST")
    assert status == 200
    assert process.wait(timeout=30) == 0
