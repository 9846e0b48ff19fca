# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab instances: the state dir and each instance's record, booting (up),
stopping (down), status, SSH and one QMP command to a named instance, and
saving a converged guest's disk as its image's converged snapshot.

The state dir (default $VIRTNET_LAB_STATE_DIR or
${XDG_CACHE_HOME:-~/.cache}/virtnet-failover/vms) holds NAME/{overlay.qcow2,
qemu.pid, qmp.sock, instance.json} and logs/NAME.serial.log (the guest's
ttyS0, kept after down for post-mortems).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import image as lab_image
import qemu_command
from boot_slots import boot_slot
from converged import CONVERGED_SUFFIX, converged_path, keep_snapshot, snapshot_usable
from lab_common import LabError, log
from qemu_command import FAILOVER_MAC, KVM_ACCEL, accel_args, qmp_path
from qemu_process import kill_qemu, pid_alive, read_pid_file, start_on_free_port
from qmp_client import plug_primary_at_start, qmp_session

BOOT_TIMEOUT = float(os.environ.get("VIRTNET_LAB_BOOT_TIMEOUT", "900"))
SSH_OPTS = [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=30",
    "-o", "IdentitiesOnly=yes",
]


def default_state_dir() -> Path:
    env = os.environ.get("VIRTNET_LAB_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "virtnet-failover" / "vms"


# --------------------------------------------------------------------------
# instance records


def instance_dir(name: str, state_dir: Path) -> Path:
    if not name or "/" in name or name.startswith(".") or name == "logs":
        raise LabError(f"invalid instance name {name!r}")
    return Path(state_dir) / name


def instance_names(state_dir: Path) -> list[str]:
    """The instances that have a directory in state_dir, sorted."""
    if not state_dir.is_dir():
        return []
    return [d.name for d in sorted(state_dir.iterdir()) if d.is_dir() and d.name != "logs" and not d.name.startswith(".")]


def instance(name: str, state_dir: Path | None = None) -> dict | None:
    """Return the recorded instance dict, or None if there is none."""
    f = instance_dir(name, Path(state_dir or default_state_dir())) / "instance.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())


def write_info(d: Path, info: dict) -> None:
    tmp = d / "instance.json.tmp"
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, d / "instance.json")


def require_running(name: str, state_dir: Path | None) -> dict:
    """The record of NAME, whose QEMU runs; LabError otherwise."""
    info = instance(name, state_dir)
    if not info or not pid_alive(info.get("pid"), info.get("overlay")):
        raise LabError(f"{name}: no running instance in {state_dir or default_state_dir()} (start it with vm.py up {name})")
    return info


def stop_migration_destination(info: dict) -> bool:
    """Stop a destination QEMU a migration left behind (the migrating process died)."""
    dest = info.get("migrating_to") or {}
    stopped = kill_qemu(dest.get("pid") or read_pid_file(dest.get("pidfile")), info.get("overlay"),
                        dest.get("qmp_socket"))
    for key in ("qmp_socket", "migration_socket", "pidfile"):
        if dest.get(key):
            with contextlib.suppress(OSError):
                os.unlink(dest[key])
    return stopped


# --------------------------------------------------------------------------
# up


def _probe_kvm(state_dir: Path) -> bool:
    """A real boot to SSH under KVM, 90 s budget."""
    log("probing KVM with a real boot (once per host; verdict is cached)")
    probe_dir = Path(state_dir) / ".kvm-probe"
    try:
        up("kvm-probe", image="debian12", memory=512, state_dir=probe_dir,
           _accel=(list(KVM_ACCEL), "kvm"), timeout=90)
        return True
    except LabError as exc:
        log(f"KVM probe failed: {exc}")
        return False
    finally:
        down_all(probe_dir)
        shutil.rmtree(probe_dir, ignore_errors=True)


