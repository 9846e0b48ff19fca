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
    description: Can run in check_mode and return changed status prediction without modifying target.
    details: Predicts per kernel which actions would run and the resulting state.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details: Shows the per-kernel states before and after.
  platform:
    support: full
    description: Target OS/families that can be operated against.
    platforms: posix
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
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import (
    STATE_RANK,
    dkms_package_hint,
    find_make_log,
    has_headers,
    headers_package,
    installed_kernels,
    is_literal,
    kernel_state,
    parse_status,
    read_dkms_conf,
    tail_file,
    versions_from_entries,
)

DKMS_TREE = '/var/lib/dkms'
SOURCE_TREE = '/usr/src'
MODULES_DIR = '/lib/modules'
_SAFE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+~:-]*$')


class Dkms:
    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('dkms')
        if not self.bin:
            module.fail_json(msg="dkms is not installed: %s" % dkms_package_hint())
        self.actions = []
        self.arch = os.uname().machine

    def run(self, args):
        cmd = [self.bin] + args
        rc, out, err = self.module.run_command(cmd, environ_update={'LC_ALL': 'C', 'LANG': 'C'})
        return rc, out, err

    def versions(self, name):
        rc, out, err = self.run(['status', '-m', name])
        entries = parse_status(out)
        if rc != 0 and not entries and (err or '').strip():
            self.module.fail_json(msg="dkms status -m %s failed (rc=%d): %s" % (name, rc, (err or out).strip()),
                                  rc=rc, stdout=out, stderr=err)
        return versions_from_entries(entries, name)


def fail(module, msg, **kw):
    module.fail_json(msg=msg, **kw)


def resolve_kernels(module, spec, state, versions, version):
    """Return the list of kernel releases to act on."""
    running = os.uname().release
    if state == 'absent' and isinstance(spec, str) and spec.strip() == 'all':
        spec = None
    if spec is None:
        if state == 'absent':
            if version is None:
                ks = set()
                for v in versions.values():
                    ks.update(v['kernels'])
                return sorted(ks), False
            return sorted(versions.get(version, {}).get('kernels', {})), False
        spec = 'running'
    if isinstance(spec, str):
        s = spec.strip()
        if s == 'running':
            return [running], True
        if s == 'all':
            ks = [k for k in installed_kernels(MODULES_DIR) if has_headers(k, MODULES_DIR)]
            if not ks and state in ('built', 'installed'):
                all_k = installed_kernels(MODULES_DIR)
                fail(module, "kernels=all: no installed kernel has headers (kernels under %s: %s); install %s"
                     % (MODULES_DIR, ', '.join(all_k) or 'none',
                        ' or '.join(headers_package(k) for k in (all_k or [running]))))
            return ks, True
        spec = [x.strip() for x in s.split(',') if x.strip()]
    if not isinstance(spec, list) or not spec:
        fail(module, "kernels must be 'running', 'all' or a non-empty list of kernel releases")
    out = []
    for k in spec:
        k = str(k).strip()
        if not _SAFE.match(k):
            fail(module, "invalid kernel release %r" % k)
        if k == 'running':
            k = running
        if k not in out:
            out.append(k)
    return out, True


def check_kernels(module, kernels, state):
    """Unknown kernels and missing headers: fail before changing anything."""
    if state not in ('built', 'installed'):
        return
    running = os.uname().release
    installed = installed_kernels(MODULES_DIR)
    for k in kernels:
        kdir = os.path.join(MODULES_DIR, k)
        if not os.path.isdir(kdir) and k != running:
            fail(module, "unknown kernel %s: it is not installed (no %s); installed kernels: %s"
                 % (k, kdir, ', '.join(installed) or 'none'))
        if not has_headers(k, MODULES_DIR):
            fail(module, "kernel headers for %s are missing (%s/build does not resolve to a kernel "
                 "headers tree): install the package %s, or choose other kernels"
                 % (k, kdir, headers_package(k)), kernel=k, headers_package=headers_package(k))


