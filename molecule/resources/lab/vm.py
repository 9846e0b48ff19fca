# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VM lab launcher: QEMU guests with a real virtio-net failover pair.

CLI (also usable as a library: up(), down(), down_all(), replug(), migrate(),
ssh(), status(), instance()):

    vm.py up NAME [--image IMAGE] [--memory 768] [--state-dir DIR]
        IMAGE: debian12, debian13, debian14 (image.py IMAGES), or IMAGE-converged
    vm.py down NAME | --all [--state-dir DIR]
    vm.py replug NAME [--no-wait-guest] [--state-dir DIR]
    vm.py migrate NAME [--primary-name N] [--no-probe] [--cancel-at STATE] [--fault dest-start]
    vm.py status [NAME] [--state-dir DIR]
    vm.py ssh NAME [--state-dir DIR] [-- CMD ...]
    vm.py ssh-config NAME [--state-dir DIR]

Each guest boots a qcow2 overlay of the cached image (see image.py) on a q35
machine.  Every NIC sits on its own pcie-root-port:

    rp1  standby  virtio-net-pci,id=standby0,failover=on      (guest enp1s0 / enp1s0nsby)
    rp2  primary  e1000e,id=primary0,failover_pair_id=standby0 (guest enp2s0), same MAC
    rp3  mgmt     virtio-net-pci, fixed MAC, hostfwd 127.0.0.1:PORT -> :22 (guest enp3s0)

All netdevs are QEMU user networking with restrict=on: no tap, no bridge,
no route out of the machine.  Acceleration is TCG (-accel tcg,tb-size=1024
-cpu max) unless VIRTNET_LAB_ACCEL=kvm (or auto) and a real boot under KVM
succeeded once on this host (verdict cached).

The state dir (default $VIRTNET_LAB_STATE_DIR or
${XDG_CACHE_HOME:-~/.cache}/virtnet-failover/vms) holds NAME/{overlay.qcow2,
qemu.pid, qmp.sock, instance.json} and logs/NAME.serial.log (the guest's
ttyS0, kept after down for post-mortems).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import image as lab_image  # noqa: E402

FAILOVER_MAC = "52:54:00:00:0f:01"
# VIRTNET_LAB_QEMU: another QEMU binary (or a wrapper that execs one), e.g.
# to compare QEMU versions in bench/bench_migration.py.
QEMU = os.environ.get("VIRTNET_LAB_QEMU") or "qemu-system-x86_64"
# QEMU before 9.0 loses guest writes when it live-migrates a TCG guest: its
# dirty-bitmap sync clears dirty bits without resetting the TCG TLB's
# NOTDIRTY flags (fixed by QEMU commit 03bfc2188f06, "physmem: Fix migration
# dirty bitmap coherency with TCG memory access"), and migrated guests crash.
MIN_MIGRATION_QEMU = (9, 0)
BOOT_TIMEOUT = float(os.environ.get("VIRTNET_LAB_BOOT_TIMEOUT", "900"))
SSH_OPTS = [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=30",
    "-o", "IdentitiesOnly=yes",
]


class LabError(RuntimeError):
    """A lab operation failed; the message says what to do."""


