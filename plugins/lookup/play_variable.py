# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: play_variable
short_description: Value of a failover_* policy variable of the virtnet.failover playbooks, or its default
version_added: 1.0.0
description:
  - Returns the value of each named C(failover_*) play variable (templated when it is a template), checked for
    its type, or the playbooks' default when the variable is not set or is null.
  - The variables and defaults are those that O(virtnet.failover.failover_drift#module:from_play_vars) reads,
    from the same table, so the playbooks and the drift check read one definition.
  - Booleans are read as Ansible reads them (V(true), V(yes), V(on), V(1), ...). A value of the wrong type, an
    unknown name, or a variable without default that is not set fails with what to set.
author:
  - virtnet.failover contributors (@virtnet)
options:
  _terms:
    description:
      - Names of the variables, in order. One of C(failover_dkms_name), C(failover_dkms_version),
        C(failover_slave_rename_ok), C(failover_modprobe_file), C(failover_standby_template),
        C(failover_primary_template), C(failover_names), C(failover_health_require_group),
        C(failover_drift_check_initramfs), C(failover_drift_textfile_dir), C(failover_drift_checks),
        C(failover_netns), C(failover_master_kinds).
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: The slave_rename_ok value the playbooks roll out
  ansible.builtin.debug:
    msg: "{{ lookup('virtnet.failover.play_variable', 'failover_slave_rename_ok') }}"

- name: DKMS name and version (failover_dkms_name / failover_dkms_version, else those the collection ships)
  ansible.builtin.debug:
    msg: "{{ query('virtnet.failover.play_variable', 'failover_dkms_name', 'failover_dkms_version') }}"
"""

RETURN = r"""
_raw:
  description: One value per term, in the order of the terms, each of the variable's type.
  type: list
  elements: raw
  sample: [true]
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.virtnet.failover.plugins.plugin_utils.play_variables import PlayVariableError, named_value


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if not terms:
            raise AnsibleLookupError("virtnet.failover.play_variable takes the names of the variables, for example "
                                     "lookup('virtnet.failover.play_variable', 'failover_slave_rename_ok')")
        try:
            return [named_value(term, variables or {}, self._templar.template) for term in terms]
        except PlayVariableError as exc:
            raise AnsibleLookupError(str(exc)) from None