def up(name: str, image: str = "debian12", memory: int = 768, state_dir: Path | None = None,
       timeout: float = BOOT_TIMEOUT, _accel: tuple[list[str], str] | None = None) -> dict:
    """Boot NAME (or return it if it already runs) and wait for SSH."""
    state_dir = Path(state_dir or default_state_dir()).absolute()
    d = instance_dir(name, state_dir)
    cur = instance(name, state_dir)
    if cur and pid_alive(cur.get("pid"), cur.get("overlay")):
        _wait_ssh(cur, timeout)
        return cur
    if d.exists():
        down(name, state_dir)
    converged = image.endswith(CONVERGED_SUFFIX)
    if converged:
        image = image[: -len(CONVERGED_SUFFIX)]
    if image not in lab_image.IMAGES:
        raise LabError(f"unknown image {image!r}; choose one of {sorted(lab_image.IMAGES)} "
                       f"(or NAME{CONVERGED_SUFFIX})")
    base = lab_image.image_dir(image) / "disk.qcow2"
    if converged:
        snap = converged_path(image)
        if snapshot_usable(snap, base):
            log(f"{name}: booting the converged snapshot {snap.name} (made by this code in an earlier scenario)")
            base = snap
        else:
            log(f"{name}: no converged {image} snapshot for this code ({snap.name}); booting the base image, "
                "so the scenario's converge does the full rollout")
    if not base.exists():
        older = sorted((p for p in lab_image.cache_root().glob(f"{image}-*/disk.qcow2")),
                       key=lambda p: p.stat().st_mtime)
        if not older:
            raise LabError(f"image {image} is not built: run `make images` "
                           f"(or molecule/resources/lab/image.py build {image})")
        if os.environ.get("VIRTNET_LAB_ALLOW_OLD_IMAGE") != "1":
            raise LabError(f"the {image} image recipe changed and its new image is not built yet (the newest built "
                           f"one is {older[-1].parent.name}): run `make images`, or set "
                           "VIRTNET_LAB_ALLOW_OLD_IMAGE=1 to boot the older image knowingly")
        base = older[-1]
        log(f"{name}: the {image} recipe changed and its new image is not built yet; "
            f"using the older {base.parent.name} (VIRTNET_LAB_ALLOW_OLD_IMAGE=1; run `make images` to update)")
    if not shutil.which(qemu_command.QEMU):
        raise LabError(f"{qemu_command.QEMU} not found: apt-get install qemu-system-x86")
    d.mkdir(parents=True)
    logs = state_dir / "logs"
    logs.mkdir(exist_ok=True)
    serial = logs / f"{name}.serial.log"
    serial.write_text("")
    overlay = d / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(overlay)],
                   check=True)
    accel, accel_name = _accel or accel_args(state_dir, _probe_kvm)
    with boot_slot(name):
        return _boot(name, image, memory, state_dir, timeout, d, serial, overlay, accel, accel_name, base)


