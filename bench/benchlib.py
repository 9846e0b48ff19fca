# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small shared helpers of the benchmarks: timing with CPU accounting, goals, JSON results.

Every benchmark prints its ratios next to their goals and, with ``--json FILE``, writes
``{"bench": ..., "rows": [[metric, value, goal, verdict], ...], "notes": [...]}`` that
bench/run.py turns into the table of docs/performance.md.  Verdicts: ``ok``, ``MISSED``,
``bound`` (goal not reached but the measured bound explains why; see the note), ``info``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.path.join(ROOT, ".build", "collections")


def ansible_env(**extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_HOST_KEY_CHECKING="false", ANSIBLE_DEPRECATION_WARNINGS="false",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def machine_cpu():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return sum(vals) - idle, sum(vals)


LAST = {}


def timed(cmd, env=None, timeout=3600, cwd=None):
    """Run cmd; return (wall_s, cpu_s of the whole process tree, CompletedProcess).

    CPU time is user+sys of all waited-for descendants (RUSAGE_CHILDREN delta), which
    covers ansible-playbook, its forks and the module processes they run.  The machine-wide
    busy fraction over the same interval (all tenants) is left in LAST["machine_busy"].
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    m0 = machine_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    wall = time.perf_counter() - t0
    m1 = machine_cpu()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total = m1[1] - m0[1]
    LAST["machine_busy"] = (m1[0] - m0[0]) / total if total else 0.0
    return wall, cpu, proc


def median(values):
    return statistics.median(values)


class Results:
    def __init__(self, bench):
        self.bench = bench
        self.rows = []
        self.notes = []
        self.missed = []

    def goal(self, metric, value, goal_text, ok, bound_note=None, fmt="%.2fx"):
        if ok:
            verdict = "ok"
        elif bound_note:
            verdict = "bound"
            self.notes.append("%s: %s" % (metric, bound_note))
            print("  note: " + bound_note)
        else:
            verdict = "MISSED"
            self.missed.append("%s = %s (goal %s)" % (metric, fmt % value, goal_text))
        shown = fmt % value
        self.rows.append([metric, shown, goal_text, verdict])
        print("  %-58s %12s   goal %-14s %s" % (metric, shown, goal_text, verdict))
        return verdict

    def info(self, metric, value_text):
        self.rows.append([metric, value_text, "", "info"])
        print("  %-58s %12s" % (metric, value_text))

    def note(self, text):
        self.notes.append(text)
        print("  note: " + text)

    def write(self, path):
        if path:
            with open(path, "w") as fh:
                json.dump({"bench": self.bench, "rows": self.rows, "notes": self.notes,
                           "missed": self.missed}, fh, indent=1)

    def exit_code(self):
        if self.missed:
            print("\nGOALS MISSED: " + "; ".join(self.missed))
            return 1
        print("\nall goals met" + (" (bounds explained in the notes)" if any(r[3] == "bound" for r in self.rows)
                                   else ""))
        return 0
