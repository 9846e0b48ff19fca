#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kmod_plan
short_description: The kmod role's decisions about a host, one call per phase
version_added: 1.0.0
description:
  - Read-only. Gathers the state of the patched module (the same state M(virtnet.failover.kmod_info) returns) and
    returns the decision of one phase of the C(virtnet.failover.kmod) role. The role calls it and only asserts on
    the returned lists or acts on the returned plan.
  - The OS family (Debian, RedHat) is told from C(/etc/os-release); it gives the packages, the package query,
    the headers package and the initramfs command (RV(os)). Another OS is refused.
  - V(preflight) gives the target kernels, the kernels whose initramfs the role maintains, the missing packages,
    the stale initramfs images (an earlier run stopped before rebuilding them) and the refusals (failover built
    into a target kernel, headers or dkms missing while packages are not managed, a kernel older than 5.1 whose
    headers lack C(IFF_LIVE_RENAME_OK) while O(slave_rename_ok=true), Secure Boot without a DKMS signing key, and
    a C(slave_rename_ok) other than O(slave_rename_ok) from a source the role does not own that overrides
    O(modprobe_conf) at boot - a modprobe.d file read after it, or C(failover.slave_rename_ok=) on the running
    boot's kernel command line).
    From the same read it also answers what a run that changes nothing needs - the DKMS commands still to run
    (RV(dkms_actions)), whether the modprobe.d file is already as wanted (RV(modprobe_current)), the activation
    and the verify verdict - so that the role asks the host nothing more when nothing changes.
  - V(activation) gives how the wanted module becomes active after DKMS ran - the parameter at run time (the
    patched module is loaded), a reboot (the loaded module is the stock or an older build, and it is held), or
    nothing.
  - V(verify) gives the problems of the active state (empty when the host is as wanted) and whether the host
    only waits for its reboot.
author:
  - virtnet.failover developers (@virtnet)
options:
  phase:
    description: The decision to return.
    type: str
    required: true
    choices: [preflight, activation, verify]
  state:
    description: The wanted state of the patched module, as the role's C(kmod_state).
    type: str
    choices: [present, absent]
    default: present
  dkms_name:
    description: DKMS package name of the module.
    type: str
    default: virtnet-failover
  dkms_version:
    description: The wanted DKMS version (O(state=present)).
    type: str
  module:
    description: Kernel module name.
    type: str
    default: failover
  modprobe_conf:
    description: The modprobe.d file the role manages.
    type: path
    default: /etc/modprobe.d/virtnet-failover.conf
  slave_rename_ok:
    description: Wanted value of C(slave_rename_ok).
    type: bool
    default: true
  kernels:
    description: V(running) targets the running kernel; V(all) also every kernel with modules and headers.
    type: str
    choices: [running, all]
    default: running
  targets:
    description:
      - The target kernels the preflight returned (RV(targets)). Used by O(phase=activation); default the
        targets O(kernels) gives now.
    type: list
    elements: str
  initramfs:
    description: The role maintains the initramfs of the target kernels (reads them in preflight and verify).
    type: bool
    default: true
  manage_packages:
    description: Missing packages will be installed (else they are refusals).
    type: bool
    default: true
  base_packages:
    description:
      - Packages the role needs besides the kernel headers. Default those of the OS family (RV(os)).
    type: list
    elements: str
  headers_package:
    description:
      - The headers package of a kernel, C({kernel}) standing for its release. Default that of the OS family
        (C(linux-headers-{kernel}), C(kernel-devel-{kernel})).
    type: str
  package_query:
    description:
      - Command that lists the installed packages, one C(NAME<TAB>STATUS) line each, the status
        C(installed) for installed ones. Default that of the OS family (dpkg-query with C(${db:Status-Status}),
        or rpm).
    type: list
    elements: str
  secure_boot_check:
    description: Refuse when Secure Boot is enabled and DKMS has no signing key.
    type: bool
    default: true
  mok_key:
    description: The DKMS MOK signing key.
    type: path
    default: /var/lib/dkms/mok.key
  mok_cert:
    description: The DKMS MOK certificate.
    type: path
    default: /var/lib/dkms/mok.pub
  source_dir:
    description: The module's DKMS source directory (its dkms.conf may set a signing tool).
    type: path
  source_files:
    description:
      - O(phase=preflight) with O(state=present) and O(source_dir). The wanted source tree, file name to text
        content, as M(virtnet.failover.dkms_source) takes it in its O(virtnet.failover.dkms_source#module:files);
        RV(source_differs) says what that module would change.
    type: dict
  dkms_changed:
    description:
      - O(phase=activation) only. DKMS installed a module in this run (in check mode, would install one).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Read-only; in check mode V(activation) predicts from O(dkms_changed).
  diff_mode:
    support: none
    details: Read-only module, nothing to show in diff mode.
  platform:
    support: full
    platforms: linux
extends_documentation_fragment:
  - virtnet.failover.attributes
seealso:
  - module: virtnet.failover.kmod_info
  - module: virtnet.failover.dkms
"""

EXAMPLES = r"""
- name: Preflight
  virtnet.failover.kmod_plan:
    phase: preflight
    dkms_version: 1.1.0
  register: plan

- name: Refuse what cannot work
  ansible.builtin.assert:
    that: plan.refusals | length == 0
    fail_msg: "{{ plan.refusals | map(attribute='msg') | join(' | ') }}"
"""

RETURN = r"""
host:
  description: The gathered state (the return values of M(virtnet.failover.kmod_info)).
  returned: always
  type: dict
targets:
  description: Target kernels.
  returned: always
  type: list
  elements: str
initramfs_targets:
  description: Kernels whose initramfs the role maintains (O(phase=preflight)).
  returned: O(phase=preflight)
  type: list
  elements: str
missing_packages:
  description: Packages to install before the build (base packages first, then headers).
  returned: O(phase=preflight)
  type: list
  elements: str
secure_boot:
  description: "C(enabled), C(disabled) or C(unknown: ...)."
  returned: O(phase=preflight)
  type: str
signing:
  description: How DKMS would sign (C(mok KEY), C(config FILE) or C(none)).
  returned: O(phase=preflight)
  type: str
os:
  description:
    - The OS family profile (family, tested, pkg_manager, base_packages, headers_package, package_query,
      initramfs_argv, initramfs_image) with the os-release id, name and version_id; null on an unsupported OS.
  returned: O(phase=preflight)
  type: dict
refusals:
  description: What stops the role; each with phase, kind, kernel and msg. Empty when the host can be worked on.
  returned: O(phase=preflight)
  type: list
  elements: dict
initramfs_stale:
  description: Kernels whose initramfs an earlier run left out of date.
  returned: O(phase=preflight)
  type: list
  elements: str
modprobe_content:
  description: The content of O(modprobe_conf) the policy wants (O(state=present); null otherwise).
  returned: O(phase=preflight)
  type: str
modprobe_file_attributes:
  description:
    - The owner, group and mode O(modprobe_conf) must have (O(state=present); null otherwise), the ones
      RV(modprobe_current) compares; the role writes the file with them.
  returned: O(phase=preflight)
  type: dict
  contains:
    owner:
      description: The owner's uid.
      type: int
      sample: 0
    group:
      description: The group's gid.
      type: int
      sample: 0
    mode:
      description: The mode, as an octal string.
      type: str
      sample: "0644"
modprobe_current:
  description:
    - O(modprobe_conf) is already the file the policy wants (RV(modprobe_content) byte for byte, a regular file
      owned by root with mode 0644), so writing it would change nothing (O(state=present); null otherwise). The
      same verdict as the C(modprobe_file) kind of M(virtnet.failover.failover_drift) - the role rewrites the file
      exactly when the drift check reports it.
  returned: O(phase=preflight)
  type: bool
dkms_actions:
  description:
    - The dkms commands that installing O(dkms_version) for RV(targets), other versions removed, would run,
      predicted from the DKMS tree under C(/var/lib/dkms) without running dkms. Empty when DKMS has nothing to do
      (O(state=present) with O(dkms_version); null otherwise).
  returned: O(phase=preflight)
  type: list
  elements: str
dkms_stale_builds:
  description:
    - Target kernels whose DKMS build of O(dkms_version) is older than O(source_dir) (a run replaced the source of
      the same version and stopped before DKMS rebuilt it); RV(dkms_actions) then redoes the builds and the role
      passes C(force) to M(virtnet.failover.dkms). Empty otherwise.
  returned: O(phase=preflight)
  type: list
  elements: str
source_differs:
  description:
    - What M(virtnet.failover.dkms_source) would change in O(source_dir) to make it O(source_files) (its
      RV(virtnet.failover.dkms_source#module:differs)); empty when the tree is current. Null without O(source_files).
  returned: O(phase=preflight)
  type: list
  elements: dict
verify_message:
  description: The message of RV(verify) (O(phase=preflight)).
  returned: O(phase=preflight)
  type: str
message:
  description: One line for the operator (the plan, the activation, or the verdict).
  returned: always
  type: str
activation:
  description:
    - runtime_param (the patched module is loaded with another C(slave_rename_ok) than O(slave_rename_ok), so it
      is set at run time), reboot_required, reboot_reason.
  returned: O(phase=activation) and O(phase=preflight) (with nothing installed by this run)
  type: dict
verify:
  description:
    - ok, pending_reboot, problems (messages), items (dicts with phase, kind, kernel, msg), running_kernel,
      loaded_patched, loaded_version, loaded_srcversion, dkms_srcversion, slave_rename_ok, live_rename,
      initramfs_member.
  returned: O(phase=verify) and O(phase=preflight) (the state as read before any change)
  type: dict
"""

import glob
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils import dkms_source_tree, kmod_host, kmod_os, kmod_verdicts
from ansible_collections.virtnet.failover.plugins.module_utils.host_command import run
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import initramfs_path
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_state import read_initramfs, gather_state
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_sysfs import KmodError, validate_name
from ansible_collections.virtnet.failover.plugins.module_utils.dkms_plan import pending_actions, stale_builds
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import read_tree
from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import (
    boot_options,
    boot_param_items,
    file_is_current,
    modprobe_file_attributes,
    modprobe_file_content,
)


def _mtime(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def preflight(p, state, get_bin_path, run_command, check_mode):
    present = p['state'] == 'present'
    os_release = kmod_os.read_os_release()
    profile = kmod_os.os_profile(os_release)
    os_refusals = kmod_verdicts.os_refusals(profile, kmod_os.unsupported_message(os_release))
    if profile:  # the role's explicit package options override the family's
        profile.update((k, p[k]) for k in ('base_packages', 'headers_package', 'package_query') if p[k] is not None)
    targets = kmod_verdicts.target_kernels(state, p['kernels'])
    irt = kmod_verdicts.initramfs_kernels(state, targets, p['state']) if p['initramfs'] else []
    for k in irt:
        if 'initramfs' not in state['kernels'][k]:
            read_initramfs(state['kernels'][k], k, p['module'])
    base, headers = [], []  # an unsupported OS is refused; nothing to install there
    if profile:
        installed = kmod_host.installed_packages(profile['package_query'], run_command)
        base, headers = kmod_verdicts.missing_packages(state, targets, installed, profile['base_packages'],
                                                       profile['headers_package'])
    secure_boot = kmod_host.secure_boot_state(get_bin_path('mokutil'), run_command)
    signing = kmod_host.signing_source(p['mok_key'], p['mok_cert'], p['source_dir'])
    flags = dict((k, kmod_host.headers_define(k, kmod_verdicts.LIVE_RENAME_FLAG)) for k in targets
                 if present and p['slave_rename_ok'] and kmod_verdicts.needs_rename_flag(k))
    boot = (boot_param_items(boot_options(p['module']), p['module'], p['slave_rename_ok'], p['modprobe_conf'])
            if present else [])
    refusals = os_refusals + kmod_verdicts.preflight_refusals(state, p, targets, base, headers, secure_boot, signing,
                                                              flags, boot)
    stale = kmod_verdicts.stale_initramfs(
        state, irt, p['state'], dict((k, _mtime(initramfs_path(k))) for k in irt),
        _mtime(p['modprobe_conf']) if present else None)
    loaded = state['loaded']
    shown = ('patched %s' % (loaded['version'] or '?') if loaded['patched']
             else 'stock' if loaded['loaded'] else 'not loaded')
    message = '%s %s %s for %s; loaded failover: %s; missing packages: %s' % (
        p['state'], p['dkms_name'], p['dkms_version'] or '', ', '.join(targets), shown,
        ', '.join(base + headers) or 'none')
    content = modprobe_file_content(p['module'], p['slave_rename_ok'], p['dkms_name'], p['dkms_version']) if present else None
    # What this read already answers, so that a run which changes nothing asks the host no more
    dkms_actions, rebuild = None, []
    if present and p['dkms_version']:
        tree = read_tree(p['dkms_name'])
        if p['source_dir']:
            rebuild = stale_builds(tree, p['dkms_version'], targets,
                                   dkms_source_tree.tree_mtime(p['source_dir'].rstrip('/')))
        dkms_actions = pending_actions(p['dkms_name'], p['dkms_version'], targets, tree, rebuild=bool(rebuild))
    source_differs = None
    if present and p['source_files'] is not None:
        source_differs = dkms_source_tree.plan(p['source_dir'].rstrip('/'), p['source_files'])['differs']
    checked = verify(p, state)
    return dict(os=profile, targets=targets, initramfs_targets=irt,
                missing_packages=base + headers, secure_boot=secure_boot,
                signing=signing, refusals=refusals, initramfs_stale=stale, modprobe_content=content,
                modprobe_current=file_is_current(p['modprobe_conf'], content) if present else None,
                modprobe_file_attributes=modprobe_file_attributes() if present else None,
                dkms_actions=dkms_actions, dkms_stale_builds=rebuild, source_differs=source_differs,
                activation=activation(p, state, check_mode)['activation'],
                verify=checked['verify'], verify_message=checked['message'], message=message)


def activation(p, state, check_mode):
    targets = p['targets'] if p['targets'] is not None else kmod_verdicts.target_kernels(state, p['kernels'])
    plan = kmod_verdicts.activation(state, p['state'], targets, check_mode, p['dkms_changed'], p['slave_rename_ok'])
    message = ('reboot required: %s' % plan['reboot_reason'] if plan['reboot_required']
               else 'slave_rename_ok is set at run time' if plan['runtime_param'] else 'nothing to activate: the wanted module is active')
    return dict(targets=targets, activation=plan, message=message)


def verify(p, state):
    leftovers = []
    if p['state'] == 'absent':
        for root in ('/usr/src', '/var/lib/dkms'):
            leftovers += sorted(glob.glob(os.path.join(root, glob.escape(p['dkms_name']) + '*')))
    items, pending = kmod_verdicts.verify_problems(state, p, leftovers)
    loaded = state['loaded']
    rk = state['kernels'].get(state['running_kernel'], {})
    problems = [i['msg'] for i in items]
    if not problems:
        message = 'failover %s and active' % p['state']
    else:
        message = ('PENDING REBOOT (installed, not active yet; reboot the host): ' if pending else 'BROKEN: ') + \
            ' | '.join(problems)
    result = dict(ok=not problems, pending_reboot=pending, problems=problems, items=items,
                  running_kernel=state['running_kernel'], loaded_patched=loaded['patched'],
                  loaded_version=loaded['version'], loaded_srcversion=loaded['srcversion'],
                  dkms_srcversion=(rk.get('dkms_module') or {}).get('srcversion'),
                  slave_rename_ok=loaded['slave_rename_ok'], live_rename=loaded['live_rename'],
                  initramfs_member=(rk.get('initramfs') or {}).get('member'))
    return dict(targets=kmod_verdicts.target_kernels(state, p['kernels']), verify=result, message=message)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            phase=dict(type='str', required=True, choices=['preflight', 'activation', 'verify']),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            dkms_name=dict(type='str', default='virtnet-failover'),
            dkms_version=dict(type='str'),
            module=dict(type='str', default='failover'),
            modprobe_conf=dict(type='path', default='/etc/modprobe.d/virtnet-failover.conf'),
            slave_rename_ok=dict(type='bool', default=True),
            kernels=dict(type='str', choices=['running', 'all'], default='running'),
            targets=dict(type='list', elements='str'),
            initramfs=dict(type='bool', default=True),
            manage_packages=dict(type='bool', default=True),
            base_packages=dict(type='list', elements='str'),
            headers_package=dict(type='str'),
            package_query=dict(type='list', elements='str'),
            secure_boot_check=dict(type='bool', default=True),
            mok_key=dict(type='path', default='/var/lib/dkms/mok.key'),
            mok_cert=dict(type='path', default='/var/lib/dkms/mok.pub'),
            source_dir=dict(type='path'),
            source_files=dict(type='dict'),
            dkms_changed=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['headers_package'] is not None and '{kernel}' not in p['headers_package']:
        module.fail_json(msg="headers_package %r has no {kernel}: name the headers package of a kernel with "
                         "{kernel} standing for its release, e.g. linux-headers-{kernel}" % p['headers_package'])
    if p['package_query'] is not None and not p['package_query']:
        module.fail_json(msg="package_query is empty: give the command that lists installed packages, "
                         "e.g. [dpkg-query, -W, '-f=${Package}\\t${db:Status-Status}\\n']")
    present = p['state'] == 'present'
    if present and p['phase'] == 'preflight' and p['source_files'] is not None:
        if not p['source_dir']:
            module.fail_json(msg="source_files needs source_dir: the DKMS source directory to compare, "
                             "/usr/src/NAME-VERSION")
        try:
            dkms_source_tree.validate_files(p['source_files'])
        except dkms_source_tree.SourceTreeError as e:
            module.fail_json(msg="source_files: %s" % e)

    try:
        for k in p['targets'] or []:
            validate_name('kernel', k)
        state = gather_state(dict(
            dkms_name=p['dkms_name'], dkms_version=p['dkms_version'] if present else None, module=p['module'],
            modprobe_conf=p['modprobe_conf'], slave_rename_ok=p['slave_rename_ok'] if present else None,
            initramfs_kernels=['running'] if p['phase'] != 'activation' and p['initramfs'] else []),
            module.get_bin_path, run)  # run reads all the output (see module_utils/host_command.py)
    except KmodError as e:
        module.fail_json(msg=str(e))
    if p['phase'] == 'preflight':
        out = preflight(p, state, module.get_bin_path, run, module.check_mode)
    elif p['phase'] == 'activation':
        out = activation(p, state, module.check_mode)
    else:
        out = verify(p, state)
    module.exit_json(changed=False, host=state, **out)


if __name__ == '__main__':
    main()
