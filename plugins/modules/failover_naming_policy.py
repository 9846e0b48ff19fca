#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: failover_naming_policy
short_description: Validate a failover slave naming policy and return it normalized (read-only)
version_added: 1.0.0
description:
  - Checks the naming policy that M(virtnet.failover.failover_slave_name), M(virtnet.failover.failover_drift) and
    the udev helper of the C(virtnet.failover.slave_names) role apply, with the same code, and fails with every
    problem when it is not valid (unknown placeholders, unbalanced braces, explicit names that cannot be interface
    names (more than 15 bytes, C(/), whitespace, C(:), C(.) or C(..), the same name for both slaves), entries of O(names) without a
    master or listed twice).
  - Returns the policy normalized (RV(policy)); the C(slave_names) role hands it to its udev helper as data.
  - Reads nothing from the host and never changes anything.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    details: Nothing to show in diff mode.
  platform:
    support: full
    details: Pure Python, any target.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.failover_policy.naming  # standby_template, primary_template, names
seealso:
  - module: virtnet.failover.failover_slave_name
"""

EXAMPLES = r"""
- name: Refuse a bad policy before anything is installed
  virtnet.failover.failover_naming_policy:
    standby_template: "{master}sby"
    primary_template: "{{ '{{' }}vf{{ '}}' }}{master_index}"
  register: naming
"""

RETURN = r"""
changed:
  description: Always false.
  returned: always
  type: bool
  sample: false
policy:
  description: The validated policy; an empty template is returned as an empty string.
  returned: success
  type: dict
  sample: {standby_template: "{master}nsby", primary_template: "{master}npri",
           names: [{master: enp1s0, standby: sby0, primary: vf0}]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import (
    Policy,
    PolicyError,
    policy_argument_spec,
)


def main():
    module = AnsibleModule(
        argument_spec=policy_argument_spec(),
        supports_check_mode=True,
    )
    p = module.params
    try:
        policy = Policy(p["standby_template"], p["primary_template"], p["names"])
        if policy.name_problems():
            raise PolicyError(policy.name_problems())
    except PolicyError as exc:
        module.fail_json(msg="invalid naming policy: %s" % exc, problems=exc.problems, changed=False)
    module.exit_json(changed=False, policy=policy.as_dict())


if __name__ == "__main__":
    main()
