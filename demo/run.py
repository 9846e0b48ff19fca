# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main job on an embedded default fleet (`make demo`).

1. Boots the demo fleet with the lab launcher (molecule/resources/lab/vm.py):
   demo-d12 (Debian 12, kernel 6.1) and demo-d13 (Debian 13, kernel 6.12),
   each with a real virtio-net failover pair, in parallel.
2. Runs `ansible-playbook virtnet.failover.rollout` on demo/inventory/hosts.yml
   with reboots allowed (failover_reboot=if_needed).
3. Runs `ansible-playbook virtnet.failover.drift` and prints where the report
   is and its summary.
4. Live-migrates each guest once to a new QEMU on this host (vm.py migrate:
   QEMU unplugs the failover primary, migrates, plugs a new one in on the
   destination) and prints its failover slaves before and after the move;
   a guest that crashed across the move (its boot id changed, or its kernel
   logged an Oops, a BUG or a warning) fails the demo.
5. Shuts the fleet down (unless --keep).

Exit status: 0 when the rollout succeeded, the drift check found no drift
and every guest survived its migration with the primary's policy name.
Options: --keep, --skip-rollout (drift only, on a kept fleet), --no-migrate,
--report-dir, --state-dir, --serial, -v (passed to ansible-playbook).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
sys.path.insert(0, str(ROOT / "molecule" / "resources" / "lab"))
import vm  # noqa: E402  (the lab launcher, used as a library)

FLEET = {"demo-d12": "debian12", "demo-d13": "debian13"}


def log(msg: str) -> None:
    print(f"[demo] {msg}", flush=True)


