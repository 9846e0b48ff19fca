# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKMS helpers: parse ``dkms status`` output, read the DKMS tree directly,
read dkms.conf, find kernels and headers.

Pure Python, no Ansible imports, so the unit tests and kmod_info can use it.

DKMS tree layout (dkms 2.8, 3.0.x on Debian 12, 3.1/3.2 on Debian 13), which
is what ``dkms status`` itself evaluates:

* ``<dkms_tree>/<name>/<version>/source`` (link or dir): the version is *added*;
  a version directory without it is *broken* (dkms >= 3.1 prints ``broken``).
* ``<dkms_tree>/<name>/<version>/<kernel>/<arch>/module/<mod>.ko[.xz|.gz|.zst]``
  for every DEST_MODULE_NAME of dkms.conf: *built* for that kernel.
* ``<dkms_tree>/<name>/kernel-<kernel>-<arch>`` -> ``<version>/<kernel>/<arch>``
  symlink: *installed* (that version is the one installed for that kernel).
"""

from __future__ import annotations

import os
import re

from ansible_collections.virtnet.failover.plugins.module_utils.dkms_conf import is_literal, read_dkms_conf

STATES = ('absent', 'added', 'built', 'installed')
STATE_RANK = {'absent': 0, 'broken': 0, 'added': 1, 'built': 2, 'installed-weak': 2, 'installed': 3}

# Extra notes dkms appends to built/installed lines.  Old (3.0.x) and new
# (3.1+) wordings map to one flag each.
_EXTRA_FLAGS = (
    ('diff', ('Diff between built and installed module', 'Differences between built and installed modules')),
    ('original_module', ('original_module exists', 'Original modules exist')),
    ('missing_built', ('Missing some built modules', 'Built modules are missing')),
)

# every compression the kernel's module loader takes (CONFIG_MODULE_COMPRESS_*), uncompressed first
KO_SUFFIXES = ('.ko', '.ko.xz', '.ko.zst', '.ko.gz')

# name/version, kernel, arch: state[ extras]      (dkms 3.x)
_RE_NEW = re.compile(r'^(?P<name>[^/,:\s]+)/(?P<version>[^,:\s]+),\s*(?P<kernel>[^,\s]+),\s*(?P<arch>[^:\s]+):\s*(?P<rest>.*)$')
# name, version, kernel, arch: state[ extras]     (dkms 2.x, and installed-weak lines of 3.x)
_RE_OLD = re.compile(r'^(?P<name>[^/,:\s]+),\s*(?P<version>[^,:\s]+),\s*(?P<kernel>[^,\s]+),\s*(?P<arch>[^:\s]+):\s*(?P<rest>.*)$')
# name/version: added|broken   (3.x)   or   name, version: added   (2.x)
_RE_ADDED = re.compile(r'^(?P<name>[^/,:\s]+)(?:/|,\s*)(?P<version>[^,:\s]+):\s*(?P<rest>.*)$')


def _split_rest(rest):
    """Split 'installed (WARNING! ...)' into the state word, flags and raw notes."""
    rest = rest.strip()
    m = re.match(r'^(installed-weak from \S+|installed-weak|installed|built|added|broken|[A-Za-z-]+)\s*(.*)$', rest)
    if not m:
        return rest, [], []
    state, extras = m.group(1), m.group(2)
    weak_from = None
    if state.startswith('installed-weak from '):
        weak_from = state.split()[-1]
        state = 'installed-weak'
    notes = re.findall(r'\(([^()]*)\)', extras)
    flags = []
    for note in notes:
        for flag, texts in _EXTRA_FLAGS:
            if any(t.lower() in note.lower() for t in texts):
                flags.append(flag)
    if weak_from:
        notes.insert(0, 'installed-weak from %s' % weak_from)
    return state.lower(), flags, notes


def parse_status(text):
    """Parse ``dkms status`` output (any supported dkms version).

    Returns a list of dicts with keys name, version, kernel, arch (None for
    ``added``/``broken`` lines), state (added, built, installed,
    installed-weak, broken), flags (list: diff, original_module,
    missing_built) and notes (the raw parenthesised texts).
    Lines that are not status lines (errors, warnings, blank) are ignored.
    """
    entries = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or line.startswith(('Error!', 'Warning:', 'Deprecated feature:')):
            continue
        for regex in (_RE_NEW, _RE_OLD):
            m = regex.match(line)
            if m:
                state, flags, notes = _split_rest(m.group('rest'))
                entries.append(dict(name=m.group('name'), version=m.group('version'),
                                    kernel=m.group('kernel'), arch=m.group('arch'),
                                    state=state, flags=flags, notes=notes))
                break
        else:
            m = _RE_ADDED.match(line)
            if m:
                state, flags, notes = _split_rest(m.group('rest'))
                if state in ('added', 'broken'):
                    entries.append(dict(name=m.group('name'), version=m.group('version'),
                                        kernel=None, arch=None, state=state,
                                        flags=flags, notes=notes))
    return entries


def versions_from_entries(entries, name):
    """Summarise parsed status entries of one module name.

    Returns {version: {'state': 'added'|'broken'|None, 'kernels': {kernel:
    {'state': s, 'arch': a, 'flags': [...]}}}}.
    """
    result = {}
    for e in entries:
        if e['name'] != name:
            continue
        v = result.setdefault(e['version'], {'state': 'added', 'kernels': {}})
        if e['kernel'] is None:
            v['state'] = e['state']
            continue
        cur = v['kernels'].get(e['kernel'])
        if cur is None or STATE_RANK.get(e['state'], 0) > STATE_RANK.get(cur['state'], 0):
            v['kernels'][e['kernel']] = {'state': e['state'], 'arch': e['arch'], 'flags': list(e['flags'])}
    return result


def kernel_state(versions, version, kernel):
    """State of one version for one kernel: absent, added, built, installed
    (installed-weak and broken are returned as such)."""
    v = versions.get(version)
    if v is None:
        return 'absent'
    if v['state'] == 'broken':
        return 'broken'
    k = v['kernels'].get(kernel)
    if k is None:
        return 'added'
    return k['state']


# --------------------------------------------------------------------------
# dkms.conf


# read_dkms_conf and is_literal live in dkms_conf.py (the lookup imports only that reader)


def dest_module_names(conf_path):
    """Module file names (without .ko) dkms builds for a dkms.conf, or None
    when they cannot be known without running bash."""
    try:
        scalars, arrays = read_dkms_conf(conf_path)
    except OSError:
        return None
    built = arrays.get('BUILT_MODULE_NAME', {})
    dest = arrays.get('DEST_MODULE_NAME', {})
    if not built:
        # dkms >= 3.1 defaults to PACKAGE_NAME for a single-module package
        name = scalars.get('PACKAGE_NAME')
        return [name] if is_literal(name) else None
    names = []
    for idx in sorted(built):
        n = dest.get(idx, built[idx])
        if not is_literal(n):
            return None
        names.append(n)
    return names


# --------------------------------------------------------------------------
# Direct read of the DKMS tree (what `dkms status` evaluates), no subprocess


def find_ko(directory, modname):
    """Path of <modname>.ko[.xz|.zst|.gz] in a directory (a regular file), or None."""
    for suffix in KO_SUFFIXES:
        p = os.path.join(directory, modname + suffix)
        if os.path.isfile(p):
            return p
    return None


def _has_any_ko(directory):
    try:
        return any(n.endswith(KO_SUFFIXES) for n in os.listdir(directory))
    except OSError:
        return False


def _newest_ko_mtime(directory):
    try:
        return max(os.lstat(os.path.join(directory, n)).st_mtime for n in os.listdir(directory)
                   if n.endswith(KO_SUFFIXES))
    except (OSError, ValueError):
        return None


def read_tree(name, dkms_tree='/var/lib/dkms'):
    """Read the DKMS tree of one module name without running dkms.

    Returns the same structure as versions_from_entries(parse_status(...)),
    plus 'module_dir' per kernel (the DKMS build output directory) and
    'built_mtime' (the time of its newest module file: when DKMS built it).
    """
    result = {}
    base = os.path.join(dkms_tree, name)
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return result
    for version in names:
        vdir = os.path.join(base, version)
        if version.startswith('kernel-') or os.path.islink(vdir) or not os.path.isdir(vdir):
            continue
        src = os.path.join(vdir, 'source')
        if not (os.path.islink(src) or os.path.isdir(src)):
            # dkms 3.0 ignores such a directory; 3.1+ reports it as broken
            result[version] = {'state': 'broken', 'kernels': {}}
            continue
        entry = result[version] = {'state': 'added', 'kernels': {}}
        modnames = dest_module_names(os.path.join(src, 'dkms.conf'))
        for kernel in sorted(os.listdir(vdir)):
            if kernel in ('source', 'build', 'tarball', 'driver_disk') or not kernel[:1].isdigit():
                continue
            kdir = os.path.join(vdir, kernel)
            if not os.path.isdir(kdir):
                continue
            for arch in sorted(os.listdir(kdir)):
                mdir = os.path.join(kdir, arch, 'module')
                if not os.path.isdir(mdir):
                    continue
                if modnames is not None:
                    built = all(find_ko(mdir, n) for n in modnames)
                else:
                    built = _has_any_ko(mdir)
                if not built:
                    continue
                built_mtime = _newest_ko_mtime(mdir)
                link = os.path.join(base, 'kernel-%s-%s' % (kernel, arch))
                state = 'built'
                if os.path.islink(link) and os.path.realpath(link) == os.path.realpath(os.path.join(kdir, arch)):
                    state = 'installed'
                prev = entry['kernels'].get(kernel)
                if prev is None or STATE_RANK[state] > STATE_RANK[prev['state']]:
                    entry['kernels'][kernel] = {'state': state, 'arch': arch, 'flags': [], 'module_dir': mdir,
                                                'built_mtime': built_mtime}
    return result


def list_module_names(dkms_tree='/var/lib/dkms'):
    try:
        return sorted(n for n in os.listdir(dkms_tree) if os.path.isdir(os.path.join(dkms_tree, n)))
    except OSError:
        return []


# --------------------------------------------------------------------------
# Kernels and headers


def installed_kernels(modules_dir='/lib/modules'):
    """Kernel releases with a directory under /lib/modules (sorted by version)."""
    try:
        names = [n for n in os.listdir(modules_dir) if os.path.isdir(os.path.join(modules_dir, n))]
    except OSError:
        return []
    return sorted(names, key=version_key)


def has_headers(kernel, modules_dir='/lib/modules'):
    """True when /lib/modules/<kernel>/build resolves to a tree with include/
    (the test dkms itself uses)."""
    build = os.path.join(modules_dir, kernel, 'build')
    return os.path.isdir(os.path.join(build, 'include'))


def version_key(release):
    """Sort key for kernel releases: numbers compare as numbers."""
    parts = re.split(r'(\d+)', release)
    return [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in parts if p != '']


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


# --------------------------------------------------------------------------
# The dkms module's decisions: input checks, the kernels to act on, the plan
# of dkms commands, its check-mode prediction and the failure messages. The
# module runs dkms and nothing else.

DKMS_TREE = '/var/lib/dkms'
SOURCE_TREE = '/usr/src'
MODULES_DIR = '/lib/modules'
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
