# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: virtnet.failover.failover_info on a namespace with many links.

Builds its own network namespace (100 Linux bridges with 5 veth pairs each =
1,101 links with lo), measures side by side in one run (alternating,
medians of repeats) and prints each ratio with its goal:

  * failover_info through Ansible  vs  ``ansible localhost -c local -m ping``
    (goal <= 1.3x), both run in the namespace with ``ip netns exec``;
  * the module's netlink scan in process, after import  vs
    ``ip -j -d link show`` (goal <= 2x);
  * for reference: pyroute2 ``IPRoute().get_links()`` and
    ``ansible.builtin.setup`` with gather_subset network;
  * scaling of the scan at 10 / 100 / 1,000 / 4,000 links.

Exits 1 when a goal is missed.  Needs root.  ``--quick`` for CI.
Every namespace it creates is removed on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from netns_lab import NetnsLab  # noqa: E402  pylint: disable=wrong-import-position

GOAL_ANSIBLE = 1.3
GOAL_SCAN = 2.0
BIN = os.path.dirname(sys.executable)
CPU = []  # (module, CPU seconds of the ansible run and its children)


def collections_path():
    build = os.path.join(ROOT, ".build", "collections")
    if os.path.isdir(os.path.join(build, "ansible_collections", "virtnet", "failover")):
        return build
    tmp = tempfile.mkdtemp(prefix="virtnet-bench-coll-")
    os.makedirs(os.path.join(tmp, "ansible_collections", "virtnet"))
    os.symlink(ROOT, os.path.join(tmp, "ansible_collections", "virtnet", "failover"))
    return tmp


def median_ms(values):
    return statistics.median(values) * 1000.0


# ------------------------------------------------------------------ worker
# Runs inside the namespace (ip netns exec): alternates the in-process scan
# with `ip -j -d link show` so both see the same machine load.

