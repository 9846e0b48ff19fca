# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""udev PROGRAM of virtnet.failover.slave_names: print the policy name of failover slave argv[1].

The naming code is not here: the role installs the collection's own
failover_naming.py (roles of the slaves, templates, explicit names, interface
name rules) and ethtool_drvinfo.py in the directory virtnet-failover/ next to
this file, with the policy as data in policy.json there.  This file only reads
sysfs and hands what it saw to that code.

Exit 1 (udev then leaves the name alone) when the device is not a slave of a
net_failover master, the policy gives its role no name, or the policy data
cannot be used.  Standard library only.
"""
import json
import os
import sys
import time

LIB = os.path.join(os.path.dirname(os.path.realpath(__file__)), "virtnet-failover")
NET = "/sys/class/net"


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


class SysfsLink:
    """The attributes failover_naming.slave_roles() looks at, read from sysfs."""

    def __init__(self, net, name):
        self.name = name
        index = read(os.path.join(net, name, "ifindex"))
        self.index = int(index) if index and index.isdigit() else 0
        self.phys_port_name = read(os.path.join(net, name, "phys_port_name")) or None
        self.alias = read(os.path.join(net, name, "ifalias")) or None


def slaves_of(net, master):
    try:
        entries = os.listdir(os.path.join(net, master))
    except OSError:
        return []
    return [SysfsLink(net, e[len("lower_"):]) for e in sorted(entries) if e.startswith("lower_")]


def master_of(net, dev, wait):
    """The master of ``dev`` once it has its own name (at boot it may still
    carry its kernel name, name_assign_type 1, for up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            master = os.path.basename(os.readlink(os.path.join(net, dev, "master")))
        except OSError:
            return None
        if read(os.path.join(net, master, "name_assign_type")) != "1" or time.monotonic() >= deadline:
            return master
        time.sleep(0.05)


def policy_name(dev, net, lib, ethtool=None):
    """The policy name of slave ``dev``, or None."""
    if lib not in sys.path:
        sys.path.insert(0, lib)
    import failover_naming  # the collection's plugins/module_utils/failover_naming.py
    from ethtool_drvinfo import Ethtool  # the collection's plugins/module_utils/ethtool_drvinfo.py

    try:
        with open(os.path.join(lib, "policy.json")) as f:
            data = json.load(f)
        policy = failover_naming.Policy(data["standby_template"], data["primary_template"], data["names"])
    except (OSError, ValueError, KeyError, TypeError, failover_naming.PolicyError):
        return None
    master = master_of(net, dev, float(data.get("master_wait", 0)))
    if master is None:
        return None
    ethtool = ethtool or Ethtool()
    if ethtool.driver(master) != "net_failover":
        return None
    slaves = slaves_of(net, master)
    drivers = {lk.index: ethtool.driver(lk.name) for lk in slaves}
    standby, primary, _others = failover_naming.slave_roles(slaves, drivers)
    role = "standby" if standby and standby.name == dev else "primary" if primary and primary.name == dev else None
    if role is None:
        return None
    index = read(os.path.join(net, master, "ifindex")) or ""
    name, _problem = policy.expected(master, int(index) if index.isdigit() else index, role)
    return name


def main(argv):
    if len(argv) != 2:
        return 2
    name = policy_name(argv[1], NET, LIB)
    if not name:
        return 1
    print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
