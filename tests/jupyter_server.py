"""A JupyterLab server for browser tests: a fresh one per test, on a free port, with a token.

Started as ``python -m jupyter lab`` with this interpreter (``sys.executable``), so its
``python3`` kernel -- whose kernelspec says ``python``, which jupyter_client replaces by
the server's ``sys.executable`` -- imports the same (editable) ``workbench``. Everything
the server writes goes under the test's directory: the root it serves, user settings
(with Jupyter's news and update checks switched off, so no popup covers the page),
workspaces and the runtime directory. Ready when ``/api/status`` answers.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lab", "check_kernel_is_this_python", "jupyter_lab"]

NEWS_SETTINGS = "@jupyterlab/apputils-extension/notification.jupyterlab-settings"


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def page(self, path: str) -> str:
        """The lab URL opening ``path`` (relative to the root), with the token."""
        return f"{self.url}/lab/tree/{path}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def check_kernel_is_this_python() -> None:
    """Fail unless the ``python3`` kernelspec runs ``sys.executable`` (directly, or as the
    ``python`` that jupyter_client replaces by the server's interpreter)."""
    from jupyter_client.kernelspec import KernelSpecManager

    argv = KernelSpecManager().get_kernel_spec("python3").argv
    replaced = {"python", f"python{sys.version_info[0]}",
                "python{}.{}".format(*sys.version_info[:2])}
    assert argv[0] in replaced or os.path.realpath(argv[0]) == os.path.realpath(
        sys.executable), (f"the python3 kernel runs {argv[0]!r}, not {sys.executable}; "
                          "install this interpreter's kernel: python -m ipykernel install")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(url: str, token: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def jupyter_lab(root: Path, work: Path, *, timeout: float = 60.0) -> Iterator[Lab]:
    """A running JupyterLab serving ``root``; its settings, workspaces, runtime files and
    log go under ``work``. Stopped (terminated, then killed) on exit."""
    settings = work / "settings"
    news = settings / NEWS_SETTINGS
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}),
                    encoding="utf-8")
    for sub in ("workspaces", "runtime"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    port, token = _free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
           f"--LabApp.workspaces_dir={work / 'workspaces'}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime")}
    log = work / "jupyter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    lab = Lab(url, token, root, log)
    try:
        end = time.monotonic() + timeout
        while not _ready(url, token):
            if proc.poll() is not None:
                raise AssertionError(f"jupyter lab exited with {proc.returncode}:\n"
                                     f"{lab.log_tail()}")
            if time.monotonic() > end:
                raise AssertionError(f"jupyter lab did not answer within {timeout:.0f} s:\n"
                                     f"{lab.log_tail()}")
            time.sleep(0.2)
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
