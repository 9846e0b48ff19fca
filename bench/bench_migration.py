# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migration soak: consecutive live migrations of one lab guest with a failover pair.

    .venv/bin/python bench/bench_migration.py [--repeat 100] [--flavours idle,busy]
        [--image debian12-converged] [--json FILE]

Boots one guest (state dir /tmp/vnfo-bench-vms, or VNFO_BENCH_STATE_DIR) and migrates it
--repeat times back and forth between two QEMUs on this host with vm.py migrate, once per
flavour: `idle` (the guest does nothing between migrations) and `busy` (a process in the
guest keeps writing a 64 MiB buffer and the disk during every migration).  After every
migration vm.py migrate itself checks the guest: the boot id is unchanged and the kernel
log has no new Oops, BUG, warning, lockup or stall (a crash reboots the guest: new boot id,
the Oops on the serial console); then this benchmark reads the failover group: the primary
is enslaved under the name it had before and the master is UP.  A fault is counted, the
guest is booted again and the soak goes on, so the count is faults per migrations.

Per migration it records the time from `migrate` until the destination runs, QEMU's own
downtime (query-migrate), the time from the resume until the guest enslaved the primary
under its name, and the pings (every 100 ms from the failover master to the user
network's gateway) lost across the move and the longest gap between replies.  Prints
medians per flavour.  Goal: 0 guest faults.

The QEMU is the lab's (VIRTNET_LAB_QEMU, else qemu-system-x86_64; both sides of every
migration run it).  To measure a QEMU older than 9.0, which vm.py migrate refuses, set
VIRTNET_LAB_ALLOW_LOSSY_MIGRATION=1 (docs/performance.md gives both side by side).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import labbench  # noqa: E402
from benchlib import Results  # noqa: E402

NAME = os.environ.get("VNFO_BENCH_MIGRATION_NAME", "vnfo-bench-migration")
FLAVOURS = ("idle", "busy")

# The busy flavour's load: rewrites a 64 MiB buffer (dirty pages for every
# migration round) and 4 MiB of a file, niced so SSH and the probe still run.
BUSY_START_SH = r'''
cat > /run/vnfo-busy.py <<'EOF'
import os
buf = bytearray(64 << 20)
n = 0
while True:
    for i in range(0, len(buf), 4096):
        buf[i] = n & 0xFF
    with open("/var/tmp/vnfo-busy.dat", "wb") as fh:
        fh.write(bytes(buf[:4 << 20]))
    n += 1
EOF
setsid nice -n 10 python3 /run/vnfo-busy.py </dev/null >/dev/null 2>&1 &
echo $! > /run/vnfo-busy.pid
'''
BUSY_STOP_SH = "kill $(cat /run/vnfo-busy.pid) 2>/dev/null; rm -f /run/vnfo-busy.* /var/tmp/vnfo-busy.dat; true"


def group_state(slaves):
    """(primary name or None, its master UP?) from vm.guest_health()'s slaves (vm.migrate returns them)."""
    prim = [s for s in slaves if s["driver"] == "e1000e"]
    return (prim[0]["name"], prim[0]["master_up"]) if prim else (None, False)


def boot(vm, image, busy):
    info = labbench.up(NAME, image)
    if busy:
        labbench.guest(info, BUSY_START_SH, timeout=60)
    return info


def soak(vm, image, flavour, repeat, log):
    """Run one flavour; returns (runs, faults) where faults are (migration number, message)."""
    busy = flavour == "busy"
    info = boot(vm, image, busy)
    want, up = group_state(vm.guest_health(info)["slaves"])
    if want is None or not up:
        raise RuntimeError("%s: the guest has no enslaved primary under an UP master before the soak" % flavour)
    log("%s: guest %s up; primary %s; %d migrations on %s" % (flavour, NAME, want, repeat, vm.QEMU))
    runs, faults = [], []
    try:
        for i in range(1, repeat + 1):
            problem = None
            try:
                r = vm.migrate(NAME, state_dir=labbench.STATE_DIR, primary_name=want)
            except (vm.LabError, subprocess.TimeoutExpired) as exc:
                r, problem = None, str(exc)
            if r is not None:
                name, up = group_state(r["slaves"])
                if name != want or not up:
                    problem = "after the migration the primary is %s (want %s), master UP: %s" % (name, want, up)
            if problem:
                faults.append((i, problem))
                log("  %s %3d: FAULT %s" % (flavour, i, problem))
                labbench.down(NAME)  # a fresh boot for the rest of the soak
                boot(vm, image, busy)
                continue
            runs.append(r)
            t = r.get("traffic", {})
            log("  %s %3d: resumed after %.2f s, downtime %s ms, primary after %.2f s, lost %s/%s pings, "
                "longest gap %s ms" % (flavour, i, r["resumed_after_s"], r["downtime_ms"], r["resume_to_primary_s"],
                                       t.get("lost"), t.get("sent"), t.get("max_reply_gap_ms")))
    finally:
        if busy and labbench.instance(NAME):
            subprocess.run(vm.ssh_argv(labbench.instance(NAME), BUSY_STOP_SH), capture_output=True,
                           stdin=subprocess.DEVNULL, timeout=60, check=False)
        labbench.down(NAME)
    return runs, faults


