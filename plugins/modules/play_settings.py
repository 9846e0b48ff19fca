#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: play_settings
short_description: Refuse a run of the virtnet.failover playbooks whose failover_* settings are not valid
version_added: 1.0.0
description:
  - Reads every C(failover_*) variable of each host in O(hosts) (inventory, group and host vars, extra vars) and
    checks it before any host is touched; the rollout, drift and remove playbooks call it in their first play.
  - A boolean must be a boolean (V(true)/V(false), V(yes)/V(no), V(on)/V(off), V(1)/V(0)), a setting with choices
    must be one of them; a number must be a number; the policy variables are read as the playbooks read them.
    C(failover_drift_fail=ture), C(failover_rollout_preflight_policy=abrot) and C(failover_reboot=sometimes) are
    errors, never a default.
  - A C(failover_*) variable that the playbooks do not read is an error too, with the closest known name; a
    misspelt setting would otherwise be ignored.
  - An empty O(hosts) (the host pattern matches no host of the inventory) is an error, so a drift check whose
    inventory broke does not pass.
  - The message names each bad variable, its value, what to set instead, and the hosts that have it.
  - This is an action plugin. It always runs on the controller and starts no module process.
author:
  - virtnet.failover contributors (@virtnet)
attributes:
  check_mode:
    support: full
    details: Reads only; runs the same in check mode.
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.attributes.action
  - virtnet.failover.attributes.controller
options:
  hosts:
    description: The inventory hosts the run targets, for example C(query('ansible.builtin.inventory_hostnames', pattern)).
    type: list
    elements: str
    required: true
  pattern:
    description: The host pattern that gave O(hosts), for the message.
    type: raw
    required: true
seealso:
  - module: virtnet.failover.failover_drift
"""

EXAMPLES = r"""
- name: Check the settings before any host is touched
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Refuse bad failover_* settings and a host pattern that matches nothing
      virtnet.failover.play_settings:
        hosts: "{{ query('ansible.builtin.inventory_hostnames', failover_hosts | default('all')) }}"
        pattern: "{{ failover_hosts | default('all') }}"
"""

RETURN = r"""
hosts:
  description: How many hosts were checked.
  returned: always
  type: int
  sample: 50
"""
