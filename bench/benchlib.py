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
import threading
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
    env.pop("ANSIBLE_CONFIG", None)  # the benchmarks measure Ansible's defaults, not a caller's ansible.cfg
    env.update({k: str(v) for k, v in extra.items()})
    return env


def machine_cpu():
    """(busy, total) jiffies of all CPUs from /proc/stat.

    Fields: user nice system idle iowait irq softirq steal guest guest_nice.  guest and
    guest_nice are already counted in user and nice, so they are left out of the sum; idle and
    iowait are idle; steal (time the hypervisor gave to others) counts as busy: we could not use it.
    """
    with open("/proc/stat") as fh:
        vals = [int(v) for v in fh.readline().split()[1:]][:8]
    total = sum(vals)
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return total - idle, total


def others_busy_cores(seconds=2.0):
    """Busy cores of the whole machine over ``seconds`` while this process only sleeps.

    Called between runs (nothing of ours running), it measures what the other tenants use
    without competing with us: a load measured when we are idle, not a share we lost.
    """
    m0 = machine_cpu()
    time.sleep(seconds)
    m1 = machine_cpu()
    total = m1[1] - m0[1]
    return (m1[0] - m0[0]) / total * (os.cpu_count() or 1) if total else 0.0


LAST = {}
STALLS = []  # (command, seconds stopped, wall) of every run thrown away by timed_unstalled
STALL_LIMIT = 5.0  # seconds a run may spend stopped before its wall time is thrown away


def _tree(pid):
    """pid and its descendants (via /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        cur = todo.pop()
        out.append(cur)
        try:
            for task in os.listdir("/proc/%d/task" % cur):
                with open("/proc/%d/task/%s/children" % (cur, task)) as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            continue
    return out


def _stopped(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except (OSError, IndexError):
        return False


class StallWatch(threading.Thread):
    """Seconds a run spent suspended: this process not scheduled for > 2 s at a time (SIGSTOP of the
    benchmark, a frozen VM) or a process of the run's tree in state T (stopped from outside).
    Either makes the wall time of the run meaningless; the CPU time is unaffected."""

    PERIOD = 0.5

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stalled = 0.0
        self._done = threading.Event()

    def run(self):
        last = time.monotonic()
        while not self._done.wait(self.PERIOD):
            now = time.monotonic()
            gap = now - last - self.PERIOD
            if gap > 2.0:
                self.stalled += gap
            elif any(_stopped(p) for p in _tree(self.pid)):
                self.stalled += now - last
            last = now

    def stop(self):
        self._done.set()
        self.join()


def timed(cmd, env=None, timeout=3600, cwd=None):
    """Run cmd; return (wall_s, cpu_s of the whole process tree, CompletedProcess).

    CPU time is user+sys of all waited-for descendants (RUSAGE_CHILDREN delta), which
    covers ansible-playbook, its forks and the module processes they run.  The machine-wide
    busy fraction over the same interval (all tenants) is left in LAST["machine_busy"], the
    seconds the run spent stopped (StallWatch) in LAST["stalled"].
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    m0 = machine_cpu()
    t0 = time.perf_counter()
    with subprocess.Popen(cmd, env=env, cwd=cwd, text=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        watch = StallWatch(child.pid)
        watch.start()
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
        finally:
            watch.stop()
    wall = time.perf_counter() - t0
    m1 = machine_cpu()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    total = m1[1] - m0[1]
    LAST["machine_busy"] = (m1[0] - m0[0]) / total if total else 0.0
    LAST["stalled"] = watch.stalled
    return wall, cpu, subprocess.CompletedProcess(cmd, child.returncode, out, err)


def timed_unstalled(cmd, tries=3, **kwargs):
    """timed(), run again (up to ``tries`` times) when the run was stopped from outside for more
    than STALL_LIMIT seconds: such a wall time says nothing about the code measured."""
    for attempt in range(1, tries + 1):
        wall, cpu, proc = timed(cmd, **kwargs)
        if LAST["stalled"] <= STALL_LIMIT:
            return wall, cpu, proc
        STALLS.append((" ".join(cmd), LAST["stalled"], wall))
        print("  warning: run %d of `%s` was stopped from outside for %.0f s of its %.0f s; its time is "
              "discarded%s" % (attempt, os.path.basename(cmd[0]) if cmd else "?", LAST["stalled"], wall,
                               ", running it again" if attempt < tries else ""), flush=True)
    raise RuntimeError("every one of %d runs was stopped from outside for more than %.0f s" % (tries, STALL_LIMIT))


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
        if STALLS:
            self.note("%d run(s) were stopped from outside (process state T or the benchmark not scheduled) for "
                      "%s s and measured again; their times are not used" % (len(STALLS), ", ".join(
                          "%.0f" % s for _c, s, _w in STALLS)))
            del STALLS[:]
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
