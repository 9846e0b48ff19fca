#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: failover_info
short_description: Report net_failover groups, their slave names and the failover kernel module
version_added: 1.0.0
description:
  - Reads every failover group of a host (or of a named network namespace) with one rtnetlink link dump
    and the ethtool driver names of the masters and slaves only.
  - A failover master is a link whose ethtool driver is C(net_failover) (it has no rtnl link kind).
    Its slaves are the links whose C(IFLA_MASTER) points at it. The standby slave is the one with
    C(phys_port_name) C(sby) (driver C(virtio_net)); the primary is the other slave (a PCI device such as a VF).
  - With O(master_kinds) other masters (Linux bridge, bonding, team) count as stand-ins, which lets the
    collection be tested without a virtio failover pair. Their standby is the slave with
    C(phys_port_name) C(sby), else the one with driver C(virtio_net), else the one whose interface alias
    (C(ip link set DEV alias standby)) is C(sby) or C(standby); their primary is the slave aliased C(pri)
    or C(primary), else the lowest-ifindex remaining slave; further slaves are listed in RV(groups[].other_slaves).
  - For each slave it tells whether the name follows the naming policy given by O(standby_template),
    O(primary_template) and O(names), the same options that M(virtnet.failover.failover_slave_name) enforces.
  - Also reports the state of the host's C(failover) kernel module from C(/sys/module/failover)
    (in-tree or the patched module with the C(slave_rename_ok) parameter).
  - RV(health) is the verdict on the failover groups (and, with O(slave_rename_ok), on the module) that the
    C(virtnet.failover.rollout) playbook asserts after it rolled a host out.
  - Read-only; never creates a network namespace.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: full
    details: The module never changes anything, so it runs normally in check mode.
  diff_mode:
    support: none
    details: Nothing changes, so there is no diff.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.failover_netlink  # requirements, platform
  - virtnet.failover.failover_policy  # netns, master_kinds
  - virtnet.failover.failover_policy.naming  # standby_template, primary_template, names
options:
  require_group:
    description:
      - A host without any failover group is not healthy (RV(health)). Set to false for hosts that may
        have none.
    type: bool
    default: true
  slave_rename_ok:
    description:
      - Wanted value of the patched module's C(slave_rename_ok) parameter. When set, RV(health) also
        requires the patched module to be loaded with this value. Null (the default) leaves the module
        out of RV(health).
    type: bool
  reboot_pending:
    description:
      - A reboot that activates the module is pending, so the loaded module is left out of RV(health)
        even with O(slave_rename_ok).
    type: bool
    default: false
notes:
  - The link dump asks the kernel to skip statistics (C(IFLA_EXT_MASK)) and decodes only the attributes it needs,
    so it stays fast on hosts with thousands of links.
  - C(pci_address) comes from the ethtool bus info, or from the sysfs C(device) link when the module runs in the
    host namespace.
seealso:
  - module: virtnet.failover.failover_slave_name
"""

EXAMPLES = r"""
- name: Report the failover groups of this host
  virtnet.failover.failover_info:
  register: failover

- name: Show slaves whose names differ from the policy
  ansible.builtin.debug:
    msg: "{{ failover.groups | rejectattr('names_ok') | map(attribute='master.name') | list }}"

- name: Inspect a network namespace where Linux bridges stand in for failover masters
  virtnet.failover.failover_info:
    netns: lab0
    master_kinds: [bridge]
    standby_template: "{master}s"
    primary_template: "{master}p"

- name: Fail unless the groups are healthy and the patched module runs with slave_rename_ok=true
  virtnet.failover.failover_info:
    slave_rename_ok: true
  register: failover_health
  failed_when: not failover_health.health.ok

- name: Check explicit names for one master
  virtnet.failover.failover_info:
    names:
      - master: enp1s0
        standby: enp1s0nsby
        primary: enp1s0npri
