#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dkms_source
short_description: Deploy the source tree of a DKMS module version in one call
version_added: 1.0.0
description:
  - Makes C(/usr/src/NAME-VERSION) hold exactly the given files, each a regular file with mode
    C(0644) owned by root:root, in a directory with mode C(0755) owned by root:root.
  - Compares the SHA-256, type, mode and owner of every file with the wanted ones, and the list of
    files (a file that is not wanted is removed). Nothing is written when nothing differs.
  - When anything differs, all files are written to a new sibling directory (C(PATH.virtnet-new)),
    synced to disk, and swapped in with two renames (the old tree goes to C(PATH.virtnet-old) and is
    removed). A run killed at any point leaves the old tree, or no tree and a sibling; the next run
    removes such siblings (reported as V(leftover)) and deploys again. A tree is never half-written.
  - All files travel in the module's arguments, so the whole tree costs one module call.
author:
  - virtnet.failover developers (@virtnet)
options:
  path:
    description:
      - The source directory of the module version, directly under C(/usr/src), normally
        C(/usr/src/NAME-VERSION) (where C(dkms add -m NAME -v VERSION) looks for it).
    type: path
    required: true
  files:
    description:
      - File name (no C(/)) -> text content (UTF-8) of every file of the tree.
      - Read the files on the controller with C(lookup('ansible.builtin.file', PATH, rstrip=False)) so
        that the content is byte for byte the file's (the default strips the final newline).
      - Required with O(state=present); must not be empty.
    type: dict
  state:
    description:
      - V(present) the tree holds exactly O(files).
      - V(absent) the tree and any sibling left by a killed run are removed. Leave the version out of
        DKMS first (M(virtnet.failover.dkms) with O(virtnet.failover.dkms#module:state=absent)).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Reads the tree and returns what differs; writes nothing.
  diff_mode:
    support: full
    details: One line per entry (C(sha256 mode uid:gid name)) before and after.
  platform:
    support: full
extends_documentation_fragment:
  - virtnet.failover.attributes
notes:
  - Needs root (the files are owned by root).
  - Symbolic links are never followed; a symbolic link at O(path) or inside it counts as a
    difference and is replaced.
seealso:
  - module: virtnet.failover.dkms
"""

EXAMPLES = r"""
- name: Deploy the module source for DKMS
  virtnet.failover.dkms_source:
    path: /usr/src/virtnet-failover-1.0.0
    files:
      dkms.conf: "{{ lookup('ansible.builtin.file', 'virtnet-failover/dkms.conf', rstrip=False) }}"
      Makefile: "{{ lookup('ansible.builtin.file', 'virtnet-failover/Makefile', rstrip=False) }}"
      failover.c: "{{ lookup('ansible.builtin.file', 'virtnet-failover/failover.c', rstrip=False) }}"
  register: src

- name: Rebuild when the source changed without a version bump
  virtnet.failover.dkms:
    name: virtnet-failover
    version: 1.0.0
    force: "{{ src is changed }}"

- name: Remove the source tree
  virtnet.failover.dkms_source:
    path: /usr/src/virtnet-failover-1.0.0
    state: absent
"""

RETURN = r"""
path:
  description: The source directory.
  returned: always
  type: str
  sample: /usr/src/virtnet-failover-1.0.0
differs:
  description:
    - What differed before the task (what was changed, or would be in check mode); empty when the
      tree was already as wanted.
    - C(what) is V(missing), V(type), V(changed) (content), V(mode), V(owner), V(extra) (a file that
      is not wanted), V(leftover) (a sibling of a killed run) or, with O(state=absent), V(present).
    - C(name) is the file name, C(.) for the directory itself, or the path of a leftover.
    - C(have) and C(want) are the SHA-256, mode (octal), owner (C(uid:gid)) or kind (V(file),
      V(directory), V(symlink), V(other)); null when not applicable.
  returned: always
  type: list
  elements: dict
  sample: [{"what": "changed", "name": "failover.c", "have": "9f86d0...", "want": "60303a..."}]
files:
  description: The file names of the tree after the task (predicted in check mode).
  returned: always
  type: list
  elements: str
  sample: [Makefile, dkms.conf, failover.c]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.dkms_source_tree import (
    NEW_SUFFIX,
    SourceTreeError,
    apply,
    plan as make_plan,
    validate,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            files=dict(type='dict'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        supports_check_mode=True,
    )
    path, files, state = module.params['path'], module.params['files'], module.params['state']
    try:
        validate(path, files, state)
    except SourceTreeError as e:
        module.fail_json(msg=str(e))
    path = path.rstrip('/')
    plan = make_plan(path, files, state)
    result = dict(changed=bool(plan['differs']), path=path, differs=plan['differs'], files=plan['files'])
    if module._diff:
        result['diff'] = dict(before_header=path, after_header=path, before=plan['before'], after=plan['after'])
    if module.check_mode or not plan['differs']:
        module.exit_json(**result)
    try:
        apply(path, files, state)
    except OSError as e:
        module.fail_json(msg="cannot %s the DKMS source %s: %s (a sibling %s%s left behind is removed by the "
                         "next run)" % ('remove' if state == 'absent' else 'deploy', path, e, path, NEW_SUFFIX),
                         **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
