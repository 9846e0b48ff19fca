# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One enforcement of the naming policy on the failover slaves of a namespace.

Reads the groups, plans the renames (every requested name validated before the first rename), carries them
out in order and reads the groups again. Used by failover_slave_name and by failover_udev_naming
(``enforce: true``), so the role installs its udev rule and names the existing slaves in one call.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import (
    Scan,
    groups_report,
    kernel_module_state,
    policy_from_params,
)
from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import (
    ROLES,
    PolicyError,
    diff_text,
    order_renames,
    plan_renames,
)
from ansible_collections.virtnet.failover.plugins.module_utils.failover_netlink import (
    FailoverError,
    NetlinkError,
    pyroute2_missing_error,
)
from ansible_collections.virtnet.failover.plugins.module_utils.failover_rename import (
    RenameFailed,
    execute,
)


class EnforcementFailed(Exception):
    """Nothing is left renamed; ``fields`` are the result keys to return with the failure."""

    def __init__(self, msg, fields):
        super().__init__(msg)
        self.fields = fields


def names_by_group(groups, plan=None):
    """[(master, {role: name})] with ``plan`` applied."""
    new = {(r.master, r.role): r.new for r in plan or ()}
    out = []
    for group in groups:
        roles = {}
        for role in ROLES:
            link = group.slave(role)
            if link is not None:
                roles[role] = new.get((group.master.name, role), link.name)
        out.append((group.master.name, roles))
    return out


def _plan(scan, policy, masters):
    """(selected groups, rename plan); raises PolicyError with every problem."""
    groups = scan.groups
    all_masters = [g.master.name for g in groups]
    problems = [scan.describe_master(m) for m in masters if m not in all_masters]
    if masters:
        groups = [g for g in groups if g.master.name in masters]
    selected = [g.master.name for g in groups]
    plan = []
    try:
        plan = plan_renames([scan.group_slaves(g) for g in groups], scan.names_in_use(), policy,
                            other_masters=[m for m in all_masters if m not in selected])
    except PolicyError as exc:
        problems.extend(exc.problems)
    if problems:
        raise PolicyError(problems)
    return groups, plan


def enforce(params, check_mode=False, diff=False):
    """The result of one run: changed, renames, bounced, groups, netns (and diff when asked).

    ``params`` holds netns, master_kinds, masters, down_rename_up and the policy options. Raises
    EnforcementFailed (nothing renamed, or every rename undone) with the message and the result keys."""
    result = dict(changed=False, renames=[], bounced=[], groups=[], netns=params.get("netns"))
    missing = pyroute2_missing_error()  # checked before anything is read; imported only to rename
    if missing is not None:
        raise EnforcementFailed(missing_required_lib("pyroute2"), dict(result, exception=missing))
    try:
        policy = policy_from_params(params)
        scan = Scan(params.get("netns"), params["master_kinds"], keep_socket=True)
    except (PolicyError, FailoverError) as exc:
        raise EnforcementFailed(str(exc), result) from exc
    try:
        try:
            groups, plan = _plan(scan, policy, params.get("masters") or [])
        except PolicyError as exc:
            raise EnforcementFailed("nothing renamed: " + str(exc), dict(result, problems=exc.problems)) from exc
        selected = [g.master.name for g in groups]
        result["renames"] = [r.as_dict() for r in plan]
        result["changed"] = bool(plan)
        if diff:
            result["diff"] = dict(before=diff_text(names_by_group(groups)),
                                  after=diff_text(names_by_group(groups, plan)))
        if plan and not check_mode:
            info = {r.index: (r.master, r.role) for r in plan}
            try:
                done = execute(scan.sock, order_renames(plan, scan.names_in_use()), info,
                               params.get("down_rename_up", False), kernel_module_state(), error_class=NetlinkError)
            except RenameFailed as exc:
                raise EnforcementFailed(str(exc), dict(result, renames=[], changed=False)) from exc
            bounced = {index for index, _old, _new, was_bounced in done if was_bounced}
            result["bounced"] = sorted({r.new for r in plan if r.index in bounced})
            scan.refresh()
        result["groups"] = [g for g in groups_report(scan, policy) if g["master"]["name"] in selected]
        return result
    finally:
        scan.close()