def report_medians(res, flavour, runs):
    """The medians (and the worst cases) of one flavour's migrations without a fault."""
    def med(key):
        return statistics.median(key(r) for r in runs)

    res.info("%s: migrate until the destination runs (median)" % flavour,
             "%.2f s" % med(lambda r: r["resumed_after_s"]))
    res.info("%s: QEMU downtime, query-migrate (median; max)" % flavour,
             "%.0f ms; %.0f ms" % (med(lambda r: r["downtime_ms"]), max(r["downtime_ms"] for r in runs)))
    res.info("%s: resume until the primary is enslaved and named (median)" % flavour,
             "%.2f s" % med(lambda r: r["resume_to_primary_s"]))
    res.info("%s: pings lost of those sent every 100 ms (median; max)" % flavour,
             "%.0f of %.0f; %d" % (med(lambda r: r["traffic"]["lost"]), med(lambda r: r["traffic"]["sent"]),
                                   max(r["traffic"]["lost"] for r in runs)))
    res.info("%s: longest gap between ping replies (median; max)" % flavour,
             "%.0f ms; %d ms" % (med(lambda r: r["traffic"]["max_reply_gap_ms"]),
                                 max(r["traffic"]["max_reply_gap_ms"] for r in runs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--quick", action="store_true", help="skip (a lab VM takes minutes under TCG)")
    ap.add_argument("--image", default="debian12-converged",
                    help="the converged snapshot when there is one, else the base image (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=100, help="migrations per flavour (default %(default)s)")
    ap.add_argument("--flavours", default=",".join(FLAVOURS),
                    help="comma-separated, of %s (default %%(default)s)" % ", ".join(FLAVOURS))
    ap.add_argument("--json")
    args = ap.parse_args()
    flavours = [f for f in args.flavours.split(",") if f]
    bad = [f for f in flavours if f not in FLAVOURS]
    if bad or not flavours:
        ap.error("--flavours: %s is not one of %s" % (bad or "nothing", ", ".join(FLAVOURS)))
    res = Results("migration")
    skip = labbench.cannot_run(res, args)
    if skip is not None:
        return skip
    vm = labbench.lab()
    t0 = time.monotonic()

    def log(msg):
        print("[%6.0fs] %s" % (time.monotonic() - t0, msg), flush=True)

    version = ".".join(map(str, vm.qemu_version()))
    res.info("QEMU (both sides of every migration)", "%s (%s)" % (version, vm.QEMU))
    total_faults, total = 0, 0
    for flavour in flavours:
        runs, faults = soak(vm, args.image, flavour, args.repeat, log)
        total += args.repeat
        total_faults += len(faults)
        res.info("%s: migrations without a fault" % flavour, "%d of %d" % (len(runs), args.repeat))
        if runs:
            report_medians(res, flavour, runs)
        for i, msg in faults:
            res.note("%s, migration %d: %s" % (flavour, i, msg))
    left = subprocess.run(["pgrep", "-f", "virtnet-lab-" + NAME], capture_output=True, text=True,
                          check=False).stdout.split()
    res.goal("guest faults in %d migrations (%s)" % (total, ", ".join(flavours)), total_faults, "0",
             total_faults == 0, fmt="%d")
    res.goal("QEMU processes of the benchmark left running", len(left), "0", not left, fmt="%d")
    res.write(args.json)
    return res.exit_code()


if __name__ == "__main__":
    sys.exit(main())
