# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: dkms_identity
short_description: DKMS name and version of the patched failover module this collection ships
version_added: 1.0.0
description:
  - Reads C(PACKAGE_NAME) and C(PACKAGE_VERSION) from the collection's own
    C(roles/kmod/files/virtnet-failover/dkms.conf), found next to this plugin, so that the
    C(virtnet.failover.kmod) role and the playbooks take them from one place.
  - Values may be written bare, in double or in single quotes, with a trailing C(# comment).
  - Fails, saying what to fix, when the file cannot be read or a value is missing or uses shell expansion.
author:
  - virtnet.failover contributors (@virtnet)
options:
  _terms:
    description: The fields to return, in order; each one of C(name) or C(version).
    required: true
    type: list
    elements: str
  conf:
    description: Read this dkms.conf instead of the one the collection ships.
    type: path
"""

EXAMPLES = r"""
- name: Show the DKMS package the collection ships
  ansible.builtin.debug:
    msg: "{{ lookup('virtnet.failover.dkms_identity', 'name') }}/{{ lookup('virtnet.failover.dkms_identity', 'version') }}"

- name: Name and version as a list
  ansible.builtin.debug:
    msg: "{{ query('virtnet.failover.dkms_identity', 'name', 'version') }}"
"""

RETURN = r"""
_raw:
  description: One string per term, in the order of the terms.
  type: list
  elements: str
  sample: [virtnet-failover, 1.0.0]
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.virtnet.failover.plugins.plugin_utils.dkms_identity import (
    FIELDS,
    SHIPPED_DKMS_CONF,
    DkmsIdentityError,
    read_identity,
)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        bad = [term for term in terms if term not in FIELDS]
        if not terms or bad:
            raise AnsibleLookupError(
                "virtnet.failover.dkms_identity takes the fields %s, got %s: write for example "
                "lookup('virtnet.failover.dkms_identity', 'version')" % (", ".join(FIELDS), ", ".join(map(str, bad)) or "none"))
        try:
            identity = read_identity(self.get_option("conf") or SHIPPED_DKMS_CONF)
        except DkmsIdentityError as exc:
            raise AnsibleLookupError(str(exc)) from None
        return [identity[term] for term in terms]
