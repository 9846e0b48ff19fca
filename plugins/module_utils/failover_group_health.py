# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a host's failover groups and its failover module are healthy.

The only definition of the health verdict: the rollout's fast path and its
health check (through failover_drift and failover_info) and the fleet
reports (fleet_report, failover_host_prometheus) all call it.

``groups`` is the ``groups`` list that failover_info and failover_drift
return. A group is healthy when its master is UP, it has a standby and a
primary slave, and the slaves are named per policy. A host's groups are
healthy when every group is, and (``require_group``) there is at least one.

``kernel_module`` is the ``kernel_module`` dict of failover_info (or the
``loaded_module`` dict of failover_drift). The module is healthy when the
patched module is loaded with the wanted ``slave_rename_ok``; it is not
judged when no value is wanted (None) or a reboot is pending (the module
changes at the next boot).
"""

from __future__ import annotations


def group_problems(groups, require_group=True):
    """One sentence per problem, in the order of ``groups``; empty when healthy."""
    problems = []
    groups = groups or []
    if require_group and not groups:
        problems.append("no failover group (no net_failover master) on this host")
    for group in groups:
        master = (group.get("master") or {}).get("name") or "?"
        if not (group.get("master") or {}).get("up"):
            problems.append("master %s is not UP" % master)
        for role in ("standby", "primary"):
            if group.get(role) is None:
                problems.append("master %s has no %s slave" % (master, role))
        if not group.get("names_ok"):
            problems.append("slaves of %s are not named per policy" % master)
    return problems


def module_problems(kernel_module, slave_rename_ok=None, reboot_pending=False):
    """One sentence per problem of the loaded failover module; empty when healthy or not judged."""
    if slave_rename_ok is None or reboot_pending:
        return []
    kernel_module = kernel_module or {}
    if not kernel_module.get("patched"):
        return ["the loaded failover module is not the patched one"]
    if kernel_module.get("slave_rename_ok") != slave_rename_ok:
        return ["slave_rename_ok is %s, wanted %s" % (kernel_module.get("slave_rename_ok"), slave_rename_ok)]
    return []


def health(groups, kernel_module=None, require_group=True, slave_rename_ok=None, reboot_pending=False):
    """The ``health`` return value of failover_info and failover_drift: ``{ok, problems}``."""
    problems = group_problems(groups, require_group) + module_problems(kernel_module, slave_rename_ok, reboot_pending)
    return {"ok": not problems, "problems": problems}
