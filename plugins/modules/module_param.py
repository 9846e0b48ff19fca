#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: module_param
short_description: Read or set a loaded kernel module's parameter at run time
version_added: "1.0.0"
description:
  - Reads C(/sys/module/MODULE/parameters/PARAM) and, when O(value) is given, writes it so the
    running kernel uses the new value at once (no reload, no reboot).
  - Boolean parameters (the kernel shows V(Y) or V(N)) accept any boolean spelling in O(value)
    (V(Y)/V(N), V(1)/V(0), V(yes)/V(no), V(true)/V(false), V(on)/V(off)) and are written as
    V(Y)/V(N); other values compare as text, or as numbers when both sides are integers.
  - Does not make the value persistent across reboots; put an C(options) line in
    C(/etc/modprobe.d/) for that (the virtnet.failover.kmod role does).
author:
  - virtnet.failover developers (@virtnet)
options:
  module:
    description:
      - Kernel module name as in C(/sys/module) (a C(-) is read as C(_), like modprobe does).
      - A single name; C(/) and C(..) are refused.
    type: str
    required: true
  param:
    description: Parameter name. A single name; C(/) and C(..) are refused.
    type: str
    required: true
  value:
    description:
      - Value to set. Omit it to only read the parameter.
      - Fails without writing when the parameter is read-only (no write bit in its mode).
    type: raw
attributes:
  check_mode:
    support: full
    details: Reads the parameter and reports whether a write would change it.
  diff_mode:
    support: full
    details: Shows the value before and after.
  platform:
    support: full
    platforms: linux
extends_documentation_fragment:
  - virtnet.failover.attributes
notes:
  - Writing needs root. The kernel may refuse a value (EINVAL); the module then fails and says so.
  - For the failover module, a missing C(slave_rename_ok) parameter means the stock
    distribution module is loaded.
seealso:
  - module: virtnet.failover.kmod_info
  - module: community.general.modprobe
"""

EXAMPLES = r"""
- name: Read the parameter of the patched failover module
  virtnet.failover.module_param:
    module: failover
    param: slave_rename_ok
  register: rename_ok

- name: Forbid renaming UP failover slaves at run time
  virtnet.failover.module_param:
    module: failover
    param: slave_rename_ok
    value: false
"""

RETURN = r"""
value:
  description: The value as the kernel shows it after the task (the wanted value in check mode).
  returned: always
  type: str
  sample: "N"
previous:
  description: The value as the kernel showed it before the task.
  returned: always
  type: str
  sample: "Y"
sysfs_path:
  description: The sysfs file of the parameter.
  returned: always
  type: str
  sample: /sys/module/failover/parameters/slave_rename_ok
writable:
  description: Whether the parameter's mode has a write bit.
  returned: always
  type: bool
  sample: true
mode:
  description: The permission bits of the sysfs file, octal.
  returned: always
  type: str
  sample: "0644"
is_bool:
  description: Whether the kernel shows the parameter as a boolean (V(Y)/V(N)).
  returned: always
  type: bool
  sample: true
bool_value:
  description: The value after the task as a boolean, for boolean parameters (null otherwise).
  returned: always
  type: bool
  sample: false
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.kernel_bool import kstrtobool
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_sysfs import (
    KmodError,
    desired_text,
    inspect_param,
    is_bool_text,
    write_param,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            module=dict(type='str', required=True),
            param=dict(type='str', required=True),
            value=dict(type='raw'),
        ),
        supports_check_mode=True,
    )
    mod, param, value = module.params['module'], module.params['param'], module.params['value']
    try:
        info = inspect_param(mod, param)
    except KmodError as e:
        module.fail_json(msg=str(e), changed=False)

    current = info['value']
    result = dict(changed=False, sysfs_path=info['path'], writable=info['writable'], mode=info['mode'],
                  previous=current, value=current, is_bool=is_bool_text(current),
                  bool_value=kstrtobool(current) if is_bool_text(current) else None)
    if value is None:
        module.exit_json(**result)

    try:
        text, equal = desired_text(current, value)
    except KmodError as e:
        module.fail_json(msg="%s/%s: %s" % (mod, param, e), **result)
    if not info['writable']:
        module.fail_json(msg="parameter %s of module %s is read-only (mode %s): it can only be set when the "
                         "module is loaded (modprobe.d options or the kernel command line)"
                         % (param, mod, info['mode']), **result)
    if equal:
        module.exit_json(**result)

    result['changed'] = True
    if module._diff:
        result['diff'] = dict(before=current + '\n', after=text + '\n',
                              before_header=info['path'], after_header=info['path'])
    if module.check_mode:
        result['value'] = text
        result['bool_value'] = kstrtobool(text) if result['is_bool'] else None
        module.exit_json(**result)
    try:
        write_param(info['path'], text)
        new = inspect_param(mod, param)['value']
    except KmodError as e:
        result['changed'] = False
        result.pop('diff', None)
        module.fail_json(msg=str(e), **result)
    result['value'] = new
    result['bool_value'] = kstrtobool(new) if result['is_bool'] else None
    if module._diff:
        result['diff']['after'] = new + '\n'
    module.exit_json(**result)


if __name__ == '__main__':
    main()
