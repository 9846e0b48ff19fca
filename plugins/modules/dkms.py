#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dkms
short_description: Manage the state of a DKMS module per kernel
version_added: "1.0.0"
description:
  - Adds, builds, installs or removes a module version in DKMS (Dynamic Kernel Module Support)
    for one or more kernels.
  - The states are levels, V(present) (added) < V(built) < V(installed). A kernel already at a
    higher level than requested is left alone; use V(absent) to go down.
  - Idempotent by reading C(dkms status -m NAME) before acting; parses the output formats of
    dkms 2.x, 3.0.x (Debian 12) and 3.1+/3.2 (Debian 13).
  - An installed module that differs from the built one
    (C(WARNING! Diff between built and installed module!)) is reinstalled with C(dkms install --force).
  - Order of actions for O(state=installed) is C(dkms add), C(dkms build) for every kernel, then
    removal of other versions (O(remove_other_versions)), then C(dkms install). A failing build
    therefore leaves the versions already installed untouched.
  - On a build failure the error message carries the last 40 lines of DKMS's C(make.log).
author:
  - virtnet.failover developers (@virtnet)
options:
  name:
    description: DKMS module name (C(PACKAGE_NAME) of its C(dkms.conf)).
    type: str
    required: true
  version:
    description:
      - Module version (C(PACKAGE_VERSION) of its C(dkms.conf)).
      - Required unless O(state=absent); with O(state=absent) and no version, every version of
        O(name) is removed.
    type: str
  state:
    description:
      - V(present) the version is added to the DKMS tree (no build).
      - V(built) added and built for each kernel of O(kernels).
      - V(installed) added, built and installed for each kernel of O(kernels).
      - V(absent) removed from DKMS (C(dkms remove)); the source directory in C(/usr/src) is left
        in place. Without O(kernels), the version is removed for all kernels; with an explicit
        list only the builds for those kernels are removed (C(dkms unbuild)) and the version stays
        added.
    type: str
    choices: [present, built, installed, absent]
    default: installed
  kernels:
    description:
      - V(running) (default) the running kernel (C(uname -r)).
      - V(all) every kernel under C(/lib/modules) whose C(build) link resolves to headers.
      - Or a list of kernel releases (each must have a C(/lib/modules/RELEASE) directory).
      - For O(state=built) and O(state=installed) every kernel must have its headers installed;
        the error names the package to install (for example C(linux-headers-RELEASE)).
      - With O(state=absent) the default (and V(all)) is every kernel the version is built for, and
        the version is removed from DKMS.
    type: raw
  source:
    description:
      - Directory holding the module source and its C(dkms.conf), used when the version is not yet
        added. DKMS copies it to C(/usr/src/NAME-VERSION) (C(dkms add SOURCE)).
      - Without it, C(/usr/src/NAME-VERSION) must already exist (C(dkms add -m NAME -v VERSION)).
      - C(PACKAGE_NAME) and C(PACKAGE_VERSION) in its C(dkms.conf) must match O(name) and
        O(version) when they are literal values.
    type: path
  remove_other_versions:
    description:
      - Remove every other version of O(name) from DKMS (C(dkms remove -m NAME -v OTHER --all))
        after the wanted version was built successfully.
      - Ignored with O(state=absent).
    type: bool
    default: false
  force:
    description:
      - Rebuild (C(dkms unbuild) then C(dkms build)) and, for O(state=installed), reinstall the
        version for the selected kernels even when DKMS already reports the wanted state.
      - Use it when the source in C(/usr/src/NAME-VERSION) changed without a version bump (for
        example, trigger it from the change of the task that deploys the source). The task then
        always reports a change.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Predicts per kernel which actions would run and the resulting state.
  diff_mode:
    support: full
    details: Shows the per-kernel states before and after.
  platform:
    support: full
extends_documentation_fragment:
  - virtnet.failover.attributes
notes:
  - Needs root and the C(dkms) command. Actions run through C(dkms) with argument lists, in the C
    locale.
  - DKMS skips the install when the kernel already has a module of an equal or newer version (its
    version sanity check); the module then fails and says so instead of reporting success.
seealso:
  - module: virtnet.failover.kmod_info
  - module: virtnet.failover.module_param
"""

EXAMPLES = r"""
- name: Build and install the patched failover module for the running kernel
  virtnet.failover.dkms:
    name: virtnet-failover
    version: 1.0.0
    source: /usr/src/virtnet-failover-1.0.0
    remove_other_versions: true

- name: Install for every kernel with headers
  virtnet.failover.dkms:
    name: virtnet-failover
    version: 1.0.0
    kernels: all

- name: Build only, for explicit kernels
  virtnet.failover.dkms:
    name: virtnet-failover
    version: 1.0.0
    state: built
    kernels:
      - 6.1.0-56-amd64

- name: Remove every version of the module
  virtnet.failover.dkms:
    name: virtnet-failover
    state: absent
"""

RETURN = r"""
name:
  description: The module name.
  returned: always
  type: str
  sample: virtnet-failover
version:
  description: The module version acted on (null when every version is removed).
  returned: always
  type: str
  sample: 1.0.0
