# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every virtnet.failover benchmark with one command; print each ratio next to its goal.

    make bench                         # all benchmarks (VM ones need the lab images)
    make bench BENCH_ARGS=--quick      # CI: cheap subset, VM benchmarks skipped with a reason
    .venv/bin/python bench/run.py --only fleet,interfaces --write-docs
    nice -n 19 .venv/bin/python bench/run.py --quick   # on a machine shared with lab guests

Benchmarks (each also runs alone, see its --help):
  interfaces   bench/bench_interfaces.py   failover_info vs ping/setup vs `ip -j -d link show`
  fleet        bench/bench_fleet.py        drift over 20/100/200 netns hosts at forks 5 and 20; drift.yml /
                                           one-task ping play over 50 netns hosts at forks 10 (<= 1.3x)
  rollout      bench/bench_rollout_cost.py DKMS build+install, initramfs, reboot per host (lab VM)
  converged    bench/bench_converged.py    rollout re-run and drift vs ping on the converged guest
  migration    bench/bench_migration.py    live migration: total time, downtime, time until named, ping loss

Ratios are measured side by side in one run (medians of repeats), never against absolute
times.  Exit status 1 when any goal is missed (a goal that is not reached but whose bound
is measured and explained is reported as "bound" and does not fail), 2 on a usage error.
``--write-docs`` replaces each benchmark's section of docs/performance.md with the table of
this run and the command that produced it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DOC = os.path.join(ROOT, "docs", "performance.md")
ORDER = ["interfaces", "fleet", "rollout", "converged", "migration"]
SHARED_GUEST = "vnfo-bench-run"  # rollout converges it, converged re-uses it, run.py stops it
SCRIPTS = {"interfaces": "bench_interfaces.py", "fleet": "bench_fleet.py",
           "converged": "bench_converged.py", "rollout": "bench_rollout_cost.py",
           "migration": "bench_migration.py"}
VM_BENCHES = {"converged", "rollout", "migration"}


