# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a host's failover groups are healthy.

``groups`` is the ``groups`` list that failover_info and failover_drift
return. A group is healthy when its master is UP, it has a standby and a
primary slave, and the slaves are named per policy. A host is healthy when
every group is, and (``require_group``) it has at least one group.
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


def groups_healthy(groups, require_group=True):
    return not group_problems(groups, require_group)