kernels:
  description: The kernel releases the task applied to, after resolving V(running) and V(all).
  returned: always
  type: list
  elements: str
  sample: [6.1.0-56-amd64]
status_before:
  description:
    - DKMS state of O(version) per kernel before the task
      (V(absent), V(added), V(built), V(installed), V(installed-weak), V(broken)).
  returned: always
  type: dict
  sample: {"6.1.0-56-amd64": "added"}
status_after:
  description: DKMS state of O(version) per kernel after the task (predicted in check mode).
  returned: always
  type: dict
  sample: {"6.1.0-56-amd64": "installed"}
actions:
  description: The dkms commands run (or that would run in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["dkms add -m virtnet-failover -v 1.0.0", "dkms build -m virtnet-failover -v 1.0.0 -k 6.1.0-56-amd64"]
removed_versions:
  description: Versions of O(name) removed from DKMS (other versions, or all with O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [0.9.0]
versions:
  description:
    - Every version of O(name) DKMS knows after the task, with its per-kernel state
      (predicted in check mode). Each value has C(state) (V(added) or V(broken)) and
      C(kernels) (kernel -> V(built), V(installed) or V(installed-weak)).
  returned: always
  type: dict
  sample: {"1.0.0": {"state": "added", "kernels": {"6.1.0-56-amd64": "installed"}}}
warnings_dkms:
  description: Notes dkms printed next to a status line before the task, per kernel (for example V(diff)).
  returned: always
  type: dict
  sample: {"6.1.0-56-amd64": ["diff"]}
make_log:
  description: Path of DKMS's make.log of a failed build.
  returned: failure of a build
  type: str
  sample: /var/lib/dkms/virtnet-failover/1.0.0/build/make.log
make_log_tail:
  description: The last 40 lines of that make.log (also in the error message).
  returned: failure of a build
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.host_command import run
from ansible_collections.virtnet.failover.plugins.module_utils.dkms_plan import (
    DkmsInputError,
    check_kernels,
    check_names,
    command_lines,
    dkms_package_hint,
    flat_versions,
    install_shortfall,
    plan_actions,
    predict_versions,
    resolve_kernels,
    status_after,
    step_failure,
)
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import parse_status, versions_from_entries


class Dkms:
    """The dkms command line, in the C locale."""

    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('dkms')
        if not self.bin:
            module.fail_json(msg="dkms is not installed: %s" % dkms_package_hint())
        self.arch = os.uname().machine

    def run(self, args):
        return run([self.bin] + args)  # reads all the output (see module_utils/host_command.py)

    def versions(self, name):
        rc, out, err = self.run(['status', '-m', name])
        entries = parse_status(out)
        if rc != 0 and not entries and (err or '').strip():
            self.module.fail_json(msg="dkms status -m %s failed (rc=%d): %s" % (name, rc, (err or out).strip()),
                                  rc=rc, stdout=out, stderr=err)
        return versions_from_entries(entries, name)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            version=dict(type='str'),
            state=dict(type='str', default='installed', choices=['present', 'built', 'installed', 'absent']),
            kernels=dict(type='raw'),
            source=dict(type='path'),
            remove_other_versions=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
        ),
        required_if=[('state', 'present', ['version']), ('state', 'built', ['version']),
                     ('state', 'installed', ['version'])],
        supports_check_mode=True,
    )
    p = module.params
    name, version, state = p['name'], p['version'], p['state']
    running = os.uname().release
    try:
        check_names(name, version)
        dkms = Dkms(module)
        before = dkms.versions(name)
        kernels, explicit = resolve_kernels(p['kernels'], state, before, version, running)
        check_kernels(kernels, state, running)
        plan = plan_actions(name, version, state, kernels, explicit, before, source=p['source'], force=p['force'],
                            remove_other_versions=p['remove_other_versions'])
    except DkmsInputError as e:
        module.fail_json(msg=str(e), **e.extra)

    result = dict(changed=bool(plan['steps']), name=name, version=version, kernels=kernels,
                  status_before=plan['before'], status_after=plan['after'], actions=command_lines(plan['steps']),
                  removed_versions=plan['removed'], warnings_dkms=plan['notes'])
    if module._diff:
        result['diff'] = dict(before=plan['before'], after=plan['after'])
    if module.check_mode or not plan['steps']:
        result['versions'] = predict_versions(before, plan, version, state)
        module.exit_json(**result)

    done = []
    for label, args, kernel in plan['steps']:
        rc, out, err = dkms.run(args)
        done.append('dkms ' + ' '.join(args))
        if rc != 0:
            msg, extra = step_failure(label, args, kernel, rc, out, err, name, version, dkms.arch)
            module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err, actions=done, status_before=plan['before'],
                             name=name, version=version, kernels=kernels, **extra)

    final = dkms.versions(name)
    result['status_after'] = status_after(final, version, kernels, plan['before'])
    result['versions'] = flat_versions(final)
    if module._diff:
        result['diff'] = dict(before=plan['before'], after=result['status_after'])
    shortfall = install_shortfall(state, kernels, result['status_after'], name, version)
    if shortfall:
        module.fail_json(msg=shortfall, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
