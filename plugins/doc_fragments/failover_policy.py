# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of module_utils.failover_common.common_argument_spec() besides the naming policy:
    # the namespace and the master kinds (failover_info, failover_slave_name, failover_drift, with NAMING).
    DOCUMENTATION = r"""
options:
  netns:
    description:
      - Name of an existing network namespace (as listed by C(ip netns list), that is a file in C(/run/netns))
        to work in instead of the module's own namespace.
      - The module fails with a clear message when it does not exist; it never creates one.
    type: str
  master_kinds:
    description:
      - Which kinds of master links count as failover masters.
      - V(net_failover) is a master whose ethtool driver is C(net_failover).
      - V(bridge), V(bonding) and V(team) are identified by their rtnl link kind (C(bridge), C(bond), C(team))
        or their ethtool driver; they are stand-ins, useful for tests in network namespaces.
      - The standby of a stand-in group is the slave with C(phys_port_name) C(sby), else the one with driver
        C(virtio_net), else the one whose interface alias (C(ip link set DEV alias standby)) is C(sby) or
        C(standby); its primary is the slave aliased C(pri) or C(primary), else the lowest-ifindex remaining
        slave. Further slaves are reported as other slaves and never renamed.
    type: list
    elements: str
    choices: [net_failover, bridge, bonding, team]
    default: [net_failover]
"""

    # The slave naming policy (module_utils.failover_naming.policy_argument_spec()): every module that
    # takes it (failover_info, failover_slave_name, failover_drift, failover_naming_policy, failover_udev_naming).
    NAMING = r"""
options:
  standby_template:
    description:
      - Policy name of the standby slave. C({master}) is replaced by the master's name, C({master_index}) by its
        ifindex; other placeholders are an error.
      - An empty string leaves standby names unmanaged (neither checked nor renamed).
    type: str
    default: "{master}nsby"
  primary_template:
    description:
      - Policy name of the primary slave, with the same placeholders as O(standby_template).
      - An empty string leaves primary names unmanaged (neither checked nor renamed).
    type: str
    default: "{master}npri"
  names:
    description:
      - Explicit policy names per master. They take precedence over the templates for the roles they give.
    type: list
    elements: dict
    default: []
    suboptions:
      master:
        description: Name of the failover master.
        type: str
        required: true
      standby:
        description: Policy name of this master's standby slave.
        type: str
      primary:
        description: Policy name of this master's primary slave.
        type: str
"""
