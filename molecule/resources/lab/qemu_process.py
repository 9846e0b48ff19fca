# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab guest's QEMU process: starting it on a free SSH port, telling whether
it runs, and stopping it."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from lab_common import log
from qmp_client import qmp_quit


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_on_free_port(label: str, command) -> tuple[int, str]:
    """Start a daemonizing QEMU whose hostfwd port is picked free, again with
    another port when a process took it in between.  ``command(port)`` gives
    the QEMU command line.  Returns (port, "") or (port, QEMU's error)."""
    port, err = 0, ""
    for attempt in range(6):
        port = free_port()
        proc = subprocess.run(command(port), capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return port, ""
        err = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        if "hostfwd" not in err and "forwarding" not in err:
            break
        log(f"{label}: port {port} taken, retrying ({attempt + 1})")
    return port, err


def read_pid_file(path: str | Path | None) -> int | None:
    if not path:
        return None
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int | None, overlay: str | None = None) -> bool:
    """True if pid is a running QEMU of this instance (guards against pid reuse)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.split(")", 1)[1].split()[0] == "Z":
        return False
    return "qemu-system" in cmdline and (overlay is None or overlay in cmdline)


def kill_qemu(pid: int | None, overlay: str | None, qmp_socket: str | None, timeout: float = 10) -> bool:
    """QMP quit, then SIGTERM, then SIGKILL; True if a QEMU was running."""
    if not pid_alive(pid, overlay):
        return False
    if qmp_socket:
        with contextlib.suppress(Exception):
            qmp_quit(qmp_socket)
    deadline = time.monotonic() + timeout
    sig = signal.SIGTERM
    while pid_alive(pid, overlay):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            sig = signal.SIGKILL
            deadline = time.monotonic() + 5
        time.sleep(0.1)
    return True