def default_state_dir() -> Path:
    env = os.environ.get("VIRTNET_LAB_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "virtnet-failover" / "vms"


def _log(msg: str) -> None:
    print(f"[vm] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# instance bookkeeping


def _idir(name: str, state_dir: Path) -> Path:
    if not name or "/" in name or name.startswith(".") or name == "logs":
        raise LabError(f"invalid instance name {name!r}")
    return Path(state_dir) / name


def instance(name: str, state_dir: Path | None = None) -> dict | None:
    """Return the recorded instance dict, or None if there is none."""
    f = _idir(name, Path(state_dir or default_state_dir())) / "instance.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())


def _pid_alive(pid: int | None, overlay: str | None = None) -> bool:
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


def _read_pid(d: Path) -> int | None:
    try:
        return int((d / "qemu.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _qmp_path(d: Path, fname: str = "qmp.sock") -> Path:
    p = d / fname
    if len(str(p)) < 100:
        return p
    # AF_UNIX paths are limited to 108 bytes: fall back to a short path
    h = hashlib.sha256(str(d.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / (f"virtnet-lab-{h}.qmp" if fname == "qmp.sock" else f"virtnet-lab-{h}.{fname}")


BOOT_SLOTS = int(os.environ.get("VIRTNET_LAB_BOOT_SLOTS", str(max(1, os.cpu_count() or 1))))
SLOT_DIR = Path(tempfile.gettempdir()) / "virtnet-lab-boot-slots"


@contextlib.contextmanager
def boot_slot(name: str):
    """Host-wide admission control: at most BOOT_SLOTS guests boot at once.

    Booting is the CPU-heavy phase under TCG; many guests booting together on
    a small host stretch each boot past systemd's and udev's timeouts.  Every
    user of this launcher (all scenarios, the demo, the benchmarks, manual
    runs) shares the slots, which are flock()ed files (released by the kernel
    if the holder dies).  VIRTNET_LAB_BOOT_SLOTS overrides the count.
    """
    SLOT_DIR.mkdir(exist_ok=True)
    t0 = time.monotonic()
    said = False
    while True:
        for i in range(BOOT_SLOTS):
            fh = open(SLOT_DIR / f"slot{i}.lock", "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            if said:
                _log(f"{name}: got a boot slot after {time.monotonic() - t0:.0f}s")
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        if not said:
            _log(f"{name}: waiting for a boot slot ({BOOT_SLOTS} guests are booting)")
            said = True
        time.sleep(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# acceleration


def _start_on_free_port(label: str, command) -> tuple[int, str]:
    """Start a daemonizing QEMU whose hostfwd port is picked free, again with
    another port when a process took it in between.  ``command(port)`` gives
    the QEMU command line.  Returns (port, "") or (port, QEMU's error)."""
    port, err = 0, ""
    for attempt in range(6):
        port = _free_port()
        proc = subprocess.run(command(port), capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return port, ""
        err = (proc.stderr or proc.stdout).strip() or f"exit status {proc.returncode}"
        if "hostfwd" not in err and "forwarding" not in err:
            break
        _log(f"{label}: port {port} taken, retrying ({attempt + 1})")
    return port, err


def _kvm_verdict_file() -> Path:
    return lab_image.cache_root().parent / "kvm-verdict.json"


def qemu_version(binary: str | None = None) -> tuple[int, int, int]:
    """(major, minor, micro) of `binary --version` (default: the lab's QEMU)."""
    binary = binary or QEMU
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False, timeout=30).stdout
    except OSError as exc:
        raise LabError(f"{binary} does not run ({exc}): apt-get install qemu-system-x86, or `make setup`") from exc
    m = re.search(r"version (\d+)\.(\d+)(?:\.(\d+))?", out)
    if not m:
        raise LabError(f"{binary} --version printed no version: {out.strip()[:200]!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def migration_qemu_problem(version: tuple[int, ...]) -> str:
    """Why this QEMU must not live-migrate lab guests, or "" when it may."""
    if tuple(version[:2]) >= MIN_MIGRATION_QEMU:
        return ""
    have = ".".join(map(str, version))
    want = ".".join(map(str, MIN_MIGRATION_QEMU))
    return (f"QEMU {have} loses guest writes when it live-migrates a TCG guest, and the guest crashes "
            f"(fixed in QEMU {want}, commit 03bfc2188f06). On a Debian 12 host `make setup` installs QEMU from "
            f"bookworm-backports; elsewhere install QEMU >= {want}, or point VIRTNET_LAB_QEMU at one. "
            "VIRTNET_LAB_ALLOW_LOSSY_MIGRATION=1 migrates anyway (only to measure the old QEMU)")


def _host_fingerprint() -> str:
    qv = subprocess.run([QEMU, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[:1]
    return f"{os.uname().release} {qv}"


# TCG translation cache (MiB) and CPU model; VIRTNET_LAB_TB_SIZE and
# VIRTNET_LAB_CPU override them (bench/lab experiments).
TCG_TB_SIZE = "1024"
TCG_CPU = "max"


def accel_args(state_dir: Path) -> tuple[list[str], str]:
    """Return (qemu args, accel name).  TCG unless KVM was proven to boot."""
    want = os.environ.get("VIRTNET_LAB_ACCEL", "tcg").lower()
    tcg = (["-accel", f"tcg,tb-size={os.environ.get('VIRTNET_LAB_TB_SIZE', TCG_TB_SIZE)}",
            "-cpu", os.environ.get("VIRTNET_LAB_CPU", TCG_CPU)], "tcg")
    if want == "tcg":
        return tcg
    if want not in ("kvm", "auto"):
        raise LabError(f"VIRTNET_LAB_ACCEL={want!r}: use tcg (default), kvm or auto")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        _log("VIRTNET_LAB_ACCEL: /dev/kvm is not usable, using TCG")
        return tcg
    vf = _kvm_verdict_file()
    fp = _host_fingerprint()
    verdict = None
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(vf.read_text())
        if data.get("host") == fp:
            verdict = data.get("kvm_boots")
    if verdict is None:
        verdict = _probe_kvm(state_dir)
        vf.parent.mkdir(parents=True, exist_ok=True)
        vf.write_text(json.dumps({"host": fp, "kvm_boots": verdict, "at": time.time()}) + "\n")
    if verdict:
        return ["-accel", "kvm", "-cpu", "host"], "kvm"
    _log(f"KVM did not boot a guest on this host (cached in {vf}), using TCG")
    return tcg


def _probe_kvm(state_dir: Path) -> bool:
    """A real boot to SSH under KVM, 90 s budget."""
    _log("probing KVM with a real boot (once per host; verdict is cached)")
    probe_dir = Path(state_dir) / ".kvm-probe"
    try:
        up("kvm-probe", image="debian12", memory=512, state_dir=probe_dir,
           _accel=(["-accel", "kvm", "-cpu", "host"], "kvm"), timeout=90)
        return True
    except LabError as exc:
        _log(f"KVM probe failed: {exc}")
        return False
    finally:
        down_all(probe_dir)
        shutil.rmtree(probe_dir, ignore_errors=True)


# --------------------------------------------------------------------------
# up


def qemu_command(d: Path, overlay: Path, serial: Path, port: int, memory: int,
                 accel: list[str], name: str, pidfile: Path | None = None, qmp_socket: Path | None = None,
                 incoming: str | None = None) -> list[str]:
    """QEMU argv of a lab guest; with `incoming` the migration destination
    (same machine and devices, waits for `-incoming`, runs when it completes)."""
    mgmt_mac = lab_image.MGMT_MAC
    return [
        QEMU,
        "-name", f"virtnet-lab-{name}",
        "-machine", "q35",
        *accel,
        "-smp", "1",
        "-m", str(memory),
        "-nodefaults", "-no-user-config",
        "-display", "none", "-vga", "none",
        "-daemonize", *(["-incoming", incoming] if incoming else ["-S"]),
        "-pidfile", str(pidfile or d / "qemu.pid"),
        "-qmp", f"unix:{qmp_socket or _qmp_path(d)},server=on,wait=off",
        # append: a migration destination writes on after the source's lines
        "-chardev", f"file,id=serial0,path={serial},append=on",
        "-serial", "chardev:serial0",
        "-drive", f"file={overlay},if=none,id=disk0,format=qcow2,cache=unsafe,discard=unmap",
        "-device", "virtio-blk-pci,drive=disk0,bus=pcie.0",
        "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1",
        "-device", "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2",
        "-device", "pcie-root-port,id=rp3,bus=pcie.0,chassis=3,slot=3",
        "-netdev", "user,id=n0,restrict=on",
        "-device", f"virtio-net-pci,netdev=n0,id=standby0,failover=on,mac={FAILOVER_MAC},bus=rp1",
        "-netdev", "user,id=n1,restrict=on",
        # the e1000e primary0 is device_add-ed over QMP before `cont`, see
        # _plug_primary_at_start()
        "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device", f"virtio-net-pci,netdev=mgmt,id=mgmt0,mac={mgmt_mac},bus=rp3",
    ]


# --------------------------------------------------------------------------
# converged snapshots
#
# The default (Debian 12) and debian13 scenarios converge a fresh guest with
# the kmod role and then save its disk (`vm.py save`) as a qcow2 overlay of
# the base image, keyed by the base image and a hash of everything that
# decides the converged state (roles/, plugins/, playbooks/).  Scenarios
# whose subject is not the first install (drift, hotplug, migration, remove,
# fleet, rename_disabled) boot `IMAGE-converged`: the same state without another
# 5-minute DKMS build + initramfs + reboot under TCG.  Their converge still
# runs the real rollout (which must then change no DKMS build).  Without a
# snapshot for this code they boot the base image and converge from scratch.

CONVERGED_SUFFIX = "-converged"
CONVERGED_INPUTS = ("roles", "plugins", "playbooks")


def converged_key() -> str:
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[3]
    for top in CONVERGED_INPUTS:
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def converged_path(image: str) -> Path:
    base_dir = lab_image.image_dir(image)
    return lab_image.cache_root() / "converged" / f"{base_dir.name}-{converged_key()}.qcow2"


def _snapshot_usable(snap: Path, base: Path) -> bool:
    if not (snap.exists() and base.exists()):
        return False
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(snap)], capture_output=True, text=True, check=False)
    with contextlib.suppress(ValueError):
        return out.returncode == 0 and json.loads(out.stdout).get("backing-filename") == str(base)
    return False


def save(name: str, state_dir: Path | None = None, timeout: float = 180) -> Path:
    """Power NAME off cleanly and keep its disk as the converged snapshot of its image."""
    info = _require(name, state_dir)
    image = info["image"].removesuffix(CONVERGED_SUFFIX)
    if not _snapshot_usable(Path(info["overlay"]), lab_image.image_dir(image) / "disk.qcow2"):
        raise LabError(f"{name} was not booted from the base {image} image; only a guest converged from "
                       "scratch is saved as a snapshot")
    dest = converged_path(image)
    subprocess.run(ssh_argv(info, "sync; systemctl poweroff"), capture_output=True, timeout=60, check=False)
    deadline = time.monotonic() + timeout
    while _pid_alive(info["pid"], info["overlay"]):
        if time.monotonic() > deadline:
            raise LabError(f"{name} did not power off within {timeout:.0f} s")
        time.sleep(0.5)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}")
    shutil.copyfile(info["overlay"], tmp)
    os.replace(tmp, dest)
    for old in dest.parent.glob(f"{image}-*.qcow2"):
        if old != dest and old.stat().st_mtime < time.time() - 3600:
            with contextlib.suppress(OSError):
                old.unlink()
    _log(f"{name}: powered off; disk saved as the converged snapshot {dest}")
    return dest


def up(name: str, image: str = "debian12", memory: int = 768, state_dir: Path | None = None,
       timeout: float = BOOT_TIMEOUT, _accel: tuple[list[str], str] | None = None) -> dict:
    """Boot NAME (or return it if it already runs) and wait for SSH."""
    state_dir = Path(state_dir or default_state_dir()).absolute()
    d = _idir(name, state_dir)
    cur = instance(name, state_dir)
    if cur and _pid_alive(cur.get("pid"), cur.get("overlay")):
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
        if _snapshot_usable(snap, base):
            _log(f"{name}: booting the converged snapshot {snap.name} (made by this code in an earlier scenario)")
            base = snap
        else:
            _log(f"{name}: no converged {image} snapshot for this code ({snap.name}); booting the base image, "
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
        _log(f"{name}: the {image} recipe changed and its new image is not built yet; "
             f"using the older {base.parent.name} (VIRTNET_LAB_ALLOW_OLD_IMAGE=1; run `make images` to update)")
    if not shutil.which(QEMU):
        raise LabError(f"{QEMU} not found: apt-get install qemu-system-x86")
    d.mkdir(parents=True)
    logs = state_dir / "logs"
    logs.mkdir(exist_ok=True)
    serial = logs / f"{name}.serial.log"
    serial.write_text("")
    overlay = d / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(overlay)],
                   check=True)
    accel, accel_name = _accel or accel_args(state_dir)
    with boot_slot(name):
        return _boot(name, image, memory, state_dir, timeout, d, serial, overlay, accel, accel_name, base)


def _boot(name, image, memory, state_dir, timeout, d, serial, overlay, accel, accel_name, base) -> dict:
    t0 = time.monotonic()
    port, err = _start_on_free_port(name, lambda port: qemu_command(d, overlay, serial, port, memory, accel, name))
    if err:
        shutil.rmtree(d, ignore_errors=True)
        raise LabError(f"{name}: QEMU failed to start: {err}")
    pid = _read_pid(d)
    key = lab_image.ensure_key()
    info = {
        "name": name,
        "image": image,
        "address": "127.0.0.1",
        "port": port,
        "user": "root",
        "identity_file": str(key),
        "pid": pid,
        "qmp_socket": str(_qmp_path(d)),
        "serial_log": str(serial),
        "overlay": str(overlay),
        "base": str(base),
        "memory": memory,
        "accel": accel_name,
        "failover_mac": FAILOVER_MAC,
        "state_dir": str(state_dir),
        "qemu": QEMU,
    }
    (d / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    try:
        _plug_primary_at_start(info)
        _wait_ssh(info, timeout)
    except BaseException:
        down(name, state_dir)
        raise
    info["boot_seconds"] = round(time.monotonic() - t0, 1)
    (d / "instance.json").write_text(json.dumps(info, indent=2) + "\n")
    _log(f"{name}: SSH up after {info['boot_seconds']}s on 127.0.0.1:{port} ({accel_name})")
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
        if not _pid_alive(info["pid"], info["overlay"]):
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
# QMP


async def _qmp_session(info: dict, coro_fn, timeout: float = 30):
    from qemu.qmp import QMPClient  # the venv provides qemu.qmp

    qmp = QMPClient(info["name"])
    await asyncio.wait_for(qmp.connect(info["qmp_socket"]), 10)
    try:
        return await asyncio.wait_for(coro_fn(qmp), timeout)
    finally:
        with contextlib.suppress(Exception):
            await qmp.disconnect()


def qmp(name: str, command: str, arguments: dict | None = None, state_dir: Path | None = None):
    """Run one QMP command on NAME and return its result."""
    info = _require(name, state_dir)

    async def go(q):
        return await q.execute(command, arguments or {})

    return asyncio.run(_qmp_session(info, go))


def _require(name: str, state_dir: Path | None) -> dict:
    info = instance(name, state_dir)
    if not info or not _pid_alive(info.get("pid"), info.get("overlay")):
        raise LabError(f"{name}: no running instance in {state_dir or default_state_dir()} (start it with vm.py up {name})")
    return info


PRIMARY_DEVICE = {
    "driver": "e1000e",
    "id": "primary0",
    "netdev": "n1",
    "mac": FAILOVER_MAC,
    "bus": "rp2",
    "failover_pair_id": "standby0",
    # no option ROM: its RAM block exists only where the ROM was loaded, and a
    # migration destination refuses an unknown one ("Unknown ramblock")
    "romfile": "",
}


def _plug_primary_at_start(info: dict) -> None:
    """device_add the primary while QEMU is still paused (-S), then cont.

    A failover primary given with -device keeps its command-line options in
    QEMU for good, so its id can never be device_add-ed again after an
    unplug ("Duplicate ID").  Added over QMP, the options go away with the
    device, and virtio-net accepts a primary of the same id again: that is
    what makes replug() repeatable.  QEMU keeps it hidden until the guest
    acks VIRTIO_NET_F_STANDBY, exactly as with -device.
    """

    async def go(q):
        await q.execute("device_add", dict(PRIMARY_DEVICE))
        await q.execute("cont")

    asyncio.run(_qmp_session(info, go, 30))


def replug(name: str, state_dir: Path | None = None, wait_guest: bool = True, timeout: float = 120) -> dict:
    """Unplug the primary (device_del, wait DEVICE_DELETED) and plug it back
    (device_add of the same e1000e, same id/MAC/root port)."""
    from qemu.qmp import EventListener, ExecuteError

    info = _require(name, state_dir)
    times: dict = {}

    async def go(q):
        t0 = time.monotonic()
        present = {p["name"] for p in await q.execute("qom-list", {"path": "/machine/peripheral"})}
        if "primary0" in present:
            listener = EventListener(("DEVICE_DELETED",))
            with q.listen(listener):
                try:
                    await q.execute("device_del", {"id": "primary0"})
                except ExecuteError as exc:
                    raise LabError(f"{name}: device_del primary0 failed: {exc}") from exc
                async for ev in listener:
                    if ev.get("data", {}).get("device") == "primary0":
                        break
            times["unplug_seconds"] = round(time.monotonic() - t0, 1)
        else:
            # hidden (guest has not acked the standby yet) or a previous
            # replug stopped between device_del and device_add
            _log(f"{name}: primary0 is not plugged; plugging it")
            times["unplug_seconds"] = None
        t1 = time.monotonic()
        for attempt in range(40):
            try:
                await q.execute("device_add", dict(PRIMARY_DEVICE))
                break
            except ExecuteError as exc:
                if "Duplicate ID" not in str(exc) or attempt == 39:
                    raise LabError(f"{name}: device_add primary0 failed: {exc}") from exc
                await asyncio.sleep(0.5)
        times["plug_seconds"] = round(time.monotonic() - t1, 1)

    try:
        asyncio.run(_qmp_session(info, go, timeout))
    except asyncio.TimeoutError as exc:
        raise LabError(f"{name}: the guest did not release primary0 within {timeout}s") from exc
    if wait_guest:
        t2 = time.monotonic()
        deadline = t2 + timeout
        while True:
            slaves = guest_failover_slaves(info)
            if any(s["driver"] == "e1000e" for s in slaves):
                break
            if time.monotonic() > deadline:
                raise LabError(f"{name}: the guest did not enslave the re-plugged primary within {timeout}s: {slaves}")
            time.sleep(1)
        times["guest_seconds"] = round(time.monotonic() - t2, 1)
        times["slaves"] = slaves
    _log(f"{name}: primary0 re-plugged {times}")
    return times


GUEST_SLAVES_SH = (
    'for n in /sys/class/net/*; do [ -e "$n/master" ] || continue; '
    'echo "$(basename "$n") $(basename "$(readlink -f "$n/device/driver")") $(basename "$(readlink -f "$n/master")")"; done'
)


def guest_failover_slaves(info: dict) -> list[dict]:
    r = subprocess.run(ssh_argv(info, GUEST_SLAVES_SH), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       timeout=60, check=False)
    out = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append({"name": parts[0], "driver": parts[1], "master": parts[2]})
    return out


# --------------------------------------------------------------------------
# live migration
#
# migrate() moves a running guest to a new QEMU on this host, as a hypervisor
# moves a VM with a failover pair: the destination gets the same machine,
# devices and MACs and `-incoming unix:...`; its primary is device_add-ed
# over QMP before the migration (hidden until the migrated virtio-net state
# restores the negotiated STANDBY feature, then plugged).  The source
# unplugs its primary by itself when the migration starts (state
# `wait-unplug`), and on a failed or cancelled migration plugs it back.
# Both QEMUs open the same qcow2 overlay (shared storage): the destination
# opens it inactive and takes it over at switchover, when the source has
# flushed and inactivated it, so QEMU's image locking lets both open it.
# The destination listens on its own hostfwd port until the source quits,
# then takes over the instance's port (HMP hostfwd_add), so the SSH address
# (and Molecule's inventory) stays the same.

MIGRATION_FINAL = ("completed", "failed", "cancelled")
MIGRATION_BANDWIDTH = 4 << 30  # bytes/s: a unix socket on this host, no reason to throttle
CANCEL_BANDWIDTH = 16 << 20  # slow enough that `cancel_at` catches the state it names
# the probe's temporary address and routing table on the failover master
PROBE_ADDR, PROBE_GW, PROBE_TABLE = "10.0.2.16", "10.0.2.2", "7316"
PROBE_MARK = "vnfo-migration-probe"

# In-guest probe (python3 of the image): every 20 ms it reads which e1000e
# is enslaved and under which name, and writes each change to the serial
# console (the host timestamps it there); every 100 ms it sends an ICMP echo
# from the failover master to the user network's gateway and counts replies.
GUEST_PROBE_PY = r'''
import json, os, select, signal, socket, struct, sys, time
mark, master, gw, out = sys.argv[1:5]
def primary():
    for n in sorted(os.listdir("/sys/class/net")):
        p = "/sys/class/net/" + n
        try:
            if os.path.basename(os.readlink(p + "/device/driver")) == "e1000e":
                return n, os.path.basename(os.readlink(p + "/master"))
        except OSError:
            continue
    return "-", "-"
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
sk = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sk.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, master.encode())
ident = os.getpid() & 0xFFFF
tty = open("/dev/ttyS0", "w")
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
sent, got, last_reply, max_gap, seq, tick, last = {}, set(), None, 0.0, 0, 0, None
t_end = None
while True:
    now = time.monotonic()
    if stop and t_end is None:
        t_end = now + 1.0  # a last second for replies in flight
    if t_end is not None and now >= t_end:
        break
    cur = primary()
    if cur != last:
        tty.write("%s primary %s %s\n" % (mark, cur[0], cur[1])); tty.flush()
        if last is None:
            open(out + ".ready", "w").close()  # the first state is on the console: the host may measure from here
        last = cur
    if tick % 5 == 0 and t_end is None:
        seq = (seq + 1) & 0xFFFF
        h = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"vnfo" * 8
        pkt = h[:2] + struct.pack("!H", csum(h)) + h[4:]
        try:
            sk.sendto(pkt, (gw, 0))
        except OSError:
            pass  # no route while the master has no slave: a loss
        sent[seq] = now
    tick += 1
    while select.select([sk], [], [], 0)[0]:
        data = sk.recv(2048)
        icmp = data[(data[0] & 15) * 4:]
        typ, _c, _s, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if typ == 0 and rid == ident and rseq in sent and rseq not in got:
            got.add(rseq)
            if last_reply is not None:
                max_gap = max(max_gap, now - last_reply)
            last_reply = now
    time.sleep(0.02)
with open(out, "w") as fh:
    json.dump({"sent": len(sent), "received": len(got), "lost": len(sent) - len(got),
               "max_reply_gap_ms": round(max_gap * 1000)}, fh)
'''

GUEST_PROBE_START_SH = f'''set -eu
m=""
for n in /sys/class/net/*; do
  [ -e "$n/master" ] || continue
  [ "$(basename "$(readlink -f "$n/device/driver")")" = virtio_net ] && m=$(basename "$(readlink -f "$n/master")")
done
[ -n "$m" ] || {{ echo "no failover master with a virtio_net standby" >&2; exit 1; }}
ip addr replace {PROBE_ADDR}/32 dev "$m"
ip rule del oif "$m" table {PROBE_TABLE} 2>/dev/null || true
ip rule add oif "$m" table {PROBE_TABLE}
ip route replace {PROBE_GW} dev "$m" table {PROBE_TABLE}
rm -f /run/{PROBE_MARK}.json /run/{PROBE_MARK}.json.ready
printf '%s' "$PROBE_PY" > /run/{PROBE_MARK}.py
setsid python3 /run/{PROBE_MARK}.py {PROBE_MARK} "$m" {PROBE_GW} /run/{PROBE_MARK}.json \\
  </dev/null >/run/{PROBE_MARK}.log 2>&1 &
echo $! > /run/{PROBE_MARK}.pid
for _ in $(seq 300); do [ -e /run/{PROBE_MARK}.json.ready ] && break; sleep 0.1; done
[ -e /run/{PROBE_MARK}.json.ready ] || {{ echo "the probe did not start: $(cat /run/{PROBE_MARK}.log)" >&2; exit 1; }}
echo "$m"
'''

GUEST_PROBE_STOP_SH = f'''set -u
m="$1"
p=$(cat /run/{PROBE_MARK}.pid 2>/dev/null || true)
[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
for _ in $(seq 50); do [ -s /run/{PROBE_MARK}.json ] && break; sleep 0.1; done
ip rule del oif "$m" table {PROBE_TABLE} 2>/dev/null
ip route flush table {PROBE_TABLE} 2>/dev/null
ip addr del {PROBE_ADDR}/32 dev "$m" 2>/dev/null
cat /run/{PROBE_MARK}.json 2>/dev/null || {{ echo '{{}}'; cat /run/{PROBE_MARK}.log >&2; }}
rm -f /run/{PROBE_MARK}.*
'''


# What a migration that corrupted guest memory leaves: an Oops, a BUG, a
# warning, a lockup or a stall in the guest kernel's log, or a reboot (a
# panic reboots the guest, so its boot id changes and the Oops is only on
# the serial console).
GUEST_FAULT_RE = (r"Oops|\bBUG\b|WARNING:|general protection fault|Kernel panic|soft lockup|hard LOCKUP"
                  r"|rcu.*stall|list_(add|del) corruption|Call Trace")
GUEST_HEALTH_SH = (
    "cat /proc/sys/kernel/random/boot_id; "
    'for n in /sys/class/net/*; do [ -e "$n/master" ] || continue; m=$(basename "$(readlink -f "$n/master")"); '
    'echo "slave $(basename "$n") $(basename "$(readlink -f "$n/device/driver")") $m $(cat "/sys/class/net/$m/flags")"; '
    "done; "
    f"dmesg | grep -E {shlex.quote(GUEST_FAULT_RE)} | sed 's/^/fault /' || true"
)
IFF_UP = 0x1


def parse_guest_health(out: str) -> dict:
    """GUEST_HEALTH_SH's output: boot id, failover slaves (with their master's UP flag), kernel fault lines."""
    lines = out.splitlines()
    health: dict = {"boot_id": lines[0].strip() if lines else "", "faults": [], "slaves": []}
    for line in lines[1:]:
        kind, _sep, rest = line.partition(" ")
        if kind == "fault":
            health["faults"].append(rest)
        elif kind == "slave" and len(rest.split()) == 4:
            name, driver, master, flags = rest.split()
            with contextlib.suppress(ValueError):
                health["slaves"].append({"name": name, "driver": driver, "master": master,
                                         "master_up": bool(int(flags, 16) & IFF_UP)})
    return health


def guest_health(info: dict, timeout: float = 60) -> dict:
    """The guest's boot id, failover slaves and the fault lines of its kernel log, in one SSH call; boot_id
    is "" when the guest does not answer SSH."""
    try:
        r = subprocess.run(ssh_argv(info, GUEST_HEALTH_SH), capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return parse_guest_health("")
    return parse_guest_health(r.stdout if r.returncode == 0 else "")


def guest_health_problem(before: dict, after: dict) -> str:
    """What went wrong with the guest between two guest_health() reads, or ""."""
    if not after["boot_id"]:
        return "the guest did not answer SSH (a crashed guest panics and reboots)"
    if after["boot_id"] != before["boot_id"]:
        return (f"the guest rebooted (boot id {before['boot_id']} -> {after['boot_id']}): its kernel crashed, "
                "the Oops is in the serial log")
    old = before["faults"]
    new = after["faults"][len(old):] if after["faults"][:len(old)] == old else \
        [line for line in after["faults"] if line not in old]
    if new:
        return "the guest kernel logged: " + " | ".join(new[:10])
    return ""


def serial_faults(info: dict, offset: int, n: int = 20) -> list[str]:
    """The fault lines the guest wrote to its serial console since offset."""
    try:
        with open(info["serial_log"], "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    pat = re.compile(GUEST_FAULT_RE)
    return [line.strip() for line in text.splitlines() if pat.search(line)][:n]


def _write_info(d: Path, info: dict) -> None:
    tmp = d / "instance.json.tmp"
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, d / "instance.json")


def _kill_qemu(pid: int | None, overlay: str | None, qmp_socket: str | None, timeout: float = 10) -> bool:
    """QMP quit, then SIGTERM, then SIGKILL; True if a QEMU was running."""
    if not _pid_alive(pid, overlay):
        return False
    if qmp_socket:
        with contextlib.suppress(Exception):
            async def go(q):
                await q.execute("quit")
            asyncio.run(_qmp_session({"name": "quit", "qmp_socket": qmp_socket}, go, 5))
    deadline = time.monotonic() + timeout
    sig = signal.SIGTERM
    while _pid_alive(pid, overlay):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            sig = signal.SIGKILL
            deadline = time.monotonic() + 5
        time.sleep(0.1)
    return True


def _stop_migration_destination(info: dict) -> bool:
    """Stop a destination QEMU a migration left behind (the migrating process died)."""
    dest = info.get("migrating_to") or {}
    stopped = _kill_qemu(dest.get("pid") or _read_pid_file(dest.get("pidfile")), info.get("overlay"),
                         dest.get("qmp_socket"))
    for key in ("qmp_socket", "migration_socket", "pidfile"):
        if dest.get(key):
            with contextlib.suppress(OSError):
                os.unlink(dest[key])
    return stopped


def _read_pid_file(path: str | None) -> int | None:
    if not path:
        return None
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _start_destination(info: dict, d: Path, dest: dict, fault: str | None) -> None:
    """Start the destination QEMU (its own hostfwd port, retried if taken)."""
    accel = (["-accel", "kvm", "-cpu", "host"] if info.get("accel") == "kvm" else
             ["-accel", f"tcg,tb-size={os.environ.get('VIRTNET_LAB_TB_SIZE', TCG_TB_SIZE)}",
              "-cpu", os.environ.get("VIRTNET_LAB_CPU", TCG_CPU)])

    def command(port: int) -> list[str]:
        cmd = qemu_command(d, Path(info["overlay"]), Path(info["serial_log"]), port, info["memory"],
                           accel, info["name"], pidfile=Path(dest["pidfile"]),
                           qmp_socket=Path(dest["qmp_socket"]), incoming=f"unix:{dest['migration_socket']}")
        if fault == "dest-start":
            cmd += ["-device", "virtnet-lab-no-such-device"]  # injected: QEMU refuses to start
        return cmd

    dest["port"], err = _start_on_free_port(f"{info['name']} destination", command)
    if not err:
        dest["pid"] = _read_pid_file(dest["pidfile"])
        return
    raise LabError(f"{info['name']}: the migration destination QEMU failed to start: {err}; "
                   "the guest stays on the source")


async def _migrate_qmp(info: dict, dest: dict, cancel_at: str | None, timeout: float) -> dict:
    """Drive the migration over both QMP sockets; returns states and QEMU's figures."""
    from qemu.qmp import QMPClient

    src, dst = QMPClient(info["name"] + "-src"), QMPClient(info["name"] + "-dst")
    await asyncio.wait_for(src.connect(info["qmp_socket"]), 10)
    try:
        await asyncio.wait_for(dst.connect(dest["qmp_socket"]), 10)
        # hidden until the migrated virtio-net state says the guest acked STANDBY
        await dst.execute("device_add", dict(PRIMARY_DEVICE))
        await src.execute("migrate-set-parameters",
                          {"max-bandwidth": CANCEL_BANDWIDTH if cancel_at else MIGRATION_BANDWIDTH})
        t0 = time.monotonic()
        await src.execute("migrate", {"uri": f"unix:{dest['migration_socket']}"})
        states: list = []
        cancel_sent = timed_out = False
        while True:
            q = await src.execute("query-migrate")
            st = q.get("status", "none")
            if not states or states[-1][0] != st:
                states.append([st, round(time.monotonic() - t0, 2)])
            if st in MIGRATION_FINAL:
                break
            if not cancel_sent and (st == cancel_at or time.monotonic() - t0 > timeout):
                timed_out = st != cancel_at
                await src.execute("migrate_cancel")
                cancel_sent = True
            await asyncio.sleep(0.05)
        res = {"state": st, "states": states, "downtime_ms": q.get("downtime"),
               "qemu_total_ms": q.get("total-time"), "setup_ms": q.get("setup-time"),
               "ram_transferred_mib": round(q.get("ram", {}).get("transferred", 0) / 2**20, 1),
               "timed_out": timed_out}
        if st == "completed":
            while (await dst.execute("query-status"))["status"] != "running":
                if time.monotonic() - t0 > timeout:
                    raise LabError(f"{info['name']}: the destination did not resume within {timeout:.0f}s")
                await asyncio.sleep(0.02)
            res["resumed_after_s"] = round(time.monotonic() - t0, 2)
            res["resumed_at_monotonic"] = time.monotonic()
        else:
            # the source runs on: QEMU resumes it and plugs its primary back
            status = (await src.execute("query-status"))["status"]
            if status != "running":
                await src.execute("cont")
        return res
    finally:
        for c in (src, dst):
            with contextlib.suppress(Exception):
                await c.disconnect()


def _take_over_port(info: dict, dest: dict) -> int:
    """After the source quit: forward the instance's port to the destination too."""
    async def go(q):
        out = await q.execute("human-monitor-command",
                              {"command-line": f"hostfwd_add mgmt tcp:127.0.0.1:{info['port']}-:22"})
        if out.strip():
            return out.strip()
        await q.execute("human-monitor-command",
                        {"command-line": f"hostfwd_remove mgmt tcp:127.0.0.1:{dest['port']}"})
        return ""

    err = ""
    for _attempt in range(20):  # the source's listening socket goes away with its process
        err = asyncio.run(_qmp_session({"name": info["name"], "qmp_socket": dest["qmp_socket"]}, go, 10))
        if not err:
            return info["port"]
        time.sleep(0.1)
    _log(f"{info['name']}: could not move port {info['port']} to the destination ({err}); "
         f"the guest is reachable on {dest['port']}")
    return dest["port"]


def _wait_primary_on_serial(info: dict, offset: int, want_name: str | None, timeout: float,
                            out: dict) -> None:
    """Seconds from the resume until the probe reported the e1000e enslaved
    (under want_name if given), into out["resume_to_primary_s"] / out["primary"]."""
    t0 = out["resumed_at_monotonic"]
    seen = ""
    while time.monotonic() - t0 < timeout:
        with open(info["serial_log"], "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
        gone = False  # a migration unplugs the primary first: only its return counts
        for line in text.splitlines():
            parts = line.strip().split()
            if len(parts) == 4 and parts[0] == PROBE_MARK and parts[1] == "primary":
                seen = f"{parts[2]} {parts[3]}"
                gone = gone or parts[3] == "-"
                if gone and parts[3] != "-" and (want_name is None or parts[2] == want_name):
                    out["resume_to_primary_s"] = round(time.monotonic() - t0, 2)
                    out["primary"] = parts[2]
                    return
        time.sleep(0.02)
    out["probe_error"] = (f"{info['name']}: the primary was not enslaved{' as ' + want_name if want_name else ''} "
                          f"within {timeout:.0f}s of the resume (probe last saw: {seen or 'nothing'})")


def migrate(name: str, state_dir: Path | None = None, timeout: float = 300, cancel_at: str | None = None,
            fault: str | None = None, probe: bool = True, primary_name: str | None = None,
            guest_timeout: float = 120) -> dict:
    """Live-migrate NAME to a new QEMU on this host; the instance record then points at it.

    cancel_at: a migration state (e.g. "active"): migrate_cancel when the
    source reaches it; the guest stays on the source (result state
    "cancelled").  fault="dest-start": the destination QEMU is given a
    device that does not exist, so it fails to start (LabError, source
    untouched).  probe: measure in the guest (ping loss every 100 ms, time
    from the resume until the primary is enslaved, under primary_name if
    given).  Any failure stops the destination and keeps the source.
    """
    if fault not in (None, "dest-start"):
        raise LabError(f"unknown fault {fault!r}: use dest-start")
    if cancel_at is not None and cancel_at not in ("setup", "wait-unplug", "active", "device"):
        raise LabError(f"cancel_at {cancel_at!r}: use setup, wait-unplug, active or device")
    state_dir = Path(state_dir or default_state_dir()).absolute()
    problem = migration_qemu_problem(qemu_version())
    if problem and os.environ.get("VIRTNET_LAB_ALLOW_LOSSY_MIGRATION") != "1":
        raise LabError(f"{name}: not migrated: {problem}")
    info = _require(name, state_dir)
    if info.get("qemu", QEMU) != QEMU:
        raise LabError(f"{name} runs on {info['qemu']}, this process would start the destination with {QEMU}: "
                       "a migration needs the same QEMU on both sides (set VIRTNET_LAB_QEMU as at `vm.py up`)")
    if info.get("migrating_to"):
        _stop_migration_destination(info)
        info.pop("migrating_to")
    d = _idir(name, state_dir)
    gen = int(info.get("generation", 0)) + 1
    dest = {"pidfile": str(d / f"qemu.{gen}.pid"), "qmp_socket": str(_qmp_path(d, f"qmp.{gen}.sock")),
            "migration_socket": str(_qmp_path(d, f"migrate.{gen}.sock")), "pid": None}
    info["migrating_to"] = dest  # down() stops it if this process dies midway
    _write_info(d, info)
    t0 = time.monotonic()
    result: dict = {"name": name, "source_pid": info["pid"]}
    master = None
    done = False
    try:
        _start_destination(info, d, dest, fault)
        _write_info(d, info)
        result["destination_pid"] = dest["pid"]
        health = guest_health(info)
        if not health["boot_id"]:
            raise LabError(f"{name}: the guest does not answer SSH, so it is not migrated")
        if probe:
            r = subprocess.run(ssh_argv(info, f"PROBE_PY={shlex.quote(GUEST_PROBE_PY)}; export PROBE_PY; "
                                        + GUEST_PROBE_START_SH),
                               capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
            if r.returncode != 0:
                raise LabError(f"{name}: could not start the in-guest probe: {r.stderr.strip()}")
            master = r.stdout.strip()
            time.sleep(1.0)  # a few pings on the primary before the move
        serial_offset = Path(info["serial_log"]).stat().st_size
        result.update(asyncio.run(_migrate_qmp(info, dest, cancel_at, timeout)))
        if result["state"] != "completed":
            if cancel_at and result["state"] == "cancelled" and not result["timed_out"]:
                result["on"] = "source"
                return result
            raise LabError(f"{name}: migration ended {result['state']} (states {result['states']}); "
                           "the guest stays on the source")
        # the guest runs on the destination now: from here on it is never stopped
        done = True
        watch = None
        if probe:  # timestamps the probe's serial lines while the switch goes on
            watch = threading.Thread(target=_wait_primary_on_serial, daemon=True,
                                     args=(info, serial_offset, primary_name, guest_timeout, result))
            watch.start()
        source = {k: info[k] for k in ("pid", "qmp_socket")}
        info.update(pid=dest["pid"], qmp_socket=dest["qmp_socket"], port=dest["port"], generation=gen,
                    source_port=info["port"])
        info.pop("migrating_to", None)
        _write_info(d, info)
        (d / "qemu.pid").write_text(f"{dest['pid']}\n")
        _kill_qemu(source["pid"], info["overlay"], source["qmp_socket"])
        with contextlib.suppress(OSError):
            os.unlink(source["qmp_socket"])
        with contextlib.suppress(OSError):
            os.unlink(dest["migration_socket"])
        info["port"] = _take_over_port(dict(info, port=info.pop("source_port")), dest)
        _write_info(d, info)
        result["on"] = "destination"
        port = info["port"]
        result["port"] = port
        if watch:
            watch.join()
        after = guest_health(info)
        problem = guest_health_problem(health, after)
        result["boot_id"] = after["boot_id"]
        result["slaves"] = after["slaves"]
        if problem:
            result["guest_fault"] = problem
            oops = serial_faults(info, serial_offset)
            raise LabError(f"{name}: the guest crashed across the migration: {problem}"
                           + (f"; serial console: {' | '.join(oops)}" if oops else "")
                           + f" (serial log {info['serial_log']})")
        if "probe_error" in result:
            raise LabError(result["probe_error"])
        result.pop("resumed_at_monotonic", None)
        result["total_s"] = round(time.monotonic() - t0, 2)
        return result
    finally:
        if master:
            r = subprocess.run(ssh_argv(info, "sh", "-s", "--", master), input=GUEST_PROBE_STOP_SH,
                               capture_output=True, text=True, timeout=60, check=False)
            # a guest that stopped answering leaves no JSON: keep the real error
            lines = r.stdout.strip().splitlines()
            with contextlib.suppress(ValueError):
                result["traffic"] = json.loads(lines[-1]) if lines else {}
        if not done:
            _stop_migration_destination(info)
            info.pop("migrating_to", None)
            if (d / "instance.json").exists():
                _write_info(d, info)
        figures = {k: v for k, v in result.items() if k != 'states'}
        _log(f"{name}: migration {result.get('state', 'not started')}, now on the "
             f"{result.get('on', 'source')} ({figures})")

# --------------------------------------------------------------------------
# down / status / ssh


def down(name: str, state_dir: Path | None = None, timeout: float = 15) -> bool:
    """Stop NAME and remove its overlay and state.  True if something was stopped."""
    state_dir = Path(state_dir or default_state_dir())
    d = _idir(name, state_dir)
    info = instance(name, state_dir) or {}
    overlay = info.get("overlay") or str(d / "overlay.qcow2")
    pid = info.get("pid") or _read_pid(d)
    stopped = _stop_migration_destination(info)
    if _kill_qemu(pid, overlay, info.get("qmp_socket") or str(_qmp_path(d)), timeout):
        stopped = True
    qsock = info.get("qmp_socket")
    if qsock and not str(qsock).startswith(str(d)):
        with contextlib.suppress(OSError):
            os.unlink(qsock)
    shutil.rmtree(d, ignore_errors=True)
    if stopped:
        _log(f"{name}: stopped")
    return stopped


def down_all(state_dir: Path | None = None) -> list[str]:
    state_dir = Path(state_dir or default_state_dir())
    names = []
    if state_dir.is_dir():
        for d in sorted(state_dir.iterdir()):
            if d.is_dir() and d.name != "logs" and not d.name.startswith("."):
                down(d.name, state_dir)
                names.append(d.name)
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
    names = [name] if name else ([d.name for d in sorted(state_dir.iterdir())
                                  if d.is_dir() and d.name != "logs" and not d.name.startswith(".")]
                                 if state_dir.is_dir() else [])
    res = []
    for n in names:
        info = instance(n, state_dir)
        if info is None:
            res.append({"name": n, "running": False})
            continue
        running = _pid_alive(info.get("pid"), info.get("overlay"))
        res.append({**info, "running": running, **(_rss(info["pid"]) if running else {})})
    return res


def ssh(name: str, *cmd: str, state_dir: Path | None = None, check: bool = False,
        timeout: float | None = None) -> subprocess.CompletedProcess:
    info = _require(name, state_dir)
    return subprocess.run(ssh_argv(info, *cmd), capture_output=True, text=True, check=check,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def ssh_config(info: dict) -> str:
    return (f"Host {info['name']}\n  HostName 127.0.0.1\n  Port {info['port']}\n  User root\n"
            f"  IdentityFile {info['identity_file']}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
            "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")


# --------------------------------------------------------------------------
# CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--state-dir", type=Path, default=None, help="instance state dir (default: %(default)s)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS)
    p = sub.add_parser("up", parents=[common], help="boot an instance and wait for SSH; prints JSON")
    p.add_argument("name")
    p.add_argument("--image", default="debian12",
                   choices=sorted(lab_image.IMAGES) + [i + CONVERGED_SUFFIX for i in sorted(lab_image.IMAGES)])
    p.add_argument("--memory", type=int, default=768, help="MiB (default 768)")
    p.add_argument("--timeout", type=float, default=BOOT_TIMEOUT)
    p = sub.add_parser("down", parents=[common], help="stop an instance, remove overlay and state")
    p.add_argument("name", nargs="?")
    p.add_argument("--all", action="store_true", help="every instance of the state dir")
    p = sub.add_parser("replug", parents=[common], help="QMP device_del + device_add of the primary")
    p.add_argument("name")
    p.add_argument("--no-wait-guest", action="store_true", help="do not wait for the guest to enslave it")
    p.add_argument("--timeout", type=float, default=120)
    p = sub.add_parser("migrate", parents=[common],
                       help="live-migrate to a new QEMU on this host (the record then points at it); prints JSON")
    p.add_argument("name")
    p.add_argument("--primary-name", default=None,
                   help="wait until the guest has enslaved the new primary under this name")
    p.add_argument("--no-probe", action="store_true", help="no in-guest ping and primary timing")
    p.add_argument("--cancel-at", default=None, choices=["setup", "wait-unplug", "active", "device"],
                   help="fault: migrate_cancel when the source reaches this state")
    p.add_argument("--fault", default=None, choices=["dest-start"],
                   help="fault: the destination QEMU fails to start")
    p.add_argument("--timeout", type=float, default=300)
    p = sub.add_parser("save", parents=[common], help="power off and keep the disk as the converged snapshot")
    p.add_argument("name")
    p = sub.add_parser("status", parents=[common], help="JSON status (with peak RSS) of instances")
    p.add_argument("name", nargs="?")
    p = sub.add_parser("ssh", parents=[common], help="ssh into an instance: vm.py ssh NAME -- CMD")
    p.add_argument("name")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("ssh-config", parents=[common], help="print an ssh_config stanza")
    p.add_argument("name")
    p = sub.add_parser("qmp", parents=[common], help="run one QMP command: vm.py qmp NAME CMD [JSON-ARGS]")
    p.add_argument("name")
    p.add_argument("qmp_command")
    p.add_argument("arguments", nargs="?", default="{}")
    args = ap.parse_args(argv)
    sd = args.state_dir
    try:
        if args.cmd == "up":
            print(json.dumps(up(args.name, args.image, args.memory, sd, timeout=args.timeout), indent=2))
        elif args.cmd == "down":
            if args.all:
                down_all(sd)
            elif args.name:
                down(args.name, sd)
            else:
                ap.error("down needs NAME or --all")
        elif args.cmd == "replug":
            print(json.dumps(replug(args.name, sd, wait_guest=not args.no_wait_guest, timeout=args.timeout)))
        elif args.cmd == "migrate":
            print(json.dumps(migrate(args.name, sd, timeout=args.timeout, cancel_at=args.cancel_at, fault=args.fault,
                                     probe=not args.no_probe, primary_name=args.primary_name)))
        elif args.cmd == "status":
            print(json.dumps(status(args.name, sd), indent=2))
        elif args.cmd == "save":
            print(save(args.name, sd))
        elif args.cmd == "ssh":
            cmd = list(args.command)
            while cmd[:1] and cmd[0].startswith("--state-dir"):
                # REMAINDER swallowed an option written after NAME
                if "=" in cmd[0]:
                    sd = Path(cmd.pop(0).split("=", 1)[1])
                elif len(cmd) > 1:
                    cmd.pop(0)
                    sd = Path(cmd.pop(0))
                else:
                    break
            info = _require(args.name, sd)
            cmd = cmd[1:] if cmd[:1] == ["--"] else cmd
            tty = not cmd and sys.stdin.isatty()
            os.execvp("ssh", ssh_argv(info, *cmd, tty=tty))
        elif args.cmd == "ssh-config":
            print(ssh_config(_require(args.name, sd)), end="")
        elif args.cmd == "qmp":
            print(json.dumps(qmp(args.name, args.qmp_command, json.loads(args.arguments), sd), indent=2))
    except LabError as exc:
        print(f"vm.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
