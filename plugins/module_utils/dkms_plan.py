# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dkms module's decisions: input checks, the kernels to act on, the plan of
dkms commands, its check-mode prediction, the headers and dkms packages to
suggest, and the failure messages. The module runs dkms and nothing else.

The DKMS tree itself is read by kmod_dkms, which every read-only module uses;
this file is compiled only by the modules that plan dkms commands (dkms,
kmod_plan) and by those that name a package to install.
"""

from __future__ import annotations

import os
import re

from ansible_collections.virtnet.failover.plugins.module_utils.dkms_conf import is_literal, read_dkms_conf
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import (
    DKMS_TREE,
    MODULES_DIR,
    SOURCE_TREE,
    STATE_RANK,
    has_headers,
    installed_kernels,
    kernel_state,
)


def headers_package(kernel, os_family=None):
    """Name of the package that ships the headers of a kernel release."""
    if os_family is None:
        os_family = detect_os_family()
    if os_family == 'RedHat':
        return 'kernel-devel-%s' % kernel
    if os_family == 'Suse':
        return 'kernel-default-devel'
    return 'linux-headers-%s' % kernel


def detect_os_family(root='/'):
    if os.path.exists(os.path.join(root, 'etc/debian_version')):
        return 'Debian'
    if os.path.exists(os.path.join(root, 'etc/redhat-release')):
        return 'RedHat'
    if os.path.exists(os.path.join(root, 'etc/SuSE-release')) or os.path.exists(os.path.join(root, 'etc/SUSE-brand')):
        return 'Suse'
    return 'Debian'


def dkms_package_hint(os_family=None):
    if os_family is None:
        os_family = detect_os_family()
    if os_family == 'RedHat':
        return "install the 'dkms' package (dnf install dkms, from EPEL on RHEL)"
    return "install the 'dkms' package (apt-get install dkms)"


def tail_file(path, lines=40):
    """Last `lines` lines of a text file, or None when it cannot be read."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 65536))
            data = f.read().decode('utf-8', 'replace')
    except OSError:
        return None
    return '\n'.join(data.splitlines()[-lines:])


def find_make_log(output, dkms_tree, name, version, kernel, arch):
    """Path of the make.log of a failed build: the one dkms printed, or the
    places dkms 3.0 (build/) and 3.1+ (<kernel>/<arch>/log/) use."""
    m = re.search(r'(/\S+/make\.log)', output or '')
    candidates = []
    if m:
        candidates.append(m.group(1))
    candidates.append(os.path.join(dkms_tree, name, version, 'build', 'make.log'))
    candidates.append(os.path.join(dkms_tree, name, version, kernel, arch, 'log', 'make.log'))
    for c in candidates:
        if os.path.isfile(c):
            return c
    return None


SAFE_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+~:-]*$')


class DkmsInputError(ValueError):
    """Bad input or a host that cannot get the wanted state: the message says
    what to do; ``extra`` holds return values for the failure."""

    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.extra = extra


def check_names(name, version):
    for what, val in (('name', name), ('version', version)):
        if val is not None and not SAFE_NAME.match(val):
            raise DkmsInputError("invalid %s %r: use letters, digits and . _ + ~ : - only" % (what, val))


def resolve_kernels(spec, state, versions, version, running, modules_dir=MODULES_DIR):
    """The kernel releases to act on, and whether they were named
    explicitly (V(all) and V(running) count as explicit; the default of
    state=absent does not). ``versions`` is versions_from_entries()."""
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
            ks = [k for k in installed_kernels(modules_dir) if has_headers(k, modules_dir)]
            if not ks and state in ('built', 'installed'):
                all_k = installed_kernels(modules_dir)
                raise DkmsInputError("kernels=all: no installed kernel has headers (kernels under %s: %s); install %s"
                                     % (modules_dir, ', '.join(all_k) or 'none',
                                        ' or '.join(headers_package(k) for k in (all_k or [running]))))
            return ks, True
        spec = [x.strip() for x in s.split(',') if x.strip()]
    if not isinstance(spec, list) or not spec:
        raise DkmsInputError("kernels must be 'running', 'all' or a non-empty list of kernel releases")
    out = []
    for k in spec:
        k = str(k).strip()
        if not SAFE_NAME.match(k):
            raise DkmsInputError("invalid kernel release %r" % k)
        if k == 'running':
            k = running
        if k not in out:
            out.append(k)
    return out, True


def check_kernels(kernels, state, running, modules_dir=MODULES_DIR):
    """Unknown kernels and missing headers, before anything changes."""
    if state not in ('built', 'installed'):
        return
    installed = installed_kernels(modules_dir)
    for k in kernels:
        kdir = os.path.join(modules_dir, k)
        if not os.path.isdir(kdir) and k != running:
            raise DkmsInputError("unknown kernel %s: it is not installed (no %s); installed kernels: %s"
                                 % (k, kdir, ', '.join(installed) or 'none'))
        if not has_headers(k, modules_dir):
            raise DkmsInputError("kernel headers for %s are missing (%s/build does not resolve to a kernel "
                                 "headers tree): install the package %s, or choose other kernels"
                                 % (k, kdir, headers_package(k)), kernel=k, headers_package=headers_package(k))


