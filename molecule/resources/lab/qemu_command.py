# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The QEMU a lab guest runs on: which binary and version, which acceleration
(TCG, or KVM once a real boot proved it on this host), and its command line.

Other lab modules read the binary as ``qemu_command.QEMU`` when they use it,
so that a test (or a bench) that sets it here is seen everywhere.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import image as lab_image
from lab_common import LabError, log

FAILOVER_MAC = "52:54:00:00:0f:01"
# VIRTNET_LAB_QEMU: another QEMU binary (or a wrapper that execs one), e.g.
# to compare QEMU versions in bench/bench_migration.py.
QEMU = os.environ.get("VIRTNET_LAB_QEMU") or "qemu-system-x86_64"
# QEMU before 9.0 loses guest writes when it live-migrates a TCG guest: its
# dirty-bitmap sync clears dirty bits without resetting the TCG TLB's
# NOTDIRTY flags (fixed by QEMU commit 03bfc2188f06, "physmem: Fix migration
# dirty bitmap coherency with TCG memory access"), and migrated guests crash.
MIN_MIGRATION_QEMU = (9, 0)

# TCG translation cache (MiB) and CPU model; VIRTNET_LAB_TB_SIZE and
# VIRTNET_LAB_CPU override them (bench/lab experiments).
TCG_TB_SIZE = "1024"
TCG_CPU = "max"
KVM_ACCEL = ("-accel", "kvm", "-cpu", "host")


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


def tcg_accel() -> list[str]:
    """-accel and -cpu of a TCG guest."""
    return ["-accel", f"tcg,tb-size={os.environ.get('VIRTNET_LAB_TB_SIZE', TCG_TB_SIZE)}",
            "-cpu", os.environ.get("VIRTNET_LAB_CPU", TCG_CPU)]


def _kvm_verdict_file() -> Path:
    return lab_image.cache_root().parent / "kvm-verdict.json"


def _host_fingerprint() -> str:
    qv = subprocess.run([QEMU, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[:1]
    return f"{os.uname().release} {qv}"


def accel_args(state_dir: Path, probe_kvm: Callable[[Path], bool]) -> tuple[list[str], str]:
    """Return (qemu args, accel name).  TCG unless KVM was proven to boot:
    with VIRTNET_LAB_ACCEL=kvm (or auto) ``probe_kvm(state_dir)`` boots a
    guest under KVM once per host, and its verdict is cached."""
    want = os.environ.get("VIRTNET_LAB_ACCEL", "tcg").lower()
    tcg = (tcg_accel(), "tcg")
    if want == "tcg":
        return tcg
    if want not in ("kvm", "auto"):
        raise LabError(f"VIRTNET_LAB_ACCEL={want!r}: use tcg (default), kvm or auto")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        log("VIRTNET_LAB_ACCEL: /dev/kvm is not usable, using TCG")
        return tcg
    vf = _kvm_verdict_file()
    fp = _host_fingerprint()
    verdict = None
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(vf.read_text())
        if data.get("host") == fp:
            verdict = data.get("kvm_boots")
    if verdict is None:
        verdict = probe_kvm(state_dir)
        vf.parent.mkdir(parents=True, exist_ok=True)
        vf.write_text(json.dumps({"host": fp, "kvm_boots": verdict, "at": time.time()}) + "\n")
    if verdict:
        return list(KVM_ACCEL), "kvm"
    log(f"KVM did not boot a guest on this host (cached in {vf}), using TCG")
    return tcg


def qmp_path(d: Path, fname: str = "qmp.sock") -> Path:
    """A QMP (or migration) socket of the instance dir d, short enough for AF_UNIX."""
    p = d / fname
    if len(str(p)) < 100:
        return p
    # AF_UNIX paths are limited to 108 bytes: fall back to a short path
    h = hashlib.sha256(str(d.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / (f"virtnet-lab-{h}.qmp" if fname == "qmp.sock" else f"virtnet-lab-{h}.{fname}")


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
        "-qmp", f"unix:{qmp_socket or qmp_path(d)},server=on,wait=off",
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
        # qmp_client.plug_primary_at_start()
        "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device", f"virtio-net-pci,netdev=mgmt,id=mgmt0,mac={mgmt_mac},bus=rp3",
    ]
