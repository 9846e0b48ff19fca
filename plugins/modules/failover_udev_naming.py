#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: failover_udev_naming
short_description: Install (or remove) the udev rule and helper that name hot-plugged failover slaves
version_added: 1.0.0
description:
  - In one call, brings the udev rule, its helper program, the collection's naming code next to the helper and
    the naming policy (as data, C(policy.json)) to the wanted state, so that udev names a failover slave by
    policy the moment it appears (a VF plugged in after a live migration).
  - The policy is checked with the same code as M(virtnet.failover.failover_naming_policy) and
    M(virtnet.failover.failover_slave_name); a bad policy or rules file name fails before anything is written.
  - Each changed file is written to a temporary file in its directory and renamed over the old one, so udev
    never runs a half-written helper. Files are root-owned; directories 0755, the helper 0755, the rest 0644.
  - RV(udev_reload) tells whether udev must re-read its rules (the rules file changed); the helper and its data
    are read at each event. With O(reload_udev), the module runs C(udevadm control --reload) itself then.
  - With O(enforce), the same call then names the existing failover slaves by the policy, exactly as
    M(virtnet.failover.failover_slave_name) does (same code, same checks, same undo on failure), and returns
    its RV(renames), RV(bounced) and RV(groups). The files are written and udev reloaded first, so a slave
    that appears during the renames is named by the new rule.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: full
    details: Reports what would change and writes nothing.
  diff_mode:
    support: full
    details: Shows the old and new text of each changed file.
  platform:
    support: full
    platforms: linux
    details: Linux with udev.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.failover_policy  # netns, master_kinds (used by O(enforce) only)
  - virtnet.failover.failover_policy.naming  # standby_template, primary_template, names
options:
  state:
    description: V(present) installs, V(absent) removes the rule, the helper and its directory of data.
    type: str
    choices: [present, absent]
    default: present
  rules_file:
    description: The udev rule; its name must sort after C(80-net-setup-link.rules) (C(81-*.rules) to C(99-*.rules)).
    type: path
    default: /etc/udev/rules.d/81-virtnet-failover-slave-names.rules
  helper_path:
    description: The helper program; its naming code and policy go to C(virtnet-failover/) next to it.
    type: path
    default: /usr/local/libexec/virtnet-failover-slave-name
  helper:
    description: Text of the helper program (O(state=present)); the role passes its C(files/slave-name.py).
    type: str
  naming_code:
    description:
      - The collection's C(failover_naming.py) and C(ethtool_drvinfo.py) (file name -> text), which the helper
        imports (O(state=present)).
    type: dict
  master_wait:
    description: Seconds the helper waits, at boot, for the master to get its own predictable name.
    type: float
    default: 3
  reload_udev:
    description:
      - Run C(udevadm control --reload) when the rules file changed (RV(udev_reload)), so the next hot-plug uses
        the rule. Never in check mode.
      - A missing C(udevadm) or a failed reload fails the module, after the files were written.
    type: bool
    default: false
  enforce:
    description:
      - Also rename the existing failover slaves whose names differ from the policy (O(state=present) only),
        in O(netns) (default the module's own namespace), for the masters of O(master_kinds).
      - O(netns) and O(master_kinds) concern only this renaming; the udev rule and helper are host files.
      - Needs pyroute2 on the host (checked before anything is read; it is imported only to rename a slave).
    type: bool
    default: false
  down_rename_up:
    description:
      - With O(enforce), when the kernel refuses to rename an UP slave (EBUSY), take the slave down, rename it
        and bring it back up. This interrupts traffic on that slave, so it is off by default.
    type: bool
    default: false
notes:
  - Without O(enforce) the module does not need pyroute2.
seealso:
  - module: virtnet.failover.failover_naming_policy
  - module: virtnet.failover.failover_slave_name
"""

EXAMPLES = r"""
- name: Install the rule and helper
  virtnet.failover.failover_udev_naming:
    helper: "{{ lookup('ansible.builtin.file', 'slave-name.py', rstrip=False) }}"
    naming_code:
      failover_naming.py: "{{ lookup('ansible.builtin.file', naming_dir ~ '/failover_naming.py', rstrip=False) }}"
      ethtool_drvinfo.py: "{{ lookup('ansible.builtin.file', naming_dir ~ '/ethtool_drvinfo.py', rstrip=False) }}"
    standby_template: "{master}sby"
  notify: Reload udev

- name: Install the rule, reload udev and name the existing slaves, in one call
  virtnet.failover.failover_udev_naming:
    helper: "{{ lookup('ansible.builtin.file', 'slave-name.py', rstrip=False) }}"
    naming_code:
      failover_naming.py: "{{ lookup('ansible.builtin.file', naming_dir ~ '/failover_naming.py', rstrip=False) }}"
      ethtool_drvinfo.py: "{{ lookup('ansible.builtin.file', naming_dir ~ '/ethtool_drvinfo.py', rstrip=False) }}"
    reload_udev: true
    enforce: true
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode), in order; each path, kind, action and why.
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/udev/rules.d/81-virtnet-failover-slave-names.rules, kind: file, action: write, why: content}]
udev_reload:
  description: The rules file changed, so udev must re-read its rules.
  returned: always
  type: bool