def source_add_args(name, version, source, source_tree=SOURCE_TREE):
    """The ``dkms add`` arguments for a version that is not yet added, after
    checking its source directory and dkms.conf."""
    default_src = os.path.join(source_tree, '%s-%s' % (name, version))
    if source:
        src = source.rstrip('/') or '/'
        if not os.path.isdir(src):
            raise DkmsInputError("source directory %s does not exist" % src)
        add_args = ['add', src] if os.path.realpath(src) != os.path.realpath(default_src) else \
            ['add', '-m', name, '-v', version]
    else:
        src = default_src
        if not os.path.isdir(src):
            raise DkmsInputError("%s/%s is not added to DKMS and its source %s does not exist: deploy the source "
                                 "there or pass source=DIR" % (name, version, src))
        add_args = ['add', '-m', name, '-v', version]
    conf = os.path.join(src, 'dkms.conf')
    if not os.path.isfile(conf):
        raise DkmsInputError("source directory %s has no dkms.conf" % src)
    try:
        scalars, _arrays = read_dkms_conf(conf)
    except OSError as e:
        raise DkmsInputError("cannot read %s: %s" % (conf, e))
    cname, cver = scalars.get('PACKAGE_NAME'), scalars.get('PACKAGE_VERSION')
    if is_literal(cname) and cname != name:
        raise DkmsInputError("name mismatch: %s says PACKAGE_NAME=%s but name=%s" % (conf, cname, name))
    if is_literal(cver) and cver != version:
        raise DkmsInputError("version mismatch: %s says PACKAGE_VERSION=%s but version=%s" % (conf, cver, version))
    return add_args


def per_kernel(versions, version, kernels):
    return dict((k, kernel_state(versions, version, k)) for k in kernels)


def status_summary(versions, version, kernels):
    """(status per kernel, dkms notes per kernel) before the task. Without a
    version: the highest state of any version per kernel."""
    status = per_kernel(versions, version, kernels) if version else {}
    if not version:
        for d in versions.values():
            for k, kd in d['kernels'].items():
                status[k] = max(status.get(k, 'absent'), kd['state'], key=lambda s: STATE_RANK.get(s, 0))
    notes = {}
    if version in versions:
        for k, kd in versions[version]['kernels'].items():
            if kd['flags']:
                notes[k] = kd['flags']
    return status, notes


def _rank(state):
    return STATE_RANK.get(state, 0)


def plan_actions(name, version, state, kernels, explicit, versions, source=None, force=False,
                 remove_other_versions=False, source_tree=SOURCE_TREE, dkms_tree=DKMS_TREE):
    """The dkms commands that bring ``name``/``version`` to ``state`` for
    ``kernels``, from the parsed ``dkms status`` (``versions``).

    Returns {'steps': [(label, args, kernel or None)], 'removed': versions
    removed, 'before': status per kernel, 'after': predicted status per
    kernel, 'notes': dkms notes per kernel}. No steps: nothing to do.
    """
    before, notes = status_summary(versions, version, kernels)
    steps, removed, after = [], [], dict(before)
    if state == 'absent':
        for v in ([version] if version else sorted(versions)):
            if v not in versions:
                continue
            if version and explicit:
                for k in kernels:
                    if _rank(kernel_state(versions, v, k)) >= STATE_RANK['built']:
                        steps.append(('unbuild', ['unbuild', '-m', name, '-v', v, '-k', k], k))
                        after[k] = 'added'
            else:
                steps.append(('remove', ['remove', '-m', name, '-v', v, '--all'], None))
                removed.append(v)
                for k in after:
                    after[k] = 'absent'
        return dict(steps=steps, removed=removed, before=before, after=after, notes=notes)
    if versions.get(version, {}).get('state') == 'broken':
        raise DkmsInputError("%s/%s is broken in DKMS (its source link %s/%s/%s/source is missing): remove it "
                             "with state=absent first" % (name, version, dkms_tree, name, version))
    if version not in versions:
        steps.append(('add', source_add_args(name, version, source, source_tree), None))
        for k in after:
            after[k] = 'added'
    want = STATE_RANK[{'present': 'added'}.get(state, state)]
    if want >= STATE_RANK['built']:
        for k in kernels:
            cur = after[k]
            if force and _rank(cur) >= STATE_RANK['built']:
                # dkms unbuild also uninstalls
                steps.append(('unbuild', ['unbuild', '-m', name, '-v', version, '-k', k], k))
                cur = 'added'
            if _rank(cur) < STATE_RANK['built']:
                steps.append(('build', ['build', '-m', name, '-v', version, '-k', k], k))
                cur = 'built'
            after[k] = cur
    if remove_other_versions:
        for v in sorted(versions):
            if v != version:
                steps.append(('remove', ['remove', '-m', name, '-v', v, '--all'], None))
                removed.append(v)
    if want >= STATE_RANK['installed']:
        for k in kernels:
            if after[k] != 'installed' or 'diff' in notes.get(k, []):
                args = ['install', '-m', name, '-v', version, '-k', k]
                if after[k] == 'installed':
                    # reinstall over a modified copy (dkms status: Diff between built and installed)
                    args.append('--force')
                steps.append(('install', args, k))
                after[k] = 'installed'
    return dict(steps=steps, removed=removed, before=before, after=after, notes=notes)