def boot(state_dir: Path, memory: int) -> None:
    errors = {}

    def one(name, image):
        try:
            info = vm.up(name, image=image, memory=memory, state_dir=state_dir)
            log(f"{name} ({image}) up on 127.0.0.1:{info['port']}")
        except Exception as exc:  # reported below, all together
            errors[name] = exc

    threads = [threading.Thread(target=one, args=item) for item in FLEET.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("[demo] boot failed: " + "; ".join(f"{n}: {e}" for n, e in errors.items()))


def wait_failover_pair(state_dir: Path, timeout: float = 180) -> None:
    """QEMU plugs the primary only after the guest acked the standby."""
    deadline = time.monotonic() + timeout
    for name in FLEET:
        info = vm.instance(name, state_dir)
        while not any(s["driver"] == "e1000e" for s in vm.guest_failover_slaves(info)):
            if time.monotonic() > deadline:
                raise SystemExit(f"[demo] {name}: the failover primary was not enslaved within {timeout:.0f}s")
            time.sleep(2)


def ansible_env(state_dir: Path) -> dict:
    env = dict(os.environ)
    bin_dir = ROOT / ".venv" / "bin"
    if bin_dir.is_dir():
        env["PATH"] = f"{bin_dir}:{env.get('PATH', '')}"
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    env["ANSIBLE_CONFIG"] = str(DEMO / "ansible.cfg")
    env["VIRTNET_DEMO_STATE_DIR"] = str(state_dir)
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    return env


def playbook(name: str, env: dict, extra: dict, verbose: int) -> tuple[int, float]:
    cmd = ["ansible-playbook", f"virtnet.failover.{name}", "-i", str(DEMO / "inventory" / "hosts.yml"),
           "-e", json.dumps(extra)] + (["-" + "v" * verbose] if verbose else [])
    log("$ " + " ".join(cmd))
    t0 = time.monotonic()
    rc = subprocess.run(cmd, env=env, cwd=str(ROOT), check=False).returncode
    return rc, round(time.monotonic() - t0, 1)


def print_report(report_dir: Path, name: str) -> dict | None:
    path = report_dir / f"{name}.json"
    if not path.exists():
        log(f"no report at {path}")
        return None
    rep = json.loads(path.read_text())
    s = rep["summary"]
    log(f"report: {report_dir / (name + '.md')} (JSON: {path})")
    log(f"summary: {s['hosts']} hosts, {s['ok']} ok, {s['drift']} drift, {s['unreachable']} unreachable, "
        f"{s['failed'] + s['other']} failed/other, {s['drift_items']} drift items, kinds {s['kinds'] or '{}'}")
    for h in rep["hosts"]:
        kinds = sorted({i["kind"] for i in h["drift"]})
        log(f"  {h['host']:10} {h['status']:12} running {h.get('running_kernel') or '-'}"
            f"  next boot {h.get('next_boot_kernel') or '-'}  {', '.join(kinds) or h.get('message') or ''}")
    return rep


def slaves_line(slaves: list[dict]) -> str:
    return ", ".join(f"{s['name']} ({s['driver']}, master {s['master']})" for s in sorted(slaves, key=lambda s: s["driver"]))


def migrate_fleet(state_dir: Path) -> int:
    """Migrate each guest once; 0 when each primary came back under its name of before."""
    failed = 0
    for name in FLEET:
        before = vm.guest_failover_slaves(vm.instance(name, state_dir))
        primary = next((s["name"] for s in before if s["driver"] == "e1000e"), None)
        log(f"{name}: before the migration: {slaves_line(before)}")
        try:
            res = vm.migrate(name, state_dir=state_dir, primary_name=primary)
        except vm.LabError as exc:
            log(f"{name}: migration FAILED: {exc}")
            failed += 1
            continue
        after = vm.guest_failover_slaves(vm.instance(name, state_dir))
        traffic = res.get("traffic", {})
        log(f"{name}: migrated in {res['resumed_after_s']} s (QEMU downtime {res['downtime_ms']} ms), primary "
            f"{res['primary']} enslaved {res['resume_to_primary_s']} s after the resume, "
            f"{traffic.get('lost', '?')}/{traffic.get('sent', '?')} pings lost")
        log(f"{name}: after the migration:  {slaves_line(after)}")
        log(f"{name}: same boot (boot id {res['boot_id']}), no Oops, BUG or warning in the guest kernel's log")
    return failed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="leave the fleet running at the end")
    ap.add_argument("--skip-rollout", action="store_true", help="only run the drift check (fleet kept with --keep)")
    ap.add_argument("--state-dir", type=Path, default=ROOT / ".build" / "demo" / "vms",
                    help="lab launcher state dir of the demo fleet (default %(default)s)")
    ap.add_argument("--report-dir", type=Path, default=Path.cwd() / "failover-report",
                    help="where the reports go (default %(default)s)")
    ap.add_argument("--serial", default=None,
                    help="failover_rollout_serial for the rollout (default: the playbook's [1, '25%%'])")
    ap.add_argument("--no-migrate", action="store_true", help="skip the live migration of each guest")
    ap.add_argument("--memory", type=int, default=768, help="MiB per guest (default 768)")
    ap.add_argument("-v", "--verbose", action="count", default=0)
    args = ap.parse_args(argv)
    state_dir = args.state_dir.resolve()
    report_dir = args.report_dir.resolve()
    env = ansible_env(state_dir)
    times = {}
    rc_roll = rc_drift = rc_mig = 0
    t0 = time.monotonic()
    try:
        log(f"booting the demo fleet {', '.join(f'{n} ({i})' for n, i in FLEET.items())} in {state_dir}")
        boot(state_dir, args.memory)
        wait_failover_pair(state_dir)
        times["boot"] = round(time.monotonic() - t0, 1)
        common = {"failover_report_dir": str(report_dir)}
        if not args.skip_rollout:
            extra = dict(common, failover_reboot="if_needed")
            if args.serial:
                extra["failover_rollout_serial"] = [int(x) if x.isdigit() else x for x in args.serial.split(",")]
            rc_roll, times["rollout"] = playbook("rollout", env, extra, args.verbose)
            print_report(report_dir, "rollout-report")
            if rc_roll:
                log(f"the rollout failed (exit {rc_roll}); running the drift check anyway")
        rc_drift, times["drift"] = playbook("drift", env, common, args.verbose)
        rep = print_report(report_dir, "fleet-report")
        if rep is not None and rep["clean"]:
            log("zero drift: every host runs the patched module with the policy's parameter and slave names")
        if not args.no_migrate:
            t1 = time.monotonic()
            log("live-migrating each guest once (QEMU unplugs the primary, migrates, plugs a new one in)")
            rc_mig = migrate_fleet(state_dir)
            times["migrate"] = round(time.monotonic() - t1, 1)
    finally:
        if args.keep:
            log(f"fleet kept running (state {state_dir}); stop it with: "
                f"{sys.executable} molecule/resources/lab/vm.py down --all --state-dir {state_dir}")
        else:
            log("shutting the fleet down")
            vm.down_all(state_dir)
    times["total"] = round(time.monotonic() - t0, 1)
    log(f"times (s): {times}")
    return 1 if (rc_roll or rc_drift or rc_mig) else 0


if __name__ == "__main__":
    sys.exit(main())