udev_reloaded:
  description: C(udevadm control --reload) was run (O(reload_udev) and the rules file changed, not in check mode).
  returned: always
  type: bool
policy:
  description: The validated policy (O(state=present)).
  returned: when O(state=present)
  type: dict
renames:
  description: The renames done (or that would be done in check mode), as M(virtnet.failover.failover_slave_name)
    returns them.
  returned: when O(enforce)
  type: list
  elements: dict
bounced:
  description: Slaves taken down for their rename (O(down_rename_up)).
  returned: when O(enforce)
  type: list
  elements: str
groups:
  description: The failover groups after the renames, as M(virtnet.failover.failover_slave_name) returns them.
  returned: when O(enforce)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils import managed_files, udev_naming
from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import common_argument_spec
from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import Policy, PolicyError


def reload_udev(module):
    udevadm = module.get_bin_path("udevadm")
    if udevadm is None:
        return "the rules file changed but udevadm is not installed: install udev, then run udevadm control --reload"
    rc, _out, err = module.run_command([udevadm, "control", "--reload"])
    if rc != 0:
        return "udevadm control --reload failed (rc %d): %s; run it by hand and check the rules file" % (rc, err.strip())
    return None


def name_existing_slaves(module, result):
    """Enforce the policy on the existing slaves (failover_slave_name's code); fails the module on a problem."""
    # imported only here: without enforce the module needs neither pyroute2 nor the netlink code
    from ansible_collections.virtnet.failover.plugins.module_utils.slave_name_enforcement import (
        EnforcementFailed,
        enforce,
    )

    try:
        names = enforce(dict(module.params, masters=[]), module.check_mode, module._diff)
    except EnforcementFailed as exc:
        failed = dict(exc.fields, **result)  # the files' change stands; the renames were undone
        module.fail_json(msg="the udev rule is in place, but the existing slaves were not renamed: %s" % exc,
                         **failed)
    names_diff = names.pop("diff", None)
    renamed = names.pop("changed")
    result.update(names, changed=result["changed"] or renamed)
    if names_diff is not None:
        result["diff"].append(dict(names_diff, before_header="failover slave names", after_header="failover slave names"))


def main():
    spec = common_argument_spec()
    spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        rules_file=dict(type='path', default='/etc/udev/rules.d/81-virtnet-failover-slave-names.rules'),
        helper_path=dict(type='path', default='/usr/local/libexec/virtnet-failover-slave-name'),
        helper=dict(type='str'),
        naming_code=dict(type='dict'),
        master_wait=dict(type='float', default=3),
        reload_udev=dict(type='bool', default=False),
        enforce=dict(type='bool', default=False),
        down_rename_up=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if p['enforce'] and p['state'] == 'absent':
        module.fail_json(msg="enforce: true needs state: present (removing the rule leaves the names as they are)")
    policy = None
    try:
        if p['state'] == 'present':
            try:
                checked = Policy(p['standby_template'], p['primary_template'], p['names'])
                if checked.name_problems():
                    raise PolicyError(checked.name_problems())
                policy = checked.as_dict()
            except PolicyError as exc:
                module.fail_json(msg="invalid naming policy: %s" % exc, problems=exc.problems)
        wanted = udev_naming.entries(p['state'], p['rules_file'], p['helper_path'], p['helper'], p['naming_code'],
                                     policy, p['master_wait'])
        changes = managed_files.plan(wanted)
        if changes and not module.check_mode:
            managed_files.apply(wanted, changes)
    except (managed_files.ManagedFilesError, OSError) as exc:
        module.fail_json(msg=str(exc))
    needs_reload = udev_naming.udev_reload_needed(changes, p['rules_file'])
    result = dict(changed=bool(changes), changes=[dict((k, c[k]) for k in ('path', 'kind', 'action', 'why'))
                                                  for c in changes],
                  udev_reload=needs_reload, udev_reloaded=False)
    if policy is not None:
        result['policy'] = policy
    if module._diff:
        result['diff'] = managed_files.diff(wanted, changes)
    if p['reload_udev'] and needs_reload and not module.check_mode:
        problem = reload_udev(module)
        if problem:
            module.fail_json(msg=problem, **result)
        result['udev_reloaded'] = True
    if p['enforce']:
        name_existing_slaves(module, result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