def command_lines(steps):
    return ['dkms ' + ' '.join(args) for _label, args, _k in steps]


def flat_versions(versions):
    """versions_from_entries() as the module returns it: {version: {'state', 'kernels': {kernel: state}}}."""
    return dict((v, {'state': d['state'], 'kernels': dict((k, kd['state']) for k, kd in d['kernels'].items())})
                for v, d in versions.items())


def predict_versions(versions, plan, version, state):
    """What ``dkms status`` will say after the plan (check mode; with no
    steps, what it says now)."""
    predicted = flat_versions(versions)
    if not plan['steps']:
        return predicted
    for v in plan['removed']:
        predicted.pop(v, None)
    if version and state != 'absent':
        pv = predicted.setdefault(version, {'state': 'added', 'kernels': {}})
        for k, s in plan['after'].items():
            if _rank(s) >= STATE_RANK['built']:
                pv['kernels'][k] = s
    elif version and version in predicted:
        for k, s in plan['after'].items():
            if s in ('added', 'absent'):
                predicted[version]['kernels'].pop(k, None)
    return predicted


def status_after(versions, version, kernels, before):
    """Status per kernel read back after the plan ran."""
    if version:
        return per_kernel(versions, version, kernels)
    after = dict((k, 'absent') for k in before)
    for d in versions.values():
        for k, kd in d['kernels'].items():
            if k in after:
                after[k] = kd['state']
    return after


def step_failure(label, args, kernel, rc, out, err, name, version, arch, dkms_tree=DKMS_TREE):
    """(message, extra return values) for a dkms command that failed."""
    text = (out or '') + '\n' + (err or '')
    if label == 'build' or (label == 'install' and 'make.log' in text):
        log = find_make_log(text, dkms_tree, name, version, kernel, arch)
        tail = tail_file(log, 40) if log else None
        msg = "dkms build of %s/%s for kernel %s failed (rc=%d)" % (name, version, kernel, rc)
        if tail:
            msg += ". Last 40 lines of %s:\n%s" % (log, tail)
        else:
            msg += " and no make.log was found; dkms said:\n%s" % text.strip()[-4000:]
        return msg, {'make_log': log, 'make_log_tail': tail}
    if 'headers' in text and 'cannot be found' in text:
        return ("dkms %s for kernel %s failed: kernel headers missing; install %s. dkms said: %s"
                % (label, kernel, headers_package(kernel), text.strip()[-2000:])), {}
    return "dkms %s failed (rc=%d): %s" % (' '.join(args), rc, text.strip()[-4000:]), {}


def install_shortfall(state, kernels, after, name, version):
    """The message when dkms reported success but a kernel is not installed
    (its version sanity check skipped the install), else None."""
    if state != 'installed':
        return None
    missing = [k for k in kernels if after.get(k) != 'installed']
    if not missing:
        return None
    return ("dkms did not install %s/%s for kernel(s) %s although it reported success; "
            "DKMS skips the install when the kernel already has an equal or newer module "
            "version (version sanity check): give the module a higher MODULE_VERSION or use "
            "force=true" % (name, version, ', '.join(missing)))


def stale_builds(versions, version, kernels, source_mtime):
    """Kernels whose DKMS build of ``version`` (read_tree()) is older than its
    source tree (``source_mtime``, dkms_source_tree.tree_mtime()): a run
    replaced the source of the same version and stopped before DKMS rebuilt
    it, so the build must be redone (``force``)."""
    if source_mtime is None:
        return []
    built = (versions.get(version) or {}).get('kernels') or {}
    return [k for k in kernels if (built.get(k) or {}).get('built_mtime') is not None
            and built[k]['built_mtime'] < source_mtime]


def pending_actions(name, version, kernels, versions, rebuild=False):
    """The dkms commands that ``state=installed`` with ``remove_other_versions``
    would run for ``kernels``, predicted from ``versions`` (read_tree(): the
    DKMS tree, without running dkms) before the source is deployed.  Empty:
    DKMS has nothing to do, so the kmod role does not ask it.  A version not
    added yet, or broken, is planned as added from its source (the dkms module
    itself checks that source, or refuses the broken version).  ``rebuild``:
    the builds are redone (stale_builds())."""
    known = dict(versions)
    lines = []
    if version not in known or known[version]['state'] == 'broken':
        lines.append('dkms add -m %s -v %s' % (name, version))
        known[version] = {'state': 'added', 'kernels': {}}
    plan = plan_actions(name, version, 'installed', kernels, True, known, force=rebuild, remove_other_versions=True)
    return lines + command_lines(plan['steps'])
