#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: failover_slave_name
short_description: Check and enforce the names of net_failover slave interfaces
version_added: 1.0.0
description:
  - Compares the names of the standby and primary slaves of every failover group with a naming policy
    (templates such as C({master}nsby) and C({master}npri), or explicit names per master) and renames the
    slaves that differ, through rtnetlink.
  - Groups are found as M(virtnet.failover.failover_info) finds them (master = ethtool driver C(net_failover),
    standby = C(virtio_net) slave with C(phys_port_name) C(sby), primary = the other slave).
  - Every requested name is validated before the first rename; on any problem nothing is renamed.
    Checked are length (at most 15 bytes), empty names, C(.) and C(..), C(/), C(:), whitespace and
    non-printable characters, duplicate targets, targets already used by an interface that is not part of
    the same run, unknown or non-failover masters and templates with unknown placeholders.
  - Swaps and cycles (two slaves exchanging names) go through a temporary name (C(vnfotmpN)).
  - When the kernel refuses to rename an UP slave with EBUSY (rename protection C(slave_rename_ok=0) of the
    patched failover module, or a kernel without live rename), the module undoes the renames it already did
    and fails with the reason and what to do, unless O(down_rename_up) is set.
  - Never creates a network namespace.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: full
    details: Reports the renames that would be done (RV(renames)) and changes nothing.
  diff_mode:
    support: full
    details: Shows the slave names per master before and after.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.failover_netlink  # requirements, platform
  - virtnet.failover.failover_policy  # netns, master_kinds
  - virtnet.failover.failover_policy.naming  # standby_template, primary_template, names
options:
  masters:
    description:
      - Limit the run to these failover masters. Naming a master that does not exist, or that is not
        a failover master of the kinds in O(master_kinds), is an error.
      - Empty means all failover masters.
    type: list
    elements: str
    default: []
  down_rename_up:
    description:
      - When the kernel refuses to rename an UP slave (EBUSY), take the slave down, rename it and bring it
        back up.
      - This interrupts traffic on that slave, so it is off by default.
    type: bool
    default: false
  names:
    description:
      - Explicit policy names per master. They take precedence over the templates for the roles they give.
      - A master listed here that is not a failover master is an error.
notes:
  - From Linux 6.2 every UP interface can be renamed; on 5.1 to 6.1 failover slaves can be renamed while UP
    thanks to C(IFF_LIVE_RENAME_OK); the patched failover module of this collection can forbid it
    (C(slave_rename_ok=0)).
  - Renaming a slave does not touch the master, which carries the IP configuration.
seealso:
  - module: virtnet.failover.failover_info
"""

EXAMPLES = r"""
- name: Name every standby <master>nsby and every primary <master>npri
  virtnet.failover.failover_slave_name:

- name: Only the standby, only for enp1s0, and show what would change
  virtnet.failover.failover_slave_name:
    masters: [enp1s0]
    primary_template: ""
  check_mode: true
  diff: true

- name: Explicit names, allowing a short outage of a slave the kernel will not rename while UP
  virtnet.failover.failover_slave_name:
    names:
      - master: enp1s0
        standby: sby0
        primary: vf0
    down_rename_up: true

- name: Stand-in groups (bridges) in a test namespace
  virtnet.failover.failover_slave_name:
    netns: lab0
    master_kinds: [bridge]
"""

RETURN = r"""
changed:
  description: Whether a slave was (or in check mode would be) renamed.
  returned: always
  type: bool
  sample: true
renames:
  description: The renames done (in check mode, the renames that would be done), without temporary steps.
  returned: always
  type: list
  elements: dict
  contains:
    master: {description: Master name., type: str, sample: enp1s0}
    role: {description: C(standby) or C(primary)., type: str, sample: standby}
    from: {description: Name before., type: str, sample: eth1}
    to: {description: Name after., type: str, sample: enp1s0nsby}
  sample: [{master: enp1s0, role: standby, from: eth1, to: enp1s0nsby}]
bounced:
  description: Slaves that were taken down and up again for the rename (O(down_rename_up)).
  returned: always
  type: list
  elements: str
  sample: []
groups:
  description:
    - The failover groups handled, as RV(virtnet.failover.failover_info#module:groups) returns them;
      after the renames, or as found in check mode.
  returned: always
  type: list
  elements: dict
  sample: [{master: {name: enp1s0, kind: net_failover}, standby: {name: enp1s0nsby, name_ok: true}, names_ok: true}]
problems:
  description: Every validation problem found (the failure message, as a list); nothing was renamed.
  returned: when the requested names or masters are invalid
  type: list
  elements: str
  sample: ["target 'eth0' for standby of enp1s0 is already used by another interface (ifindex 2) ..."]
netns:
  description: The namespace worked in, null for the module's own.
  returned: always
  type: str
  sample: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import common_argument_spec
# enforce checks that pyroute2 is installed before it reads anything; pyroute2 is imported only to rename
from ansible_collections.virtnet.failover.plugins.module_utils.slave_name_enforcement import (
    EnforcementFailed,
    enforce,
)


def main():
    spec = common_argument_spec()
    spec.update(
        masters=dict(type="list", elements="str", default=[]),
        down_rename_up=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        result = enforce(module.params, module.check_mode, module._diff)
    except EnforcementFailed as exc:
        module.fail_json(msg=str(exc), **exc.fields)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