def worker(repeat, with_pyroute2):
    t0 = time.perf_counter()
    sys.path.insert(0, collections_path())
    from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn
    fn.load_pyroute2()  # what the modules import
    import_s = time.perf_counter() - t0

    def scan():
        sock = fn.LinkSocket()
        eth = fn.Ethtool()
        try:
            links = sock.dump_links()
            groups = fn.find_groups(links, eth)
        finally:
            sock.close()
            eth.close()
        return len(links), len(groups)

    count = scan()[0]  # warm up
    scans, ips, get_links = [], [], []
    for _round in range(repeat):
        start = time.perf_counter()
        scan()
        scans.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(["ip", "-j", "-d", "link", "show"], stdout=subprocess.DEVNULL, check=True)
        ips.append(time.perf_counter() - start)
    if with_pyroute2:
        IPRoute = fn.load_pyroute2()["IPRoute"]  # pylint: disable=invalid-name
        for _round in range(max(3, repeat // 4)):
            start = time.perf_counter()
            with IPRoute() as ipr:
                n = len(list(ipr.get_links()))
            get_links.append(time.perf_counter() - start)
        assert n == count
    json.dump({"links": count, "import": import_s, "scan": scans, "ip": ips, "get_links": get_links},
              sys.stdout)


def run_worker(ns, repeat, with_pyroute2=False):
    cmd = ["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), "--worker",
           "--repeat", str(repeat)] + (["--pyroute2"] if with_pyroute2 else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# ------------------------------------------------------------------ topology

def fill(lab, total):
    """Make the namespace hold exactly ``total`` links (lo included)."""
    lab.fill(total, ports=5, prefix="br")


# ------------------------------------------------------------------ ansible

def ansible_env():
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
                ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                ANSIBLE_NOCOLOR="1", PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def ansible_time(ns, module, args=None):
    cmd = ["ip", "netns", "exec", ns, os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-m", module]
    if args:
        cmd += ["-a", json.dumps(args)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=ansible_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), proc.stdout[-2000:], proc.stderr[-2000:]))
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    CPU.append((module + (" " + json.dumps(args) if args else ""), cpu))
    return elapsed


# ------------------------------------------------------------------ main

def verdict(ratio, goal):
    return "ok" if ratio <= goal else "MISSED"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no setup-module run (CI)")
    parser.add_argument("--links", type=int, default=1101, help="links in the main namespace (default 1101)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--pyroute2", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.repeat, args.pyroute2)
        return 0
    if os.geteuid() != 0:
        print("bench_interfaces.py needs root (it creates network namespaces)", file=sys.stderr)
        return 2

    scan_repeat = 9 if args.quick else 21
    ansible_repeat = 3 if args.quick else 7
    failures = []
    print("virtnet.failover interface benchmark (%s mode), load average %.1f"
          % ("quick" if args.quick else "full", os.getloadavg()[0]))

    with NetnsLab(prefix="vnfobench") as lab:
        start = time.perf_counter()
        fill(lab, args.links)
        print("namespace %s: %d links built in %.1f s" % (lab.name, args.links, time.perf_counter() - start))

        res = run_worker(lab.name, scan_repeat, with_pyroute2=True)
        scan_ms, ip_ms = median_ms(res["scan"]), median_ms(res["ip"])
        ratio_scan = scan_ms / ip_ms
        print("\n== netlink scan at %d links (median of %d, alternating) ==" % (res["links"], scan_repeat))
        print("  ip -j -d link show                 %8.1f ms" % ip_ms)
        print("  failover_netlink scan (in process) %8.1f ms" % scan_ms)
        print("  pyroute2 IPRoute().get_links()     %8.1f ms   (reference, %.1fx ip)"
              % (median_ms(res["get_links"]), median_ms(res["get_links"]) / ip_ms))
        print("  import pyroute2 + module_utils     %8.1f ms   (once per module run)" % (res["import"] * 1000))
        print("  ratio scan / ip = %.2fx   goal <= %.1fx   %s" % (ratio_scan, GOAL_SCAN, verdict(ratio_scan, GOAL_SCAN)))
        if ratio_scan > GOAL_SCAN:
            failures.append("scan ratio %.2fx > %.1fx" % (ratio_scan, GOAL_SCAN))

        ansible_time(lab.name, "ping")  # warm caches
        pings, infos = [], []
        for _round in range(ansible_repeat):
            pings.append(ansible_time(lab.name, "ping"))
            infos.append(ansible_time(lab.name, "virtnet.failover.failover_info"))
        bridge = ansible_time(lab.name, "virtnet.failover.failover_info", {"master_kinds": ["bridge"]})
        ping_s, info_s = statistics.median(pings), statistics.median(infos)
        ratio_ansible = info_s / ping_s
        print("\n== through Ansible, ip netns exec, -c local (median of %d, alternating) ==" % ansible_repeat)
        print("  ansible -m ping                              %6.2f s" % ping_s)
        print("  ansible -m virtnet.failover.failover_info    %6.2f s" % info_s)
        print("  ... with master_kinds=[bridge] (100 groups)  %6.2f s   (one run, reference)" % bridge)
        if args.quick:
            print("  ansible.builtin.setup gather_subset network   skipped (--quick)")
        else:
            setup = ansible_time(lab.name, "ansible.builtin.setup", {"gather_subset": ["!all", "network"]})
            print("  ansible.builtin.setup gather_subset network  %6.2f s   (one run, %.1fx ping)"
                  % (setup, setup / ping_s))
        cpu_ping = statistics.median(c for m, c in CPU if m == "ping")
        cpu_info = statistics.median(c for m, c in CPU if m == "virtnet.failover.failover_info")
        print("  CPU time (user+sys, all processes): ping %.2f s, failover_info %.2f s = %.2fx (reference)"
              % (cpu_ping, cpu_info, cpu_info / cpu_ping))
        print("  ratio failover_info / ping = %.2fx   goal <= %.1fx   %s"
              % (ratio_ansible, GOAL_ANSIBLE, verdict(ratio_ansible, GOAL_ANSIBLE)))
        if ratio_ansible > GOAL_ANSIBLE:
            failures.append("ansible ratio %.2fx > %.1fx" % (ratio_ansible, GOAL_ANSIBLE))

    print("\n== scaling of the scan (median of %d) ==" % scan_repeat)
    print("  %7s %12s %12s %8s" % ("links", "ip -j -d", "scan", "ratio"))
    for total in (10, 100, 1000, 4000):
        with NetnsLab(prefix="vnfobench") as lab:
            fill(lab, total)
            res = run_worker(lab.name, scan_repeat)
            scan_ms, ip_ms = median_ms(res["scan"]), median_ms(res["ip"])
            print("  %7d %9.1f ms %9.1f ms %7.2fx" % (res["links"], ip_ms, scan_ms, scan_ms / ip_ms))

    if failures:
        print("\nGOALS MISSED: " + "; ".join(failures))
        return 1
    print("\nall goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
