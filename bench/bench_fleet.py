# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: fleet width -- playbooks/drift.yml over 20, 100 and 200 simulated hosts at forks 5 and 20.

Each simulated host is a network namespace holding one stand-in failover group (a bridge
master with a standby and a primary veth port, tests/integration/netns_lab.py); the inventory
holds ``connection: local`` hosts with the host vars ``failover_netns`` and
``failover_master_kinds: [bridge]``, which playbooks/drift.yml forwards to failover_drift.  The
real playbook runs unchanged (host play + fleet report on the controller), with every drift
check (``failover_drift_checks`` unset); the kmod checks read this machine's own state, the same
for every simulated host.  After every run the fleet report is checked: one entry per host, each
with the slave_name drift of its own namespace (proof that the netns was scanned).

Measured side by side in one run (sizes and forks alternate, medians of repeats), with the CPU
time of the whole process tree and the machine-wide busy cores, so the bound is visible: every
simulated host runs on this machine's cores, so no fork count can finish in less than
cpu_time / cores.  Goals: linear in hosts (marginal wall time per host from 100 to 200 hosts
within 1.5x of that from 20 to 100), forks 20 >= 2.5x faster than forks 5 -- or "bound" when the
CPU rate that speedup needs (2.5 x cpu / wall of forks 5) exceeds the cores of the machine, or the
cores the other tenants leave free (their busy cores sampled between our runs, while nothing of
ours runs); both are measured and printed.  Needs root.  Full: one run per point (``--repeat 3``
for medians when there is time); ``--quick``: 20 hosts only, 2 runs per fork count.

Drift against ping (``--measures ping``, also part of the full and quick runs): playbooks/drift.yml
and a one-task ``ansible.builtin.ping`` play over the same 50 hosts at forks 10, alternating which
runs first, medians of ``--ping-pairs`` (default 3) pairs; goal drift / ping <= 1.3x.  Both run with
bench/callback_plugins/vnfo_timing, which splits drift's wall time into the host task, the other
per-host tasks, the controller's report tasks and the rest, and gives failover_drift's module body
per host (its ``elapsed_seconds``); both run through bench/ansible_cpu_split.py, which splits their CPU
time per host into the module process, Ansible's worker and the main process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)

from ansible_cpu_split import read_split  # noqa: E402  pylint: disable=wrong-import-position
from benchlib import BIN, LAST, Results, ansible_env, median, others_busy_cores, timed, timed_unstalled  # noqa: E402
from netns_lab import NetnsLab  # noqa: E402  pylint: disable=wrong-import-position

GOAL_FORKS = 2.5
GOAL_LINEAR = 1.5
GOAL_VS_PING = 1.3  # drift.yml / one-task ping play over the same hosts (issue 13)
PING_HOSTS = 50
PING_FORKS = 10
PING_PAIRS = 3
HOST_TASK = "Compare the host with the policy"  # the host task of playbooks/drift.yml
FORKS = (5, 20)
DRIFT = os.path.join(ROOT, "playbooks", "drift.yml")
CPU_SPLIT = os.path.join(HERE, "ansible_cpu_split.py")
CPU_PARTS = ("modules", "worker", "main")  # module processes, Ansible's workers, the main process


def write_inventory(path, hosts):
    inv = {"all": {"vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                            "failover_become": False, "failover_master_kinds": ["bridge"],
                            "failover_drift_fail": False},
                   "hosts": {h: {"failover_netns": ns} for h, ns in hosts}}}
    with open(path, "w") as fh:
        json.dump(inv, fh)


def check_report(report_dir, hosts):
    """The run checked exactly ``hosts``, each in its own namespace (slave_name drift found there)."""
    path = os.path.join(report_dir, "fleet-report.json")
    with open(path) as fh:
        report = json.load(fh)
    seen = {h["host"]: h for h in report["hosts"]}
    if sorted(seen) != sorted(hosts):
        raise RuntimeError("fleet report lists %d hosts, expected %d" % (len(seen), len(hosts)))
    for host, entry in seen.items():
        if not any(d["kind"] == "slave_name" for d in entry.get("drift") or []):
            raise RuntimeError("%s: no slave_name drift in the report (status %s: %s); does playbooks/drift.yml "
                               "forward failover_netns and failover_master_kinds?"
                               % (host, entry.get("status"), entry.get("message")))


def split_cmd(cmd, split_file):
    """``cmd`` (an Ansible tool) run through bench/ansible_cpu_split.py when ``split_file`` is given."""
    if not split_file:
        return cmd
    return [sys.executable, CPU_SPLIT, split_file] + cmd


