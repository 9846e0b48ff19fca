# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a bad-input case must never change on the host, as JSON (stdlib only, starts fast).

Used by tests/integration/test_reliability_bad_input.py, once before the cases and once after
EACH case (an ``ansible.builtin.pipe`` lookup inside the same ansible-playbook run, so a change
is pinned on the case that made it)::

    python3 tests/integration/host_snapshot.py NETNS

The snapshot: the links of the test namespace (name, master, ifalias, UP), the names in
/run/netns (several cases are about never creating a namespace), checksums of the files under
/etc/modprobe.d, the /var/lib/dkms tree (4 levels) and /usr/src (1 level), and a writable
kernel parameter one case tries to set.  Entries that other integration tests create and delete
while this suite may run beside them are left out (CONCURRENT, UNIQUE_NETNS).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys

# DKMS trees of the other integration tests (test_dkms_module.py, the kmod compile check).
CONCURRENT = re.compile(r"^(vfo-test-|vnfot-|smoke|vnfo-ci-)")
# Namespaces of the other integration tests and benchmarks: netns_lab.unique_name(), <prefix>-<10 hex>.
UNIQUE_NETNS = re.compile(r"^[a-z0-9]+-[0-9a-f]{10}$")
WRITABLE_PARAM = "/sys/module/printk/parameters/time"


def _sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()


def listing(top, depth):
    """Relative paths under top, depth levels deep, without the CONCURRENT trees."""
    out = []
    if not os.path.isdir(top):
        return out
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        level = 0 if rel == "." else rel.count(os.sep) + 1
        if rel != "." and CONCURRENT.match(rel.split(os.sep, maxsplit=1)[0]):
            dirnames[:] = []
            continue
        for n in dirnames + filenames:
            if level == 0 and CONCURRENT.match(n):
                continue
            out.append(os.path.normpath(os.path.join(rel, n)))
        if level + 1 >= depth:
            dirnames[:] = []
    return sorted(out)


def links(netns):
    proc = subprocess.run(["ip", "-n", netns, "-j", "-d", "link", "show"], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        return "ip -n %s link show failed: %s" % (netns, proc.stderr.strip())
    return sorted([li["ifname"], li.get("master"), li.get("ifalias"), "UP" in li.get("flags", [])]
                  for li in json.loads(proc.stdout))


def snapshot(netns, own_netns=()):
    modprobe = {}
    for dirpath, _dirs, files in os.walk("/etc/modprobe.d"):
        for f in files:
            p = os.path.join(dirpath, f)
            modprobe[p] = _sha(p) if os.path.isfile(p) else "<special>"
    run_netns = sorted(n for n in (os.listdir("/run/netns") if os.path.isdir("/run/netns") else [])
                       if n in own_netns or not UNIQUE_NETNS.match(n))
    param = None
    if os.path.exists(WRITABLE_PARAM):
        with open(WRITABLE_PARAM) as fh:
            param = fh.read()
    return {"links": links(netns), "/run/netns": run_netns, "/etc/modprobe.d": modprobe,
            "/var/lib/dkms": listing("/var/lib/dkms", 4), "/usr/src": listing("/usr/src", 1),
            WRITABLE_PARAM: param}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: host_snapshot.py NETNS")
    print(json.dumps(snapshot(sys.argv[1], own_netns=(sys.argv[1],)), sort_keys=True))
