# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run an Ansible command line tool in this process and record where its CPU time goes, by process.

    python bench/ansible_cpu_split.py OUT_FILE .venv/bin/ansible-playbook ARGS...

Empties OUT_FILE, then appends one line per worker (``worker SELF MODULES``: the CPU seconds of the forked
worker itself -- action plugin, templating, module payload, result handling -- and of the processes
it waited for, which are the module runs of a local connection) and, at exit, one line for the main
process (``main SELF CHILDREN``).  Workers are forked from this process, so wrapping
``WorkerProcess._run`` here reaches every one of them; os.times() of a forked worker starts at zero.
bench_fleet.py uses it to split drift.yml's cost over a ping play into those three parts.
"""

from __future__ import annotations

import atexit
import os
import runpy
import sys


def _append(path, line):
    with open(path, "a") as fh:
        fh.write(line + "\n")


def main():
    out, tool = sys.argv[1], sys.argv[2]
    open(out, "w").close()  # one run's lines only, also when the caller runs the same command again
    from ansible.executor.process import worker  # pylint: disable=import-outside-toplevel

    run = worker.WorkerProcess._run  # pylint: disable=protected-access

    def timed_run(self):
        try:
            return run(self)
        finally:
            t = os.times()
            _append(out, "worker %.4f %.4f" % (t.user + t.system, t.children_user + t.children_system))

    worker.WorkerProcess._run = timed_run  # pylint: disable=protected-access

    def at_exit():
        t = os.times()
        _append(out, "main %.4f %.4f" % (t.user + t.system, t.children_user + t.children_system))

    atexit.register(at_exit)
    sys.argv = sys.argv[2:]
    runpy.run_path(tool, run_name="__main__")


def read_split(path, min_workers):
    """{"workers": n, "worker": s, "modules": s, "main": s} from an OUT_FILE of one run.

    Fails unless the run recorded its main process and at least ``min_workers`` workers (one per host
    of a one-task play): with fewer, the wrapper did not reach Ansible's workers, and the split would
    show zeros instead of the costs.
    """
    split = {"workers": 0, "worker": 0.0, "modules": 0.0, "main": None}
    with open(path) as fh:
        for line in fh:
            kind, own, children = line.split()
            if kind == "worker":
                split["workers"] += 1
                split["worker"] += float(own)
                split["modules"] += float(children)
            elif kind == "main":
                split["main"] = float(own)
    if split["main"] is None or split["workers"] < min_workers:
        raise RuntimeError("%s: %d worker(s) and %s main process recorded, expected at least %d workers and the "
                           "main process; does ansible.executor.process.worker.WorkerProcess._run still exist in "
                           "this ansible-core?" % (path, split["workers"], "a" if split["main"] is not None else "no",
                                                   min_workers))
    return split


if __name__ == "__main__":
    main()
