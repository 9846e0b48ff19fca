# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's QEMU against another QEMU under TCG: boot and guest work, side by side.

    .venv/bin/python bench/bench_qemu_tcg.py --baseline-qemu /path/to/qemu-system-x86_64 \
        [--rounds 2] [--image debian12] [--json FILE]

Boots one guest of IMAGE at a time, alternating between the baseline QEMU and the lab's
(VIRTNET_LAB_QEMU, else qemu-system-x86_64), ROUNDS times each, in a state dir of its own
(VNFO_BENCH_STATE_DIR), and measures on each: the boot until SSH answers (vm.py up), and
inside the guest (timed by the guest's clock, no SSH in the figure) 200 fork+exec of
/bin/true (what update-initramfs and a DKMS build are made of under TCG), 10 gcc -O2
compiles of a small C file, `import pyroute2` in python3, and a pure Python loop.  Prints the medians per QEMU and the ratio lab/baseline
for each; no goal (it says what a QEMU upgrade costs or saves, docs/lab.md).

The baseline QEMU can be any binary or wrapper, e.g. Debian 12's 7.2 unpacked from its
packages (docs/lab.md says how).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import Results, median  # noqa: E402
from labbench import STATE_DIR, cannot_run  # noqa: E402

VM_PY = os.path.join(os.path.dirname(HERE), "molecule", "resources", "lab", "vm.py")

# Each prints one number: milliseconds by the guest's monotonic clock.
GUEST_WORK = {
    "200 fork+exec of /bin/true": "s=$(date +%s%N); i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; "
                                  "echo $(( ($(date +%s%N) - s) / 1000000 ))",
    "python3 -c 'import pyroute2'": "s=$(date +%s%N); python3 -c 'import pyroute2'; "
                                    "echo $(( ($(date +%s%N) - s) / 1000000 ))",
    "10 gcc -O2 compiles of a small C file": "printf 'int main(void) { return 0; }\\n' > /tmp/vnfo-cc.c; "
                                             "s=$(date +%s%N); i=0; while [ $i -lt 10 ]; do "
                                             "gcc -O2 -o /tmp/vnfo-cc /tmp/vnfo-cc.c; i=$((i+1)); done; "
                                             "echo $(( ($(date +%s%N) - s) / 1000000 ))",
    "Python loop, 3e6 additions": "python3 -c 'import time; t = time.monotonic(); sum(range(3 * 10**6)); "
                                  "print(round((time.monotonic() - t) * 1000))'",
}


def vm_cli(qemu, *args, timeout=1200):
    env = dict(os.environ, VIRTNET_LAB_QEMU=qemu)
    return subprocess.run([sys.executable, VM_PY, "--state-dir", STATE_DIR, *args], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def measure(qemu, name, image):
    """{metric: seconds} of one boot of IMAGE on QEMU and the guest work on it."""
    out = {}
    try:
        up = vm_cli(qemu, "up", name, "--image", image)
        m = re.search(r"SSH up after ([0-9.]+)s", up.stdout + up.stderr)
        if up.returncode != 0 or not m:
            raise RuntimeError("%s did not boot %s: %s" % (qemu, image, (up.stdout + up.stderr)[-1500:]))
        out["boot until SSH answers"] = float(m.group(1))
        for metric, script in GUEST_WORK.items():
            res = vm_cli(qemu, "ssh", name, "--", script, timeout=600)  # ssh hands it to the guest's shell
            if res.returncode != 0:
                raise RuntimeError("%s on %s failed: %s" % (metric, qemu, res.stderr[-800:]))
            out[metric] = int(res.stdout.strip().splitlines()[-1]) / 1000.0
    finally:
        vm_cli(qemu, "down", name, timeout=300)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--baseline-qemu", required=True, help="the QEMU binary (or wrapper) to compare with")
    ap.add_argument("--rounds", type=int, default=2, help="boots per QEMU (default %(default)s)")
    ap.add_argument("--image", default="debian12")
    ap.add_argument("--quick", action="store_true", help="skip (a lab VM takes minutes under TCG)")
    ap.add_argument("--json")
    args = ap.parse_args()
    res = Results("qemu_tcg")
    skip = cannot_run(res, args)
    if skip is not None:
        return skip
    lab_qemu = os.environ.get("VIRTNET_LAB_QEMU") or "qemu-system-x86_64"
    qemus = {"baseline": args.baseline_qemu, "lab": lab_qemu}
    versions = {}
    for label, qemu in qemus.items():
        versions[label] = subprocess.run([qemu, "--version"], capture_output=True, text=True,
                                         check=False).stdout.splitlines()[0]
        print("%s: %s (%s)" % (label, qemu, versions[label]))
    runs = {label: [] for label in qemus}
    for rnd in range(1, args.rounds + 1):
        for label, qemu in qemus.items():
            figures = measure(qemu, "vnfo-bench-qemu-%s" % label, args.image)
            print("round %d, %s: %s" % (rnd, label, ", ".join("%s %.2f s" % kv for kv in figures.items())))
            runs[label].append(figures)
    res.info("baseline QEMU", versions["baseline"])
    res.info("lab QEMU", versions["lab"])
    for metric in runs["lab"][0]:
        base = median([r[metric] for r in runs["baseline"]])
        lab = median([r[metric] for r in runs["lab"]])
        res.info("%s (median s, baseline / lab)" % metric, "%.2f / %.2f" % (base, lab))
        res.info("%s, lab / baseline" % metric, "%.2fx" % (lab / base))
    res.write(args.json)
    return res.exit_code()


if __name__ == "__main__":
    sys.exit(main())