def check_source(module, name, version, source):
    """Return the dkms add arguments for a version that is not yet added."""
    default_src = os.path.join(SOURCE_TREE, '%s-%s' % (name, version))
    if source:
        src = source.rstrip('/') or '/'
        if not os.path.isdir(src):
            fail(module, "source directory %s does not exist" % src)
        add_args = ['add', src] if os.path.realpath(src) != os.path.realpath(default_src) else \
            ['add', '-m', name, '-v', version]
    else:
        src = default_src
        if not os.path.isdir(src):
            fail(module, "%s/%s is not added to DKMS and its source %s does not exist: deploy the source "
                 "there or pass source=DIR" % (name, version, src))
        add_args = ['add', '-m', name, '-v', version]
    conf = os.path.join(src, 'dkms.conf')
    if not os.path.isfile(conf):
        fail(module, "source directory %s has no dkms.conf" % src)
    try:
        scalars, _arrays = read_dkms_conf(conf)
    except OSError as e:
        fail(module, "cannot read %s: %s" % (conf, e))
    cname, cver = scalars.get('PACKAGE_NAME'), scalars.get('PACKAGE_VERSION')
    if is_literal(cname) and cname != name:
        fail(module, "name mismatch: %s says PACKAGE_NAME=%s but name=%s" % (conf, cname, name))
    if is_literal(cver) and cver != version:
        fail(module, "version mismatch: %s says PACKAGE_VERSION=%s but version=%s" % (conf, cver, version))
    return add_args


def per_kernel(versions, version, kernels):
    return dict((k, kernel_state(versions, version, k)) for k in kernels)