def run_streamed(cmd):
    """Run cmd, echo its output live, return (rc, output, seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    rc = proc.wait()
    return rc, "".join(lines), time.perf_counter() - t0


def markdown(name, data, command, seconds, load_before):
    load = os.getloadavg()[0]
    lines = ["<!-- bench:%s:begin -->" % name,
             "Command: `%s` — %s UTC, %s, %d cores, load average %.1f at the start and %.1f at the end of this "
             "benchmark (other tenants' QEMU guests included), took %.0f s."
             % (command, datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                platform.node() or "this machine", os.cpu_count() or 0, load_before, load, seconds), "",
             "| metric | value | goal | verdict |", "|---|---|---|---|"]
    for metric, value, goal, verdict in data["rows"]:
        lines.append("| %s | %s | %s | %s |" % (metric, value, goal or "", verdict))
    listed = {r[0] for r in data["rows"] if r[3] == "MISSED"}
    for miss in data.get("missed", []):
        if not any(miss.startswith(m + " = ") for m in listed):  # a failure that has no row of its own
            lines.append("| (run) | %s | | MISSED |" % miss)
    if data.get("skipped"):
        lines.append("| (skipped) | %s | | skipped |" % data["skipped"])
    for note in data.get("notes", []):
        lines += ["", "Note: " + note]
    lines.append("<!-- bench:%s:end -->" % name)
    return "\n".join(lines)


def write_docs(sections):
    text = open(DOC).read() if os.path.exists(DOC) else "# Performance\n"
    for name, block in sections.items():
        pat = re.compile(r"<!-- bench:%s:begin -->.*?<!-- bench:%s:end -->" % (name, name), re.S)
        if pat.search(text):
            text = pat.sub(lambda _m: block, text)
        else:
            text = text.rstrip("\n") + "\n\n## %s (bench/%s)\n\n%s\n" % (name, SCRIPTS[name], block)
    with open(DOC, "w") as fh:
        fh.write(text)
    print("\nwrote %s (%s)" % (os.path.relpath(DOC, ROOT), ", ".join(sections)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true", help="CI mode: cheap subset, VM benchmarks skipped")
    ap.add_argument("--only", default=",".join(ORDER), help="comma-separated subset of: " + ", ".join(ORDER))
    ap.add_argument("--write-docs", action="store_true", help="update docs/performance.md with this run")
    for n in ORDER:
        ap.add_argument("--%s-args" % n, default="", metavar="ARGS",
                        help="extra arguments for bench/%s (e.g. --fleet-args='--repeat 1')" % SCRIPTS[n])
    args = ap.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        print("unknown benchmark(s): %s (known: %s)" % (", ".join(unknown), ", ".join(ORDER)), file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("the benchmarks need root (network namespaces, lab VMs)", file=sys.stderr)
        return 2
    summary, sections, missed = [], {}, []
    t_all = time.perf_counter()
    try:
        return _run_all(args, names, command_line(), summary, sections, missed, t_all)
    finally:
        if VM_BENCHES & set(names) and not args.quick:  # only the VM benchmarks boot the shared guest
            sys.path.insert(0, HERE)
            import labbench  # pylint: disable=import-outside-toplevel
            if labbench.instance(SHARED_GUEST):
                labbench.down(SHARED_GUEST)


def command_line():
    """The command as it was run (``make bench`` runs the same), with its nice level."""
    python = sys.executable
    if python.startswith(ROOT + os.sep):
        python = os.path.relpath(python, ROOT)
    cmd = " ".join([python, "bench/run.py"] + [shlex.quote(a) for a in sys.argv[1:]])
    niceness = os.nice(0)
    return ("nice -n %d " % niceness if niceness else "") + cmd


def _run_all(args, names, command, summary, sections, missed, t_all):
    shared_guest_up = False
    for name in [n for n in ORDER if n in names]:
        script = os.path.join(HERE, SCRIPTS[name])
        print("\n" + "=" * 78 + "\n== %s: bench/%s%s\n" % (name, SCRIPTS[name], " --quick" if args.quick else "")
              + "=" * 78, flush=True)
        if not os.path.exists(script):
            reason = "bench/%s does not exist yet" % SCRIPTS[name]
            print("SKIPPED: " + reason)
            summary.append((name, "skipped", reason, 0))
            continue
        if args.quick and name in VM_BENCHES:
            reason = "needs a lab VM (minutes under TCG); run without --quick"
            print("SKIPPED: " + reason)
            summary.append((name, "skipped", reason, 0))
            continue
        cmd = [sys.executable, script] + (["--quick"] if args.quick else [])
        cmd += shlex.split(getattr(args, "%s_args" % name))
        if name == "rollout" and "converged" in names:
            cmd += ["--keep", SHARED_GUEST]
        if name == "converged" and shared_guest_up:
            cmd += ["--guest", SHARED_GUEST]
        load_before = os.getloadavg()[0]
        with tempfile.NamedTemporaryFile(prefix="vnfo-bench-", suffix=".json", delete=False) as tf:
            jpath = tf.name
        try:
            rc, out, secs = run_streamed(cmd + ["--json", jpath])
            try:
                with open(jpath) as fh:
                    data = json.load(fh)
            except (OSError, ValueError):
                data = {"bench": name, "rows": [], "notes": [], "missed": []}
        finally:
            os.unlink(jpath)
        if rc == 3:  # the benchmark could not run here and said why
            skipped = (out.strip().splitlines() or ["skipped"])[-1]
            data["skipped"] = skipped
            summary.append((name, "skipped", skipped, secs))
            sections[name] = markdown(name, data, command, secs, load_before)
            continue
        if rc != 0 and not data["missed"]:
            data["missed"].append("bench/%s exited %d%s" % (SCRIPTS[name], rc, "" if data["rows"] else
                                                            " without results (see its output above)"))
        if name == "rollout" and "--keep" in cmd and rc == 0:
            shared_guest_up = True
        missed += ["%s: %s" % (name, m) for m in data["missed"]]
        bound = [r[0] for r in data["rows"] if r[3] == "bound"]
        verdict = "MISSED" if data["missed"] else "bound" if bound else "ok"
        summary.append((name, verdict, "; ".join(data["missed"] or ["bound: " + ", ".join(bound)] * bool(bound)),
                        secs))
        if data["rows"]:
            sections[name] = markdown(name, data, command, secs, load_before)
        else:  # crashed before measuring anything: keep the last measured table
            print("%s: no results, docs/performance.md keeps its previous %s section" % (name, name))

    print("\n" + "=" * 78 + "\n== summary (%.0f s in all)" % (time.perf_counter() - t_all))
    for name, verdict, text, secs in summary:
        print("  %-11s %-8s %6.0f s  %s" % (name, verdict, secs, text))
    if args.write_docs and sections:
        write_docs(sections)
    if missed:
        print("\nGOALS MISSED:\n  " + "\n  ".join(missed))
        return 1
    print("\nall goals met or their bounds explained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
