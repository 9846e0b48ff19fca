# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What failover_info and failover_slave_name share: options (also failover_drift's), scan, report.

The options are documented once, in doc_fragments/failover_policy.py."""

from __future__ import annotations

from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import (
    ROLES,
    Policy,
    policy_argument_spec,
)
from ansible_collections.virtnet.failover.plugins.module_utils.ethtool_drvinfo import Ethtool
from ansible_collections.virtnet.failover.plugins.module_utils.failover_netlink import (
    MASTER_KINDS,
    LinkSocket,
    enter_netns,
    find_groups,
    kernel_module_state,
    pci_address,
)


def common_argument_spec():
    return dict(
        netns=dict(type="str"),
        master_kinds=dict(type="list", elements="str", default=["net_failover"], choices=list(MASTER_KINDS)),
        **policy_argument_spec()
    )


def policy_from_params(params):
    return Policy(params["standby_template"], params["primary_template"], params["names"])


class Scan:
    """One look at the links of a namespace (the current one, or ``netns``)."""

    def __init__(self, netns=None, master_kinds=("net_failover",), keep_socket=False):
        self.netns = netns
        self.master_kinds = tuple(master_kinds)
        if netns is not None:  # "" is refused by enter_netns, never read as "this namespace"
            enter_netns(netns)
        self.sock = LinkSocket()
        self.ethtool = Ethtool()
        self.refresh()
        if not keep_socket:
            self.close()

    def refresh(self):
        self.links = self.sock.dump_links()
        self.by_name = {lk.name: lk for lk in self.links}
        self.groups = find_groups(self.links, self.ethtool, self.master_kinds)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.ethtool.close()
            self.sock = None

    def names_in_use(self):
        used = {}
        for link in self.links:
            for alt in link.altnames:
                used[alt] = (link.index, True)
        for link in self.links:
            used[link.name] = (link.index, False)
        return used

    def link_names(self):
        return sorted(lk.name for lk in self.links)

    def group_slaves(self, group):
        """(master name, master index, {role: (ifindex, name)}) for plan_renames."""
        slaves = {}
        for role in ROLES:
            link = group.slave(role)
            if link is not None:
                slaves[role] = (link.index, link.name)
        return group.master.name, group.master.index, slaves

    def describe_master(self, name):
        """Why ``name`` is not a usable master (for error messages)."""
        link = self.by_name.get(name)
        if link is None:
            return "there is no interface %r%s" % (name, " in network namespace %r" % self.netns if self.netns else "")
        nslaves = sum(1 for lk in self.links if lk.master == link.index)
        driver = self.ethtool.driver(name) if self.sock is not None else None
        what = "rtnl kind %s" % link.kind if link.kind else "driver %s" % (driver or "unknown")
        return ("interface %r (%s, %d slave%s) is not a failover master of the kinds %s; "
                "give a master whose ethtool driver is net_failover, or add its kind to master_kinds"
                % (name, what, nslaves, "" if nslaves == 1 else "s", list(self.master_kinds)))


def slave_dict(group, role, policy, in_netns=False):
    link = group.slave(role)
    if link is None:
        return None
    bus = group.bus_info.get(link.index)
    out = {
        "name": link.name,
        "ifindex": link.index,
        "role": role,
        "mac": link.mac,
        "driver": group.drivers.get(link.index),
        "bus_info": bus,
        "pci_address": pci_address(link.name, bus, in_netns),
        "phys_port_name": link.phys_port_name,
        "alias": link.alias,
        "operstate": link.operstate_name,
        "up": link.up,
        "expected_name": None,
        "name_ok": None,
        "policy_problem": None,
    }
    if policy is not None:
        want, problem = policy.expected(group.master.name, group.master.index, role)
        out["expected_name"] = want
        out["policy_problem"] = problem
        out["name_ok"] = None if (want is None and problem is None) else (want == link.name)
    return out


def group_dict(group, policy, in_netns=False):
    master = group.master
    standby = slave_dict(group, "standby", policy, in_netns)
    primary = slave_dict(group, "primary", policy, in_netns)
    checked = [s["name_ok"] for s in (standby, primary) if s is not None and s["name_ok"] is not None]
    return {
        "master": {
            "name": master.name,
            "ifindex": master.index,
            "kind": group.kind,
            "mac": master.mac,
            "operstate": master.operstate_name,
            "up": master.up,
        },
        "standby": standby,
        "primary": primary,
        "other_slaves": [lk.name for lk in group.others],
        "names_ok": all(checked),
    }


def groups_report(scan, policy):
    return [group_dict(g, policy, in_netns=bool(scan.netns)) for g in scan.groups]


__all__ = ["common_argument_spec", "policy_from_params", "Scan", "groups_report", "kernel_module_state"]
