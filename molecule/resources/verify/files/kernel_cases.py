# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest side of the lab's kernel cases (molecule/resources/verify/kernel_cases.yml).

    kernel_cases.py existing_slave
        Unbind the standby's virtio device from virtio_net and bind it again
        while the primary stays UP: net_failover destroys the master, then
        creates a new one, and failover_register() enslaves the primary that
        already exists (failover_existing_slave_register), not from a
        NETDEV_REGISTER event.  The management NIC is another virtio device and
        stays up.
    kernel_cases.py veto_order KO
        Load the test-only module KO (tests/kmod/veto_after), which refuses the
        name vnfveto0 with EXDEV at notifier priority 100, above the failover
        module's own notifier, and try renames of the UP standby with
        slave_rename_ok=0 and =1.
    kernel_cases.py state
        The failover pair, the module's parameters and its kernel log lines.

Each prints one JSON object; the playbook asserts on it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

NET = "/sys/class/net"
PARAMS = "/sys/module/failover/parameters/"
VIRTIO_NET = "/sys/bus/virtio/drivers/virtio_net/"
VETO_NAME = "vnfveto0"


def read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return ""


def write(path: str, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def link(name: str) -> dict:
    d = os.path.join(NET, name)
    master = os.path.join(d, "master")
    return {
        "name": name,
        "ifindex": int(read(os.path.join(d, "ifindex")) or 0),
        "up": bool(int(read(os.path.join(d, "flags")) or "0", 16) & 1),
        "master": os.path.basename(os.path.realpath(master)) if os.path.exists(master) else "",
        "phys_port_name": read(os.path.join(d, "phys_port_name")),
        "mac": read(os.path.join(d, "address")),
        "device": os.path.basename(os.path.realpath(os.path.join(d, "device"))) if os.path.exists(os.path.join(d, "device")) else "",
    }


def pair() -> dict:
    """The failover pair: the standby (phys_port_name sby), its master, the other slave."""
    links = {n: link(n) for n in sorted(os.listdir(NET))}
    standby = [n for n, x in links.items() if x["phys_port_name"] == "sby" and x["master"]]
    if len(standby) != 1:
        return {"ok": False, "standby": standby, "links": links}
    master = links[standby[0]]["master"]
    slaves = [n for n, x in links.items() if x["master"] == master]
    primary = [n for n in slaves if n != standby[0]]
    out = {"master": links[master], "standby": links[standby[0]], "primary": links[primary[0]] if len(primary) == 1 else None}
    out["ok"] = bool(out["primary"]) and out["master"]["up"] and len(slaves) == 2
    return out


def wait_pair(timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        subprocess.run(["udevadm", "settle", "-t", "30"], check=False)
        p = pair()
        if p.get("ok") or time.monotonic() > deadline:
            return p
        time.sleep(1)


def kernel_log(since: float) -> list[str]:
    out = subprocess.run(["journalctl", "-k", "-o", "cat", "--no-pager", "--since", "@%d" % since],
                         capture_output=True, text=True, check=False).stdout
    return [line for line in out.splitlines()
            if any(k in line for k in ("failover", "vnf_veto_after", "rollback", "WARNING:", "BUG:", "Call Trace"))]


def rename(old: str, new: str) -> dict:
    r = subprocess.run(["ip", "link", "set", "dev", old, "name", new], capture_output=True, text=True, check=False)
    return {"from": old, "to": new, "rc": r.returncode, "stderr": r.stderr.strip(),
            "old_exists": os.path.exists(os.path.join(NET, old)), "new_exists": os.path.exists(os.path.join(NET, new))}


def existing_slave() -> dict:
    before = wait_pair()
    if not before.get("ok"):
        return {"error": "no healthy failover pair to start from", "before": before}
    since = time.time() - 1
    vdev = before["standby"]["device"]
    write(VIRTIO_NET + "unbind", vdev)
    subprocess.run(["udevadm", "settle", "-t", "30"], check=False)
    unbound = {"primary": link(before["primary"]["name"]), "masters_left": pair().get("standby", [])}
    write(VIRTIO_NET + "bind", vdev)
    after = wait_pair()
    return {"before": before, "unbound": unbound, "after": after, "virtio_device": vdev, "log": kernel_log(since)}


def veto_order(ko: str) -> dict:
    start = wait_pair()
    if not start.get("ok"):
        return {"error": "no healthy failover pair to start from", "start": start}
    initial = read(PARAMS + "slave_rename_ok")
    sby = start["standby"]["name"]
    since = time.time() - 1
    ins = subprocess.run(["insmod", ko, "name=" + VETO_NAME, "priority=100"], capture_output=True, text=True, check=False)
    if ins.returncode:
        return {"error": "insmod failed: " + ins.stderr.strip()}
    steps = {}
    try:
        write(PARAMS + "slave_rename_ok", "0")
        steps["refused_by_failover"] = rename(sby, VETO_NAME)
        steps["refused_again"] = rename(sby, "vnfother0")
        steps["vetoes_after_0"] = int(read("/sys/module/vnf_veto_after/parameters/vetoes"))
        write(PARAMS + "slave_rename_ok", "1")
        steps["refused_by_later_notifier"] = rename(sby, VETO_NAME)
        steps["vetoes_after_1"] = int(read("/sys/module/vnf_veto_after/parameters/vetoes"))
        steps["renamed"] = rename(sby, "vnfok0")
        if steps["renamed"]["rc"] == 0:
            subprocess.run(["udevadm", "settle", "-t", "30"], check=False)
            subprocess.run(["ip", "link", "property", "del", "dev", "vnfok0", "altname", sby], capture_output=True, check=False)
            steps["renamed_back"] = rename("vnfok0", sby)
    finally:
        write(PARAMS + "slave_rename_ok", "1" if initial == "Y" else "0")
        steps["rmmod_rc"] = subprocess.run(["rmmod", "vnf_veto_after"], check=False).returncode
    return {"steps": steps, "end": wait_pair(), "log": kernel_log(since), "slave_rename_ok": read(PARAMS + "slave_rename_ok")}


def state() -> dict:
    return {"pair": wait_pair(), "slave_rename_ok": read(PARAMS + "slave_rename_ok"),
            "live_rename": read(PARAMS + "live_rename"), "version": read("/sys/module/failover/version"),
            "log": kernel_log(0)}


def main() -> int:
    case = sys.argv[1] if len(sys.argv) > 1 else ""
    if case == "existing_slave":
        out = existing_slave()
    elif case == "veto_order" and len(sys.argv) == 3:
        out = veto_order(sys.argv[2])
    elif case == "state":
        out = state()
    else:
        print("usage: kernel_cases.py existing_slave | veto_order KO | state", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