def run_play(inventory, forks, tmp, hosts, env=None, split_file=None):
    report = os.path.join(tmp, "report")
    shutil.rmtree(report, ignore_errors=True)
    cmd = split_cmd([os.path.join(BIN, "ansible-playbook"), "-i", inventory, "-f", str(forks), DRIFT,
                     "-e", "failover_report_dir=%s" % report, "--limit", ",".join(hosts)], split_file)
    wall, cpu, proc = timed_unstalled(cmd, env=env or ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.oneline"),
                                      cwd=tmp)
    ok = proc.returncode == 0 and "FAILED!" not in proc.stdout and "UNREACHABLE" not in proc.stdout
    if not ok:
        raise RuntimeError("drift run failed (rc=%d):\n%s\n%s"
                           % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    check_report(report, hosts)
    return wall, cpu, LAST["machine_busy"]


def write_ping_play(path):
    """The reference: one ansible.builtin.ping task per host, no facts (the same hosts and inventory)."""
    with open(path, "w") as fh:
        fh.write("---\n- name: Ping every host\n  hosts: all\n  gather_facts: false\n  tasks:\n"
                 "    - name: Ping\n      ansible.builtin.ping:\n")


def timing_env(path):
    """Ansible's environment with bench/callback_plugins/vnfo_timing writing its per-task JSON to ``path``."""
    return ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.oneline",
                       ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="vnfo_timing", VNFO_TIMING_FILE=path)


def task_walls(timing):
    """{task name: wall seconds} from a vnfo_timing file, in play order.

    vnfo_timing stamps every result with the seconds since its task started, so a task's wall
    time over all hosts is the largest of them.
    """
    walls = {}
    for entry in timing["tasks"]:
        walls[entry["name"]] = max(walls.get(entry["name"], 0.0), entry["seconds"])
    return walls


def split_drift_run(timing, wall):
    """Where one drift run's wall time goes: (host task, other per-host tasks (run or skipped), the
    controller's run_once report tasks, the rest, median module body seconds per host).

    The rest is ansible-playbook's own start-up, parsing, inventory and vars loading, and the recap.
    """
    walls = task_walls(timing)
    results = {}
    for entry in timing["tasks"]:
        results[entry["name"]] = results.get(entry["name"], 0) + 1
    host = walls.pop(HOST_TASK, 0.0)
    per_host = sum(w for name, w in walls.items() if results[name] > 1)
    report = sum(w for name, w in walls.items() if results[name] == 1)
    module = [e["module_seconds"] for e in timing["tasks"]
              if e["name"] == HOST_TASK and e.get("module_seconds") is not None]
    return host, per_host, report, wall - host - per_host - report, median(module) if module else float("nan")


def run_ping(inventory, forks, tmp, hosts, timing_file, split_file=None):
    cmd = split_cmd([os.path.join(BIN, "ansible-playbook"), "-i", inventory, "-f", str(forks),
                     os.path.join(tmp, "ping.yml"), "--limit", ",".join(hosts)], split_file)
    wall, cpu, proc = timed_unstalled(cmd, env=timing_env(timing_file), cwd=tmp)
    if proc.returncode != 0 or "SUCCESS" not in proc.stdout or proc.stdout.count("SUCCESS") != len(hosts):
        raise RuntimeError("ping run failed (rc=%d):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:],
                                                                 proc.stderr[-2000:]))
    return wall, cpu


