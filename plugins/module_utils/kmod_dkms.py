# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKMS helpers: parse ``dkms status`` output, read the DKMS tree directly,
read dkms.conf, find kernels and headers. The dkms module's planning (commands,
prediction, failure messages) is in dkms_plan.py, which read-only modules do not load.

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


# Default locations of the DKMS tree, the source trees and the kernels' modules.
DKMS_TREE = '/var/lib/dkms'
SOURCE_TREE = '/usr/src'
MODULES_DIR = '/lib/modules'
