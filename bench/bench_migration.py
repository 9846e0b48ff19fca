# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration of a lab guest with a failover pair: medians of N migrations.

    .venv/bin/python bench/bench_migration.py [--repeat 10] [--image debian12-converged] [--json FILE]

Boots one guest (state dir /tmp/vnfo-bench-vms) and migrates it N times back and forth
between two QEMUs on this host with molecule/resources/lab/vm.py migrate.  Per migration:
the time from `migrate` until the destination runs, QEMU's own downtime (query-migrate),
the time from the destination's resume until the guest has enslaved the new primary under
the name it had before, and the pings (every 100 ms from the failover master to the user
network's gateway) lost across the move.  The guest's boot id is read after each migration:
when it changed (a guest kernel crash reboots the guest) the run stops and fails.  Prints
medians; the guest is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import labbench  # noqa: E402
from benchlib import Results  # noqa: E402

NAME = "vnfo-bench-migration"


def boot_id(vm):
    """The guest's boot id; empty when SSH does not answer (the guest is down or rebooting)."""
    try:
        out = vm.ssh(NAME, "cat", "/proc/sys/kernel/random/boot_id", state_dir=labbench.STATE_DIR, timeout=60)
    except subprocess.TimeoutExpired:
        return ""
    return out.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--quick", action="store_true", help="skip (a lab VM takes minutes under TCG)")
    ap.add_argument("--image", default="debian12-converged",
                    help="the converged snapshot when there is one, else the base image (default %(default)s)")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    res = Results("migration")
    skip = labbench.cannot_run(res, args)
    if skip is not None:
        return skip
    vm = labbench.lab()
    runs, kept, failed = [], 0, []
    try:
        info = labbench.up(NAME, args.image)
        before = [s for s in vm.guest_failover_slaves(info) if s["driver"] == "e1000e"]
        want = before[0]["name"] if before else None
        boot = boot_id(vm)
        print("guest %s up; primary %s; boot id %s; %d migrations" % (NAME, want, boot, args.repeat))
        for i in range(args.repeat):
            try:
                r = vm.migrate(NAME, state_dir=labbench.STATE_DIR, primary_name=want)
            except (vm.LabError, subprocess.TimeoutExpired) as exc:
                # TimeoutExpired: the guest stopped answering SSH (vm.migrate stops its probe over SSH)
                failed.append(str(exc))
                print("migration %d failed: %s" % (i + 1, exc))
                r = None
            if boot_id(vm) != boot:
                # a guest kernel crash panics and reboots the guest: later migrations would measure another boot
                failed.append("the guest rebooted after migration %d (its boot id changed; a guest kernel crash "
                              "reboots it, look for an Oops in its serial log under %s); the run stops there"
                              % (i + 1, labbench.STATE_DIR))
                print(failed[-1])
                break
            if r is None:
                continue
            kept += r.get("primary") == want
            runs.append(r)
            t = r.get("traffic", {})
            print("  %2d: resumed after %.2f s, downtime %s ms, primary after %.2f s, lost %s/%s pings"
                  % (i + 1, r["resumed_after_s"], r["downtime_ms"], r["resume_to_primary_s"],
                     t.get("lost"), t.get("sent")))
    finally:
        labbench.down(NAME)
    left = subprocess.run(["pgrep", "-f", "virtnet-lab-" + NAME], capture_output=True, text=True,
                          check=False).stdout.split()
    if runs:
        def med(key):
            return statistics.median(key(r) for r in runs)

        res.info("migrations measured", "%d of %d" % (len(runs), args.repeat))
        res.info("total time, migrate until the destination runs (median)", "%.2f s" % med(lambda r: r["resumed_after_s"]))
        res.info("QEMU downtime, query-migrate (median)", "%.0f ms" % med(lambda r: r["downtime_ms"]))
        res.info("resume until the primary is enslaved and named (median)",
                 "%.2f s" % med(lambda r: r["resume_to_primary_s"]))
        res.info("pings lost of those sent every 100 ms (median)",
                 "%.0f of %.0f" % (med(lambda r: r["traffic"]["lost"]), med(lambda r: r["traffic"]["sent"])))
        res.info("longest gap between ping replies (median)",
                 "%.0f ms" % med(lambda r: r["traffic"]["max_reply_gap_ms"]))
    res.goal("migrations that ended on the destination with the primary's name", len(runs) and kept, "%d" % args.repeat,
             kept == args.repeat and not failed, fmt="%d")
    res.goal("QEMU processes of the benchmark left running", len(left), "0", not left, fmt="%d")
    for msg in failed:
        res.note("failed: " + msg)
    res.write(args.json)
    return res.exit_code()


if __name__ == "__main__":
    sys.exit(main())