def _boot(name, image, memory, state_dir, timeout, d, serial, overlay, accel, accel_name, base) -> dict:
    t0 = time.monotonic()
    port, err = start_on_free_port(
        name, lambda port: qemu_command.qemu_command(d, overlay, serial, port, memory, accel, name))
    if err:
        shutil.rmtree(d, ignore_errors=True)
        raise LabError(f"{name}: QEMU failed to start: {err}")
    pid = read_pid_file(d / "qemu.pid")
    key = lab_image.ensure_key()
    info = {
        "name": name,
        "image": image,
        "address": "127.0.0.1",
        "port": port,
        "user": "root",
        "identity_file": str(key),
        "pid": pid,
        "qmp_socket": str(qmp_path(d)),
        "serial_log": str(serial),
        "overlay": str(overlay),
        "base": str(base),
        "memory": memory,
        "accel": accel_name,
        "failover_mac": FAILOVER_MAC,
        "state_dir": str(state_dir),
        "qemu": qemu_command.QEMU,
    }
    (d / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    try:
        plug_primary_at_start(info)
        _wait_ssh(info, timeout)
    except BaseException:
        down(name, state_dir)
        raise
    info["boot_seconds"] = round(time.monotonic() - t0, 1)
    (d / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    log(f"{name}: SSH up after {info['boot_seconds']}s on 127.0.0.1:{port} ({accel_name})")
    return info


def ssh_argv(info: dict, *cmd: str, tty: bool = False) -> list[str]:
    return ["ssh", *SSH_OPTS, *(["-t"] if tty else []), "-i", info["identity_file"], "-p", str(info["port"]),
            f"{info['user']}@{info['address']}", *cmd]


def _serial_tail(info: dict, n: int = 25) -> str:
    try:
        lines = Path(info["serial_log"]).read_text(errors="replace").splitlines()
    except OSError:
        return "(no serial log)"
    return "\n".join(lines[-n:])


def _wait_ssh(info: dict, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not pid_alive(info["pid"], info["overlay"]):
            raise LabError(f"{info['name']}: QEMU exited during boot; serial log tail:\n{_serial_tail(info)}")
        try:
            r = subprocess.run(ssh_argv(info, "true"), capture_output=True, stdin=subprocess.DEVNULL, timeout=120,
                               check=False)
            if r.returncode == 0:
                return
        except subprocess.TimeoutExpired:
            # sshd is up but too slow to finish the handshake (busy host): poll again
            pass
        if time.monotonic() > deadline:
            raise LabError(f"{info['name']}: no SSH on 127.0.0.1:{info['port']} after {timeout:.0f}s; "
                           f"serial log {info['serial_log']} tail:\n{_serial_tail(info)}")
        time.sleep(2)


# --------------------------------------------------------------------------
# save


def save(name: str, state_dir: Path | None = None, timeout: float = 180) -> Path:
    """Power NAME off cleanly and keep its disk as the converged snapshot of its image."""
    info = require_running(name, state_dir)
    image = info["image"].removesuffix(CONVERGED_SUFFIX)
    if not snapshot_usable(Path(info["overlay"]), lab_image.image_dir(image) / "disk.qcow2"):
        raise LabError(f"{name} was not booted from the base {image} image; only a guest converged from "
                       "scratch is saved as a snapshot")
    dest = converged_path(image)
    subprocess.run(ssh_argv(info, "sync; systemctl poweroff"), capture_output=True, timeout=60, check=False)
    deadline = time.monotonic() + timeout
    while pid_alive(info["pid"], info["overlay"]):
        if time.monotonic() > deadline:
            raise LabError(f"{name} did not power off within {timeout:.0f} s")
        time.sleep(0.5)
    keep_snapshot(Path(info["overlay"]), dest, image)
    log(f"{name}: powered off; disk saved as the converged snapshot {dest}")
    return dest


# --------------------------------------------------------------------------
# down / status / ssh / qmp


def down(name: str, state_dir: Path | None = None, timeout: float = 15) -> bool:
    """Stop NAME and remove its overlay and state.  True if something was stopped."""
    state_dir = Path(state_dir or default_state_dir())
    d = instance_dir(name, state_dir)
    info = instance(name, state_dir) or {}
    overlay = info.get("overlay") or str(d / "overlay.qcow2")
    pid = info.get("pid") or read_pid_file(d / "qemu.pid")
    stopped = stop_migration_destination(info)
    if kill_qemu(pid, overlay, info.get("qmp_socket") or str(qmp_path(d)), timeout):
        stopped = True
    qsock = info.get("qmp_socket")
    if qsock and not str(qsock).startswith(str(d)):
        with contextlib.suppress(OSError):
            os.unlink(qsock)
    shutil.rmtree(d, ignore_errors=True)
    if stopped:
        log(f"{name}: stopped")
    return stopped


def down_all(state_dir: Path | None = None) -> list[str]:
    state_dir = Path(state_dir or default_state_dir())
    names = instance_names(state_dir)
    for name in names:
        down(name, state_dir)
    return names


def _rss(pid: int) -> dict:
    out = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            k, _sep, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = round(int(v.split()[0]) / 1024)
    return {"rss_mib": out.get("VmRSS"), "rss_peak_mib": out.get("VmHWM")}


def status(name: str | None = None, state_dir: Path | None = None) -> list[dict]:
    state_dir = Path(state_dir or default_state_dir())
    names = [name] if name else instance_names(state_dir)
    res = []
    for n in names:
        info = instance(n, state_dir)
        if info is None:
            res.append({"name": n, "running": False})
            continue
        running = pid_alive(info.get("pid"), info.get("overlay"))
        res.append({**info, "running": running, **(_rss(info["pid"]) if running else {})})
    return res


def ssh(name: str, *cmd: str, state_dir: Path | None = None, check: bool = False,
        timeout: float | None = None) -> subprocess.CompletedProcess:
    info = require_running(name, state_dir)
    return subprocess.run(ssh_argv(info, *cmd), capture_output=True, text=True, check=check,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def ssh_config(info: dict) -> str:
    return (f"Host {info['name']}\n  HostName 127.0.0.1\n  Port {info['port']}\n  User root\n"
            f"  IdentityFile {info['identity_file']}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
            "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")


def qmp(name: str, command: str, arguments: dict | None = None, state_dir: Path | None = None):
    """Run one QMP command on NAME and return its result."""
    info = require_running(name, state_dir)

    async def go(q):
        return await q.execute(command, arguments or {})

    return asyncio.run(qmp_session(info, go))