"""

RETURN = r"""
groups:
  description: One entry per failover group, sorted by master ifindex.
  returned: always
  type: list
  elements: dict
  contains:
    master:
      description: The master link.
      type: dict
      contains:
        name: {description: Interface name., type: str, sample: enp1s0}
        ifindex: {description: Interface index., type: int, sample: 2}
        kind: {description: "Master kind (one of O(master_kinds))", type: str, sample: net_failover}
        mac: {description: MAC address., type: str, sample: "52:54:00:12:34:56"}
        operstate: {description: "RFC 2863 operational state (UP, DOWN, LOWERLAYERDOWN, ...).", type: str, sample: UP}
        up: {description: Administratively up (IFF_UP)., type: bool, sample: true}
    standby:
      description: The standby slave, or null when the group has none.
      type: dict
      contains:
        name: {description: Interface name., type: str, sample: enp1s0nsby}
        ifindex: {description: Interface index., type: int, sample: 3}
        role: {description: C(standby)., type: str, sample: standby}
        mac: {description: MAC address., type: str, sample: "52:54:00:12:34:56"}
        driver: {description: "ethtool driver name, null if unknown.", type: str, sample: virtio_net}
        bus_info: {description: ethtool bus info., type: str, sample: "0000:01:00.0"}
        pci_address: {description: PCI address where known., type: str, sample: "0000:01:00.0"}
        phys_port_name: {description: IFLA_PHYS_PORT_NAME., type: str, sample: sby}
        alias: {description: Interface alias (ifalias)., type: str, sample: null}
        operstate: {description: Operational state., type: str, sample: UP}
        up: {description: Administratively up., type: bool, sample: true}
        expected_name: {description: "Name the policy wants, null when the role is unmanaged or the name is invalid.", type: str, sample: enp1s0nsby}
        name_ok: {description: Whether the name follows the policy (null when unmanaged)., type: bool, sample: true}
        policy_problem: {description: Why the policy yields no valid name for this slave (for example too long)., type: str, sample: null}
    primary:
      description: The primary slave, with the same keys as RV(groups[].standby).
      type: dict
      sample: {name: enp2s0, driver: e1000e, pci_address: "0000:02:00.0", name_ok: false, expected_name: enp1s0npri}
    other_slaves:
      description: Names of further slaves (stand-in masters only).
      type: list
      elements: str
      sample: []
    names_ok:
      description: True when every managed slave of the group follows the policy.
      type: bool
      sample: false
kernel_module:
  description: State of the host's C(failover) kernel module (global, also when O(netns) is set).
  returned: always
  type: dict
  contains:
    loaded: {description: Loaded or built in., type: bool, sample: true}
    builtin: {description: Built into the kernel (cannot be replaced by DKMS)., type: bool, sample: false}
    patched: {description: "The patched module is active (C(/sys/module/failover/parameters/slave_rename_ok) exists).", type: bool, sample: true}
    version: {description: Module version (set only by the patched module)., type: str, sample: "1.0.0"}
    srcversion: {description: Module srcversion., type: str, sample: "A1B2C3D4E5F6A7B8C9D0E1F"}
    slave_rename_ok: {description: "Value of the slave_rename_ok parameter, null if absent.", type: bool, sample: true}
    live_rename: {description: "Mechanism of the patched module: C(flag), C(notifier) or C(unsupported); null if absent.", type: str, sample: notifier}
health:
  description:
    - The health verdict. A group is healthy when its master is UP, it has a standby and a primary slave and
      the slaves are named per policy; the host is healthy when every group is, there is at least one group
      (O(require_group)) and, with O(slave_rename_ok) and without O(reboot_pending), the patched module is
      loaded with that C(slave_rename_ok).
  returned: always
  type: dict
  contains:
    ok: {description: No problem found., type: bool, sample: false}
    problems: {description: One sentence per problem; empty when healthy., type: list, elements: str,
               sample: ["master enp1s0 has no primary slave"]}
netns:
  description: The namespace inspected, null for the module's own.
  returned: always
  type: str
  sample: null
link_count:
  description: Number of links seen in the dump.
  returned: always
  type: int
  sample: 4
policy:
  description: The naming policy used for RV(groups[].standby.name_ok).
  returned: always
  type: dict
  sample: {standby_template: "{master}nsby", primary_template: "{master}npri", names: []}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.virtnet.failover.plugins.module_utils.failover_netlink import pyroute2_missing_error

# read-only: the link dump needs no pyroute2 import, only the check that it is installed
PYROUTE2_IMPORT_ERROR = pyroute2_missing_error()
HAS_PYROUTE2 = PYROUTE2_IMPORT_ERROR is None

from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import (
    Scan,
    common_argument_spec,
    groups_report,
    kernel_module_state,
    policy_from_params,
)
from ansible_collections.virtnet.failover.plugins.module_utils.failover_group_health import health
from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import PolicyError
from ansible_collections.virtnet.failover.plugins.module_utils.failover_netlink import FailoverError


def argument_spec():
    spec = common_argument_spec()
    spec.update(
        require_group=dict(type="bool", default=True),
        slave_rename_ok=dict(type="bool"),
        reboot_pending=dict(type="bool", default=False),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib("pyroute2"), exception=PYROUTE2_IMPORT_ERROR)
    params = module.params
    try:
        policy = policy_from_params(params)
        scan = Scan(params["netns"], params["master_kinds"])
    except (PolicyError, FailoverError) as exc:
        module.fail_json(msg=str(exc))
    groups = groups_report(scan, policy)
    kernel_module = kernel_module_state()
    module.exit_json(
        changed=False,
        groups=groups,
        kernel_module=kernel_module,
        health=health(groups, kernel_module, params["require_group"], params["slave_rename_ok"],
                      params["reboot_pending"]),
        netns=params["netns"],
        link_count=len(scan.links),
        policy=policy.as_dict(),
    )


if __name__ == "__main__":
    main()
