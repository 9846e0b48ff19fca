# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: converged re-run on a lab VM -- rollout and drift vs a one-task ping play.

On a Debian 12 lab guest that is already converged (the rollout applied and rebooted into the
patched module), the same run alternates a one-task ``ping`` play, ``playbooks/drift.yml`` and
a re-run of ``playbooks/rollout.yml`` (SSH pipelining + ControlPersist, medians of repeats).
Goals: drift <= 1.5x ping, rollout re-run <= 3x ping, the re-run with the roles forced <= 5x ping, zero changes on the guest (vnfo_timing
recap), zero DKMS builds and zero initramfs rebuilds (guest-side: nothing under /var/lib/dkms
or /boot newer than a marker file touched before the re-runs), drift reports the guest clean.
``--guest NAME`` reuses a converged guest (bench_rollout_cost.py --keep NAME); otherwise a
guest is booted and the rollout applied first.  Exit 3 when the lab image is not built.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import labbench  # noqa: E402
from benchlib import Results, median  # noqa: E402
from bench_rollout_cost import rollout  # noqa: E402

GOAL_DRIFT = 1.5
GOAL_ROLLOUT = 3.0
GOAL_FORCED = 5.0
ROLLOUT = os.path.join(ROOT, "playbooks", "rollout.yml")
DRIFT = os.path.join(ROOT, "playbooks", "drift.yml")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--quick", action="store_true", help="skip (a lab VM takes minutes under TCG)")
    ap.add_argument("--image", default="debian12")
    ap.add_argument("--guest", help="reuse this converged guest (state dir /tmp/vnfo-bench-vms); kept running")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    res = Results("converged")
    skip = labbench.cannot_run(res, args)
    if skip is not None:
        return skip
    name = args.guest or "vnfo-bench-converged"
    tmp = tempfile.mkdtemp(prefix="vnfo-bench-conv-")
    print("virtnet.failover converged re-run benchmark, guest %s, load average %.1f" % (name, os.getloadavg()[0]))
    try:
        info = labbench.instance(name) if args.guest else None
        if args.guest and not info:
            print("no guest %s in %s" % (name, labbench.STATE_DIR))
            return 2
        if not info:
            info = labbench.up(name, args.image)
            if rollout(info, res, tmp, label="converging rollout") is None:
                res.write(args.json)
                return res.exit_code()
        inv = labbench.write_inventory(info, os.path.join(tmp, "inventory.json"))
        ping = os.path.join(tmp, "ping.yml")
        with open(ping, "w") as fh:
            json.dump([{"name": "Ping", "hosts": "all", "gather_facts": False,
                        "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}], fh)
        common = {"failover_report_dir": os.path.join(tmp, "report"), "failover_rollout_serial": 1,
                  "failover_reboot": "if_needed"}
        labbench.run_playbook(ping, inv, tmp, tag="warm")  # opens the ControlPersist master
        labbench.guest(info, "touch /run/vnfo-bench-marker; sleep 1")
        before = labbench.guest(info, "stat -c '%n %Y %s' /boot/initrd.img-* 2>/dev/null; "
                                      "find /var/lib/dkms -printf '%p %T@\\n' | sort | md5sum")
        times = {"ping": [], "drift": [], "rollout": []}
        changed = {"drift": 0, "rollout": 0}
        drift_rc = []
        for n in range(args.repeat):
            w, _c, rc, t, out = labbench.run_playbook(ping, inv, tmp, tag="ping")
            assert rc == 0, out[-3000:]
            times["ping"].append(w)
            w, _c, rc, t, out = labbench.run_playbook(DRIFT, inv, tmp, extra_vars=common, tag="drift")
            drift_rc.append(rc)
            if rc != 0:
                print(out[-3000:])
            times["drift"].append(w)
            changed["drift"] += t["recap"].get(name, {}).get("changed", 0)
            if n < max(1, args.repeat - 1):  # the re-run is the slowest: one repeat fewer
                w, _c, rc, t, out = labbench.run_playbook(ROLLOUT, inv, tmp, extra_vars=common, tag="rollout")
                if rc != 0:
                    print(out[-5000:])
                    raise RuntimeError("rollout re-run failed (rc=%d)" % rc)
                times["rollout"].append(w)
                changed["rollout"] += t["recap"].get(name, {}).get("changed", 0)
                changed_tasks = [x["name"] for x in t["tasks"] if x["host"] == name and x["changed"]]
                if changed_tasks:
                    res.note("rollout re-run changed: " + ", ".join(changed_tasks))
        with open(os.path.join(tmp, "report", "rollout-report.json")) as fh:
            fast = [h for h in json.load(fh)["hosts"] if "already converged" in (h.get("message") or "")]
        res.goal("rollout re-run took the fast path (report: already converged)", len(fast), "1", len(fast) == 1,
                 fmt="%d host(s)")
        # For scale: the same re-run with the roles forced (failover_rollout_force=true), once.
        w, _c, rc, t, out = labbench.run_playbook(ROLLOUT, inv, tmp, extra_vars=dict(common, failover_rollout_force=True),
                                                  tag="rollout-forced")
        if rc != 0:
            print(out[-5000:])
            raise RuntimeError("forced rollout re-run failed (rc=%d)" % rc)
        forced_changed = t["recap"].get(name, {}).get("changed", 0)
        changed["rollout"] += forced_changed
        walked, ran, guest_calls = labbench.task_counts(t, name)
        forced = w / median(times["ping"])
        res.goal("rollout re-run with the roles forced (failover_rollout_force=true) / ping", forced,
                 "<= %.1fx" % GOAL_FORCED, forced <= GOAL_FORCED,
                 fmt="%%.1fx (%.1f s; %d tasks walked, %d run, %d module calls on the guest)" % (w, walked, ran, guest_calls))
        res.note("forced re-run, slowest tasks: " + "; ".join(labbench.slowest(t, name)))
        after = labbench.guest(info, "stat -c '%n %Y %s' /boot/initrd.img-* 2>/dev/null; "
                                     "find /var/lib/dkms -printf '%p %T@\\n' | sort | md5sum")
        newer = labbench.guest(info, "find /var/lib/dkms /boot /etc/modprobe.d /usr/src -newer "
                                     "/run/vnfo-bench-marker 2>/dev/null | head -20")
        p, d, r = median(times["ping"]), median(times["drift"]), median(times["rollout"])
        print("\n== converged guest, medians (ping %d, drift %d, rollout %d runs) =="
              % (len(times["ping"]), len(times["drift"]), len(times["rollout"])))
        res.info("ping play (one task)", "%.2f s" % p)
        res.info("drift playbook", "%.2f s" % d)
        res.info("rollout re-run", "%.2f s" % r)
        res.goal("drift / ping", d / p, "<= %.1fx" % GOAL_DRIFT, d / p <= GOAL_DRIFT)
        res.goal("rollout re-run / ping", r / p, "<= %.1fx" % GOAL_ROLLOUT, r / p <= GOAL_ROLLOUT)
        res.goal("changes on the guest (drift + rollout re-runs, forced one included)", changed["drift"] + changed["rollout"], "0",
                 changed["drift"] + changed["rollout"] == 0, fmt="%d")
        res.goal("drift reports the converged guest clean (exit 0)", max(drift_rc), "0", max(drift_rc) == 0,
                 fmt="exit %d")
        nb = [x for x in newer.split() if x.startswith(("/var/lib/dkms", "/usr/src"))]
        ni = [x for x in newer.split() if x.startswith("/boot/initr")]
        res.goal("DKMS builds (files newer than the marker in /var/lib/dkms, /usr/src)", len(nb), "0",
                 not nb and True, fmt="%d")
        res.goal("initramfs rebuilds (/boot/initrd.img-* newer than the marker)", len(ni), "0",
                 not ni and before.split("\n")[:-2] == after.split("\n")[:-2], fmt="%d")
        if newer.strip():
            res.note("files newer than the marker: " + " ".join(newer.split()))
    finally:
        if not args.guest:
            labbench.down(name)
        shutil.rmtree(tmp, ignore_errors=True)
    res.write(args.json)
    return res.exit_code()


if __name__ == "__main__":
    sys.exit(main())