def flat_versions(versions):
    return dict((v, {'state': d['state'], 'kernels': dict((k, kd['state']) for k, kd in d['kernels'].items())})
                for v, d in versions.items())


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
    for what, val in (('name', name), ('version', version)):
        if val is not None and not _SAFE.match(val):
            fail(module, "invalid %s %r: use letters, digits and . _ + ~ : - only" % (what, val))

    dkms = Dkms(module)
    before = dkms.versions(name)
    kernels, explicit = resolve_kernels(module, p['kernels'], state, before, version)
    check_kernels(module, kernels, state)

    status_before = per_kernel(before, version, kernels) if version else {}
    if not version:
        for d in before.values():
            for k, kd in d['kernels'].items():
                status_before[k] = max(status_before.get(k, 'absent'), kd['state'], key=lambda s: STATE_RANK.get(s, 0))
    warnings_dkms = {}
    if version in before:
        for k, kd in before[version]['kernels'].items():
            if kd['flags']:
                warnings_dkms[k] = kd['flags']

    # ---- plan
    plan = []          # (label, args, kernel)
    removed = []
    after = dict(status_before)
    if state == 'absent':
        targets = [version] if version else sorted(before)
        for v in targets:
            if v not in before:
                continue
            if version and explicit:
                for k in kernels:
                    if STATE_RANK.get(kernel_state(before, v, k), 0) >= STATE_RANK['built']:
                        plan.append(('unbuild', ['unbuild', '-m', name, '-v', v, '-k', k], k))
                        after[k] = 'added'
            else:
                plan.append(('remove', ['remove', '-m', name, '-v', v, '--all'], None))
                removed.append(v)
                for k in after:
                    after[k] = 'absent'
    else:
        vstate = before.get(version, {}).get('state')
        if vstate == 'broken':
            fail(module, "%s/%s is broken in DKMS (its source link %s/%s/%s/source is missing): remove it "
                 "with state=absent first" % (name, version, DKMS_TREE, name, version))
        if version not in before:
            plan.append(('add', check_source(module, name, version, p['source']), None))
            for k in after:
                after[k] = 'added'
        want = STATE_RANK[{'present': 'added'}.get(state, state)]
        if want >= STATE_RANK['built']:
            for k in kernels:
                cur = after[k]
                if p['force'] and STATE_RANK.get(cur, 0) >= STATE_RANK['built']:
                    # dkms unbuild also uninstalls
                    plan.append(('unbuild', ['unbuild', '-m', name, '-v', version, '-k', k], k))
                    cur = 'added'
                if STATE_RANK.get(cur, 0) < STATE_RANK['built']:
                    plan.append(('build', ['build', '-m', name, '-v', version, '-k', k], k))
                    cur = 'built'
                after[k] = cur
        if p['remove_other_versions']:
            for v in sorted(before):
                if v != version:
                    plan.append(('remove', ['remove', '-m', name, '-v', v, '--all'], None))
                    removed.append(v)
        if want >= STATE_RANK['installed']:
            for k in kernels:
                if after[k] != 'installed' or 'diff' in warnings_dkms.get(k, []):
                    args = ['install', '-m', name, '-v', version, '-k', k]
                    if after[k] == 'installed':
                        # reinstall over a modified copy (dkms status: Diff between built and installed)
                        args.append('--force')
                    plan.append(('install', args, k))
                    after[k] = 'installed'

    actions = ['dkms ' + ' '.join(a[1]) for a in plan]
    result = dict(changed=bool(plan), name=name, version=version, kernels=kernels,
                  status_before=status_before, status_after=after, actions=actions,
                  removed_versions=removed, warnings_dkms=warnings_dkms)
    if module._diff:
        result['diff'] = dict(before=status_before, after=after)

    if module.check_mode or not plan:
        predicted = flat_versions(before)
        if module.check_mode and plan:
            for v in removed:
                predicted.pop(v, None)
            if version and state != 'absent':
                pv = predicted.setdefault(version, {'state': 'added', 'kernels': {}})
                for k, s in after.items():
                    if STATE_RANK.get(s, 0) >= STATE_RANK['built']:
                        pv['kernels'][k] = s
            elif version and version in predicted:
                for k, s in after.items():
                    if s in ('added', 'absent'):
                        predicted[version]['kernels'].pop(k, None)
        result['versions'] = predicted
        module.exit_json(**result)

    # ---- act
    done = []
    for label, args, k in plan:
        rc, out, err = dkms.run(args)
        done.append('dkms ' + ' '.join(args))
        if rc == 0:
            continue
        extra = dict(rc=rc, stdout=out, stderr=err, actions=done, status_before=status_before,
                     name=name, version=version, kernels=kernels)
        text = (out or '') + '\n' + (err or '')
        if label == 'build' or (label == 'install' and 'make.log' in text):
            log = find_make_log(text, DKMS_TREE, name, version, k, dkms.arch)
            tail = tail_file(log, 40) if log else None
            extra['make_log'] = log
            extra['make_log_tail'] = tail
            msg = "dkms build of %s/%s for kernel %s failed (rc=%d)" % (name, version, k, rc)
            if tail:
                msg += ". Last 40 lines of %s:\n%s" % (log, tail)
            else:
                msg += " and no make.log was found; dkms said:\n%s" % text.strip()[-4000:]
            module.fail_json(msg=msg, **extra)
        if 'headers' in text and 'cannot be found' in text:
            module.fail_json(msg="dkms %s for kernel %s failed: kernel headers missing; install %s. dkms said: %s"
                             % (label, k, headers_package(k), text.strip()[-2000:]), **extra)
        module.fail_json(msg="dkms %s failed (rc=%d): %s" % (' '.join(args), rc, text.strip()[-4000:]), **extra)

    final = dkms.versions(name)
    if version:
        status_after = per_kernel(final, version, kernels)
    else:
        status_after = dict((k, 'absent') for k in status_before)
        for d in final.values():
            for k, kd in d['kernels'].items():
                if k in status_after:
                    status_after[k] = kd['state']
    result['status_after'] = status_after
    result['versions'] = flat_versions(final)
    if module._diff:
        result['diff'] = dict(before=status_before, after=status_after)
    if state == 'installed':
        missing = [k for k in kernels if status_after.get(k) != 'installed']
        if missing:
            module.fail_json(msg="dkms did not install %s/%s for kernel(s) %s although it reported success; "
                             "DKMS skips the install when the kernel already has an equal or newer module "
                             "version (version sanity check): give the module a higher MODULE_VERSION or use "
                             "force=true" % (name, version, ', '.join(missing)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