def measure_drift_vs_ping(res, inventory, tmp, hosts, pairs, forks):
    """drift.yml vs a one-task ping play over the same hosts at ``forks``, alternating, medians of ``pairs``."""
    write_ping_play(os.path.join(tmp, "ping.yml"))
    timing_file = os.path.join(tmp, "timing.json")
    split_file = os.path.join(tmp, "cpu-split.txt")
    splits = {"drift": [], "ping": []}
    print("\n== drift.yml vs a one-task ping play, %d hosts, forks %d, %d pairs (alternating) =="
          % (len(hosts), forks, pairs), flush=True)
    drift, ping, parts, ping_task = [], [], [], []
    for pair in range(pairs):
        # alternate which side runs first, so neither always meets a warmer cache or a quieter machine
        for side in (("drift", "ping") if pair % 2 == 0 else ("ping", "drift")):
            if side == "drift":
                wall, cpu, _busy = run_play(inventory, forks, tmp, hosts, env=timing_env(timing_file),
                                            split_file=split_file)
                with open(timing_file) as fh:
                    parts.append(split_drift_run(json.load(fh), wall))
                drift.append((wall, cpu))
            else:
                wall, cpu = run_ping(inventory, forks, tmp, hosts, timing_file, split_file)
                with open(timing_file) as fh:
                    ping_task.append(sum(task_walls(json.load(fh)).values()))
                ping.append((wall, cpu))
            splits[side].append(read_split(split_file, len(hosts)))
            print("  pair %d: %-5s %6.1f s wall, %6.1f s CPU" % (pair + 1, side, wall, cpu), flush=True)
    dw, dc = median([d[0] for d in drift]), median([d[1] for d in drift])
    pw, pc = median([p[0] for p in ping]), median([p[1] for p in ping])
    host, per_host_tasks, report, rest, module = (median([p[k] for p in parts]) for k in range(5))
    res.info("drift.yml, %d hosts, forks %d: wall (CPU)" % (len(hosts), forks), "%.1f s (%.1f s)" % (dw, dc))
    res.info("ping play, %d hosts, forks %d: wall (CPU)" % (len(hosts), forks), "%.1f s (%.1f s)" % (pw, pc))
    res.info("drift.yml wall (medians): host task / other per-host tasks / controller report tasks / "
             "ansible-playbook start-up and the rest", "%.1f / %.1f / %.1f / %.1f s"
             % (host, per_host_tasks, report, rest))
    res.info("ping play wall (medians): ping task / ansible-playbook start-up and the rest",
             "%.1f / %.1f s" % (median(ping_task), pw - median(ping_task)))
    res.info("failover_drift per host: module body (elapsed_seconds, median)", "%.0f ms" % (module * 1000))
    res.info("CPU time drift / ping (reference)", "%.2fx" % (dc / pc))
    cpu_per_host = {side: {part: median([s[part] for s in runs]) * 1000 / len(hosts) for part in CPU_PARTS}
                    for side, runs in splits.items()}
    extra = {part: cpu_per_host["drift"][part] - cpu_per_host["ping"][part] for part in CPU_PARTS}
    res.info("CPU per host, drift.yml / ping play (medians; bench/ansible_cpu_split.py): module process / Ansible "
             "worker / ansible-playbook main process",
             "%.0f / %.0f / %.0f ms against %.0f / %.0f / %.0f ms"
             % tuple([cpu_per_host["drift"][p] for p in CPU_PARTS] + [cpu_per_host["ping"][p] for p in CPU_PARTS]))
    res.info("wall drift / ping of each pair (reference: the load moves between pairs)",
             ", ".join("%.2fx" % (d[0] / p[0]) for d, p in zip(drift, ping)))
    ratio = dw / pw
    res.note("drift.yml / ping play: of drift's %.1f s over ping, the host task takes %.1f s more than the ping task, the "
             "other per-host tasks %.1f s (drift.yml has none: the host task writes the node_exporter textfile "
             "itself), the controller's report tasks %.1f s; start-up and the rest "
             "%.1f s against ping's %.1f s (medians of each part, so they need not add up). Per host drift costs "
             "%.0f ms more CPU in the module process (failover_drift imports the collection's module_utils, which "
             "Python compiles from the AnsiballZ archive on every run, then checks the host), %.0f ms in Ansible's "
             "worker (the action reads the failover_* variables; the larger payload and result) and %.0f ms in the "
             "main process. Measured on a machine shared with other jobs' QEMU guests, where only the side-by-side "
             "ratios hold, not the absolute times"
             % (dw - pw, host - median(ping_task), per_host_tasks, report, rest, pw - median(ping_task),
                extra["modules"], extra["worker"], extra["main"]))
    res.goal("drift.yml / one-task ping play, %d hosts, forks %d" % (len(hosts), forks), ratio,
             "<= %.1fx" % GOAL_VS_PING, ratio <= GOAL_VS_PING)


