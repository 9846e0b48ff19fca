# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: rollout cost per host in the lab -- DKMS build+install, initramfs rebuild, reboot.

Boots a fresh Debian 12 lab guest (QEMU, TCG here), runs ``playbooks/rollout.yml`` with
``failover_reboot=if_needed`` (SSH pipelining + ControlPersist) and reports, from the
vnfo_timing callback, the seconds of each step for that host: the dkms module task (build +
install for every target kernel), the initramfs rebuild, the reboot, everything else, and the
boot of the guest for scale.  No goal beyond "the rollout succeeds and the patched module is
active after the reboot": these are costs to plan a fleet rollout with.  Exit 3 (skipped, with
the reason) when the lab image is not built.  ``--keep`` leaves the converged guest running for
bench_converged.py --guest NAME (always stop it afterwards: vm.py down NAME --state-dir
/tmp/vnfo-bench-vms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import labbench  # noqa: E402
from benchlib import Results  # noqa: E402

ROLLOUT = os.path.join(ROOT, "playbooks", "rollout.yml")


# The first rollout's "all other tasks" step on a fresh Debian 12 guest before the policy core
# (kmod_plan, dkms_source, failover_udev_naming): 233-300 s in docs/performance.md of 2026-11-27;
# the goal is a quarter of the lower figure.
OLD_OTHER_SECONDS = 233.0
GOAL_OTHER = 0.25
GOAL_TASKS = 30


def rollout(info, res, tmp, label="first rollout"):
    inv = labbench.write_inventory(info, os.path.join(tmp, "inventory.json"))
    wall, cpu, rc, timing, out = labbench.run_playbook(
        ROLLOUT, inv, tmp, extra_vars={"failover_reboot": "if_needed", "failover_rollout_serial": 1,
                                       "failover_report_dir": os.path.join(tmp, "report")}, tag="rollout")
    if rc != 0:
        print(out[-5000:])
        res.goal("%s succeeds" % label, rc, "exit 0", False, fmt="exit %d")
        return None
    steps = labbench.step_times(timing, info["name"])
    res.goal("%s succeeds" % label, 0, "exit 0", True, fmt="exit %d")
    for key in ("dkms", "initramfs", "reboot", "other"):
        res.info("%s: %s step" % (label, {"dkms": "DKMS build + install (all kernels)",
                                          "initramfs": "initramfs rebuild", "reboot": "reboot to SSH",
                                          "other": "all other tasks"}[key]), "%.1f s" % steps[key])
    res.info("%s: ansible-playbook wall time" % label, "%.1f s" % wall)
    walked, ran, guest = labbench.task_counts(timing, info["name"])
    res.goal("%s: tasks per host (walked; run; module calls on the guest)" % label, walked, "<= %d" % GOAL_TASKS,
             walked <= GOAL_TASKS, fmt="%%d; %d; %d" % (ran, guest))
    if label == "first rollout":
        res.goal("first rollout: all other tasks step / the figure before the policy core (%.0f s)" % OLD_OTHER_SECONDS,
                 steps["other"] / OLD_OTHER_SECONDS, "<= %.2f" % GOAL_OTHER, steps["other"] / OLD_OTHER_SECONDS <= GOAL_OTHER,
                 fmt="%.2f")
    res.note("%s, slowest tasks: %s" % (label, "; ".join(labbench.slowest(timing, info["name"]))))
    state = labbench.guest(info, "cat /sys/module/failover/parameters/live_rename 2>/dev/null || echo stock; "
                                 "cat /sys/module/failover/parameters/slave_rename_ok 2>/dev/null || true").split()
    ok = bool(state) and state[0] in ("flag", "notifier")
    res.goal("patched module active after the reboot (live_rename)", " ".join(state) or "none", "flag|notifier", ok,
             fmt="%s")
    return steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--quick", action="store_true", help="skip (a lab VM takes minutes under TCG)")
    ap.add_argument("--image", default="debian12")
    ap.add_argument("--keep", metavar="NAME", help="boot the guest as NAME and leave it running (converged)")
    ap.add_argument("--json")
    args = ap.parse_args()
    res = Results("rollout")
    skip = labbench.cannot_run(res, args)
    if skip is not None:
        return skip
    name = args.keep or "vnfo-bench-rollout"
    tmp = tempfile.mkdtemp(prefix="vnfo-bench-rollout-")
    print("virtnet.failover rollout-cost benchmark, guest %s (%s), load average %.1f"
          % (name, args.image, os.getloadavg()[0]))
    try:
        t0 = time.perf_counter()
        info = labbench.up(name, args.image)
        res.info("cold boot of the guest to SSH (for scale)", "%.1f s" % (time.perf_counter() - t0))
        rollout(info, res, tmp)
    finally:
        if not args.keep:
            labbench.down(name)
        shutil.rmtree(tmp, ignore_errors=True)
    res.write(args.json)
    return res.exit_code()


if __name__ == "__main__":
    sys.exit(main())
