# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration of a lab guest to a new QEMU on this host (`vm.py migrate`).

migrate() moves a running guest to a new QEMU on this host, as a hypervisor
moves a VM with a failover pair: the destination gets the same machine,
devices and MACs and `-incoming unix:...`; its primary is device_add-ed
over QMP before the migration (hidden until the migrated virtio-net state
restores the negotiated STANDBY feature, then plugged).  The source
unplugs its primary by itself when the migration starts (state
`wait-unplug`), and on a failed or cancelled migration plugs it back.
Both QEMUs open the same qcow2 overlay (shared storage): the destination
opens it inactive and takes it over at switchover, when the source has
flushed and inactivated it, so QEMU's image locking lets both open it.
The destination listens on its own hostfwd port until the source quits,
then takes over the instance's port (HMP hostfwd_add), so the SSH address
(and Molecule's inventory) stays the same.

With the probe on, guest/migration_probe.py runs in the guest during the
move (started and stopped by guest/migration_probe_start.sh and _stop.sh):
it writes each change of the enslaved e1000e to the serial console, and
counts the replies to pings sent every 100 ms through the failover master.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import qemu_command
from guest_state import guest_health, guest_health_problem, serial_faults
from instances import default_state_dir, instance_dir, require_running, ssh_argv, stop_migration_destination, write_info
from lab_common import LabError, guest_code, log
from qemu_command import KVM_ACCEL, migration_qemu_problem, qemu_version, qmp_path, tcg_accel
from qemu_process import kill_qemu, read_pid_file, start_on_free_port
from qmp_client import PRIMARY_DEVICE, qmp_session

MIGRATION_FINAL = ("completed", "failed", "cancelled")
MIGRATION_BANDWIDTH = 4 << 30  # bytes/s: a unix socket on this host, no reason to throttle
CANCEL_BANDWIDTH = 16 << 20  # slow enough that `cancel_at` catches the state it names
# the probe's temporary address and routing table on the failover master
PROBE_ADDR, PROBE_GW, PROBE_TABLE = "10.0.2.16", "10.0.2.2", "7316"
PROBE_MARK = "vnfo-migration-probe"
PROBE_VARIABLES = {"PROBE_MARK": PROBE_MARK, "PROBE_ADDR": PROBE_ADDR, "PROBE_GW": PROBE_GW, "PROBE_TABLE": PROBE_TABLE}


def _start_destination(info: dict, d: Path, dest: dict, fault: str | None) -> None:
    """Start the destination QEMU (its own hostfwd port, retried if taken)."""
    accel = list(KVM_ACCEL) if info.get("accel") == "kvm" else tcg_accel()

    def command(port: int) -> list[str]:
        cmd = qemu_command.qemu_command(d, Path(info["overlay"]), Path(info["serial_log"]), port, info["memory"],
                                        accel, info["name"], pidfile=Path(dest["pidfile"]),
                                        qmp_socket=Path(dest["qmp_socket"]), incoming=f"unix:{dest['migration_socket']}")
        if fault == "dest-start":
            cmd += ["-device", "virtnet-lab-no-such-device"]  # injected: QEMU refuses to start
        return cmd

    dest["port"], err = start_on_free_port(f"{info['name']} destination", command)
    if not err:
        dest["pid"] = read_pid_file(dest["pidfile"])
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
        err = asyncio.run(qmp_session({"name": info["name"], "qmp_socket": dest["qmp_socket"]}, go, 10))
        if not err:
            return info["port"]
        time.sleep(0.1)
    log(f"{info['name']}: could not move port {info['port']} to the destination ({err}); "
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


def _start_probe(info: dict) -> str:
    """Start guest/migration_probe.py in the guest; returns the failover master it pings through."""
    script = guest_code("migration_probe_start.sh", PROBE_PY=guest_code("migration_probe.py"), **PROBE_VARIABLES)
    r = subprocess.run(ssh_argv(info, script), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                       check=False)
    if r.returncode != 0:
        raise LabError(f"{info['name']}: could not start the in-guest probe: {r.stderr.strip()}")
    return r.stdout.strip()


def _stop_probe(info: dict, master: str) -> dict | None:
    """Stop the in-guest probe; its figures, or None when the guest answered with no JSON."""
    r = subprocess.run(ssh_argv(info, "sh", "-s", "--", master), input=guest_code("migration_probe_stop.sh", **PROBE_VARIABLES),
                       capture_output=True, text=True, timeout=60, check=False)
    # a guest that stopped answering leaves no JSON: keep the real error
    lines = r.stdout.strip().splitlines()
    with contextlib.suppress(ValueError):
        return json.loads(lines[-1]) if lines else {}
    return None


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
    info = require_running(name, state_dir)
    if info.get("qemu", qemu_command.QEMU) != qemu_command.QEMU:
        raise LabError(f"{name} runs on {info['qemu']}, this process would start the destination with {qemu_command.QEMU}: "
                       "a migration needs the same QEMU on both sides (set VIRTNET_LAB_QEMU as at `vm.py up`)")
    if info.get("migrating_to"):
        stop_migration_destination(info)
        info.pop("migrating_to")
    d = instance_dir(name, state_dir)
    gen = int(info.get("generation", 0)) + 1
    dest = {"pidfile": str(d / f"qemu.{gen}.pid"), "qmp_socket": str(qmp_path(d, f"qmp.{gen}.sock")),
            "migration_socket": str(qmp_path(d, f"migrate.{gen}.sock")), "pid": None}
    info["migrating_to"] = dest  # down() stops it if this process dies midway
    write_info(d, info)
    t0 = time.monotonic()
    result: dict = {"name": name, "source_pid": info["pid"]}
    master = None
    done = False
    try:
        _start_destination(info, d, dest, fault)
        write_info(d, info)
        result["destination_pid"] = dest["pid"]
        health = guest_health(info)
        if not health["boot_id"]:
            raise LabError(f"{name}: the guest does not answer SSH, so it is not migrated")
        if probe:
            master = _start_probe(info)
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
        write_info(d, info)
        (d / "qemu.pid").write_text(f"{dest['pid']}\n")
        kill_qemu(source["pid"], info["overlay"], source["qmp_socket"])
        with contextlib.suppress(OSError):
            os.unlink(source["qmp_socket"])
        with contextlib.suppress(OSError):
            os.unlink(dest["migration_socket"])
        info["port"] = _take_over_port(dict(info, port=info.pop("source_port")), dest)
        write_info(d, info)
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
            traffic = _stop_probe(info, master)
            if traffic is not None:
                result["traffic"] = traffic
        if not done:
            stop_migration_destination(info)
            info.pop("migrating_to", None)
            if (d / "instance.json").exists():
                write_info(d, info)
        figures = {k: v for k, v in result.items() if k != 'states'}
        log(f"{name}: migration {result.get('state', 'not started')}, now on the "
            f"{result.get('on', 'source')} ({figures})")