def startup_costs():
    """Where CPU goes per host: interpreter start, Ansible's module runtime, pyroute2."""
    out = {}
    for key, code in (("python -c pass", "pass"), ("import ansible.module_utils.basic", "import ansible.module_utils.basic"),
                      ("import pyroute2", "import pyroute2")):
        samples = []
        for _n in range(5):
            _wall, cpu, _p = timed([sys.executable, "-c", code])
            samples.append(cpu)
        out[key] = median(samples)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--quick", action="store_true", help="20 hosts only, 2 repeats (CI)")
    ap.add_argument("--sizes", default=None, help="comma-separated host counts (default 20,100,200)")
    ap.add_argument("--repeat", type=int, default=None,
                    help="runs per size and fork count, the median is used (default 1: the full run has 640 "
                         "host runs, 7-15 min here; quick 2)")
    ap.add_argument("--measures", default="width,ping",
                    help="comma-separated subset of: width (drift over the sizes at forks 5 and 20), ping "
                         "(drift.yml / one-task ping play over %d hosts at forks %d, goal <= %.1fx); default both"
                    % (PING_HOSTS, PING_FORKS, GOAL_VS_PING))
    ap.add_argument("--ping-pairs", type=int, default=PING_PAIRS,
                    help="drift/ping pairs, the medians are used (default %d, also with --quick)" % PING_PAIRS)
    ap.add_argument("--json", help="write results as JSON here (for bench/run.py)")
    args = ap.parse_args()
    measures = {m.strip() for m in args.measures.split(",") if m.strip()}
    if not measures or measures - {"width", "ping"}:
        print("--measures takes width and/or ping, not %r" % args.measures, file=sys.stderr)
        return 2
    if args.ping_pairs < 1:
        print("--ping-pairs must be at least 1", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("bench_fleet.py needs root (it creates network namespaces)", file=sys.stderr)
        return 2
    sizes = sorted({int(s) for s in (args.sizes or ("20" if args.quick else "20,100,200")).split(",")})
    repeat = args.repeat or (2 if args.quick else 1)
    cores = os.cpu_count() or 1
    res = Results("fleet")
    print("virtnet.failover fleet-width benchmark (%s), %d cores, load average %.1f, nice %d"
          % ("quick" if args.quick else "full", cores, os.getloadavg()[0], os.nice(0)))

    labs = []
    tmp = tempfile.mkdtemp(prefix="vnfo-fleet-")
    try:
        t0 = time.perf_counter()
        wanted = (sizes if "width" in measures else []) + ([PING_HOSTS] if "ping" in measures else [])
        for _n in range(max(wanted)):
            lab = NetnsLab(prefix="vnfofleet")
            labs.append(lab)
            lab.create()
            lab.add_group("enp1s0", "eth1", "eth2")
        print("%d namespaces (one stand-in group each) built in %.1f s" % (len(labs), time.perf_counter() - t0))
        hosts = ["h%03d" % n for n in range(len(labs))]
        inventory = os.path.join(tmp, "inventory.json")
        write_inventory(inventory, zip(hosts, [lab.name for lab in labs]))
        print("playbook: playbooks/drift.yml (host play + fleet report), every drift check")
        run_play(inventory, FORKS[0], tmp, hosts[:1])  # warm-up (page cache, .pyc)
        if "ping" in measures:
            measure_drift_vs_ping(res, inventory, tmp, hosts[:PING_HOSTS], args.ping_pairs, PING_FORKS)
        if "width" in measures:
            measure_width(res, inventory, tmp, hosts, sizes, repeat, cores)
    finally:
        for lab in labs:
            lab.delete()
        shutil.rmtree(tmp, ignore_errors=True)
    res.write(args.json)
    return res.exit_code()


def measure_width(res, inventory, tmp, hosts, sizes, repeat, cores):
    """drift.yml over each size at forks 5 and 20: linearity and the forks speedup (or its CPU bound)."""
    meas, idle = {}, []
    for rnd in range(repeat):
        # alternate the order between repeats, so neither side always runs first
        order = [(size, forks) for size in sizes for forks in FORKS]
        for size, forks in (order if rnd % 2 == 0 else order[::-1]):
            idle.append(others_busy_cores())  # the other tenants' load, with nothing of ours running
            wall, cpu, busy = run_play(inventory, forks, tmp, hosts[:size])
            meas.setdefault((size, forks), []).append((wall, cpu, busy))
            print("  run %d: %3d hosts, forks %2d: %7.1f s wall, %7.1f s CPU, machine %3.0f%% busy"
                  % (rnd + 1, size, forks, wall, cpu, busy * 100), flush=True)

    stats = {}
    print("\n== drift over N hosts (median of %d; wall s, CPU s of the process tree) ==" % repeat)
    for size in sizes:
        for forks in FORKS:
            wall, cpu, busy = (median([m[k] for m in meas[(size, forks)]]) for k in range(3))
            stats[(size, forks)] = (wall, cpu, busy)
            res.info("%d hosts, forks %d: wall / per host / CPU per host / own cores / machine busy cores"
                     % (size, forks),
                     "%.1f s / %.0f ms / %.0f ms / %.2f / %.2f of %d"
                     % (wall, wall / size * 1000, cpu / size * 1000, cpu / wall, busy * cores, cores))

    print("\n== where the time goes ==")
    costs = startup_costs()
    for key, val in costs.items():
        res.info("CPU of `%s`" % key, "%.0f ms" % (val * 1000))
    big = max(sizes)
    w5, c5, b5 = stats[(big, 5)]
    w20, c20, b20 = stats[(big, 20)]
    speedup = w5 / w20
    floor20 = c20 / cores
    needed = GOAL_FORKS * c20 / w5  # CPU rate (cores) forks 20 would need for a 2.5x speedup
    others = median(idle)           # cores the other tenants keep busy while we do nothing
    free = max(0.0, cores - others)
    res.info("CPU floor at forks 20 = CPU / %d cores (%d hosts)" % (cores, big),
             "%.1f s (measured wall %.1f s; best speedup possible %.2fx)" % (floor20, w20, w5 / floor20))
    res.info("other tenants' busy cores while we were idle (median of %d x 2 s between runs)" % len(idle),
             "%.2f of %d (min %.2f, max %.2f)" % (others, cores, min(idle), max(idle)))
    res.info("cores a 2.5x speedup needs at forks 20 (2.5 x CPU / wall of forks 5)",
             "%.2f (machine %d, left by the other tenants %.2f)" % (needed, cores, free))
    bound = None
    if speedup < GOAL_FORKS:
        per_host = c20 / big * 1000
        why = ("%.0f ms of CPU per host (~%.0f ms of it two Python start-ups with Ansible's module runtime, "
               "worker fork + module process; import pyroute2 alone %.0f ms), all of it on this machine's cores "
               "since every simulated host is local"
               % (per_host, 2 * costs["import ansible.module_utils.basic"] * 1000, costs["import pyroute2"] * 1000))
        if needed > cores:
            bound = ("CPU-bound by the machine: for %.1fx the forks-20 run would have to finish %d hosts in "
                     "%.1f s, i.e. burn its %.1f CPU-s at %.2f cores, more than the %d cores there are (floor "
                     "%.1f s, best speedup %.2fx against the forks-5 time measured under this load; on an idle "
                     "machine forks 5 would be faster and the best speedup lower); %s"
                     % (GOAL_FORKS, big, w5 / GOAL_FORKS, c20, needed, cores, floor20, w5 / floor20, why))
        elif needed > free:
            bound = ("CPU-bound by the machine's load: a %.1fx speedup needs %.2f cores at forks 20; the other "
                     "tenants (QEMU guests, other jobs) kept %.2f of the %d cores busy while nothing of ours ran "
                     "(median of %d samples), leaving %.2f, and we run at nice %d below them (we got %.2f cores "
                     "at forks 5 and %.2f at forks 20: under this load the speedup is the scheduler's share "
                     "for 20 vs 5 runnable processes, not parallelism); %s"
                     % (GOAL_FORKS, needed, others, cores, len(idle), free, os.nice(0), c5 / w5, c20 / w20, why))
    res.goal("forks 20 vs forks 5 speedup at %d hosts" % big, speedup, ">= %.1fx" % GOAL_FORKS,
             speedup >= GOAL_FORKS, bound)

    if len(sizes) >= 3:
        s0, s1, s2 = sizes[-3:]
        for forks in FORKS:
            w = [stats[(s, forks)][0] for s in (s0, s1, s2)]
            c = [stats[(s, forks)][1] for s in (s0, s1, s2)]
            m1 = max(1e-3, (w[1] - w[0]) / (s1 - s0))
            m2 = (w[2] - w[1]) / (s2 - s1)
            cm1 = max(1e-3, (c[1] - c[0]) / (s1 - s0))
            cm2 = (c[2] - c[1]) / (s2 - s1)
            res.info("forks %d marginal per host %d->%d, %d->%d: wall; CPU" % (forks, s0, s1, s1, s2),
                     "%.0f, %.0f ms; %.0f, %.0f ms (CPU ratio %.2fx)"
                     % (m1 * 1000, m2 * 1000, cm1 * 1000, cm2 * 1000, cm2 / cm1))
            res.goal("forks %d linearity: marginal wall per host %d->%d / %d->%d" % (forks, s1, s2, s0, s1),
                     m2 / m1, "<= %.1fx" % GOAL_LINEAR, m2 / m1 <= GOAL_LINEAR)
    else:
        res.note("linearity not measured with fewer than 3 sizes (--quick: 20 hosts); the full run measures "
                 "20/100/200 hosts")


if __name__ == "__main__":
    sys.exit(main())
