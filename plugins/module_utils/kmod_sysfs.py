# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel module state from /sys/module: parameters, srcversion, built-in
or loadable.  Pure Python, no Ansible imports."""

from __future__ import annotations

import errno
import os
import re
import stat

from ansible_collections.virtnet.failover.plugins.module_utils.kernel_bool import kstrtobool, to_bool

SYS_MODULE = '/sys/module'

_NAME_RE = re.compile(r'^[A-Za-z0-9_.+-]+$')  # '+' occurs in kernel releases (6.12.118+deb13-amd64)

PATCHED_HINT = ("failover is the stock module; install the patched module with "
                "the virtnet.failover.kmod role")


class KmodError(Exception):
    """An error with a message meant for the user."""


def is_bool_text(value):
    """True for what the kernel shows for a bool/invbool parameter."""
    return str(value).strip() in ('Y', 'N')


def validate_name(kind, name):
    """Module and parameter names are single path components of safe characters."""
    if not name or '/' in name or name in ('.', '..') or '..' in name or '\0' in name:
        raise KmodError("invalid %s name %r: it must be a single name without '/' or '..'" % (kind, name))
    if not _NAME_RE.match(name):
        raise KmodError("invalid %s name %r: only letters, digits, '_', '-', '+' and '.' are allowed" % (kind, name))
    return name


def validate_dkms_module(module, dkms_name, dkms_version=None, kernels=()):
    """validate_name() for what kmod_info and failover_drift read by name: the
    kernel module, the DKMS package, its version (when given) and kernels."""
    validate_name('module', module)
    validate_name('DKMS module', dkms_name)
    if dkms_version:
        validate_name('DKMS version', dkms_version)
    for kernel in kernels:
        validate_name('kernel', kernel)


def module_dir(module, root=SYS_MODULE):
    # the kernel shows module names with '_' (modprobe accepts '-')
    return os.path.join(root, module.replace('-', '_'))


def _read(path):
    try:
        with open(path, 'r', encoding='utf-8', errors='replace') as f:
            return f.read().rstrip('\n')
    except OSError:
        return None


def list_params(module, root=SYS_MODULE):
    try:
        return sorted(os.listdir(os.path.join(module_dir(module, root), 'parameters')))
    except OSError:
        return []


def module_info(module, root=SYS_MODULE, read_params=True):
    """State of a module as /sys/module shows it.

    Keys: loaded (directory exists), builtin (no initstate: compiled into the
    kernel), initstate, refcnt, srcversion, version, holders, parameters
    (name -> value as shown, None when unreadable).
    """
    d = module_dir(module, root)
    info = dict(name=module, loaded=os.path.isdir(d), builtin=False, initstate=None, refcnt=None,
                srcversion=None, version=None, holders=[], parameters={})
    if not info['loaded']:
        return info
    info['initstate'] = _read(os.path.join(d, 'initstate'))
    info['builtin'] = info['initstate'] is None
    refcnt = _read(os.path.join(d, 'refcnt'))
    info['refcnt'] = int(refcnt) if refcnt and refcnt.isdigit() else None
    info['srcversion'] = _read(os.path.join(d, 'srcversion'))
    info['version'] = _read(os.path.join(d, 'version'))
    try:
        info['holders'] = sorted(os.listdir(os.path.join(d, 'holders')))
    except OSError:
        pass
    if read_params:
        for p in list_params(module, root):
            info['parameters'][p] = _read(os.path.join(d, 'parameters', p))
    return info


def loaded_module(module, root=SYS_MODULE):
    """module_info() plus the patched failover module's contract: patched
    (parameters/slave_rename_ok exists), slave_rename_ok as a bool and
    live_rename (both None when absent)."""
    info = module_info(module, root)
    params = info['parameters']
    info['patched'] = 'slave_rename_ok' in params
    info['slave_rename_ok'] = kstrtobool(params.get('slave_rename_ok'))
    info['live_rename'] = params.get('live_rename')
    return info


def param_path(module, param, root=SYS_MODULE):
    return os.path.join(module_dir(module, root), 'parameters', param)


def inspect_param(module, param, root=SYS_MODULE):
    """Locate a parameter and read it, raising KmodError with a clear message
    when the module is not loaded or has no such parameter.

    Returns dict(path, value, writable, mode)."""
    validate_name('module', module)
    validate_name('parameter', param)
    d = module_dir(module, root)
    if not os.path.isdir(d):
        # imported here: a link scan reads /sys/module without compiling kmod_files (and kmod_dkms)
        from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import kernel_builtin

        if kernel_builtin(os.uname().release, module)[0]:
            msg = ("module %s is built into the running kernel and has no parameters (no %s), so it has "
                   "no parameter %s" % (module, d, param))
            if module.replace('-', '_') == 'failover':
                msg += ("; a built-in failover (CONFIG_FAILOVER=y) cannot be replaced by the patched DKMS "
                        "module: use a kernel with CONFIG_FAILOVER=m")
            raise KmodError(msg)
        raise KmodError("module %s is not loaded (no %s): load it first, e.g. with "
                        "community.general.modprobe or 'modprobe %s'" % (module, d, module))
    path = param_path(module, param, root)
    if not os.path.exists(path):
        builtin = not os.path.exists(os.path.join(d, 'initstate'))
        known = list_params(module, root)
        if builtin:
            msg = "module %s is built into the kernel and has no parameter %s" % (module, param)
        else:
            msg = "module %s is loaded but has no parameter %s" % (module, param)
        msg += " (its parameters: %s)" % (', '.join(known) if known else 'none')
        if module.replace('-', '_') == 'failover':
            msg += "; " + PATCHED_HINT
        raise KmodError(msg)
    st = os.stat(path)
    try:
        with open(path, 'r', encoding='utf-8', errors='replace') as f:
            value = f.read().rstrip('\n')
    except OSError as e:
        raise KmodError("cannot read %s: %s" % (path, e.strerror))
    return dict(path=path, value=value, mode='%04o' % stat.S_IMODE(st.st_mode),
                writable=bool(st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)))


def desired_text(current, value):
    """Text to write for `value` given the current reading, and whether it
    equals the current value.  Bool parameters (shown as Y/N) accept any
    boolean spelling and are written as Y/N.

    Returns (text, equal)."""
    if is_bool_text(current):
        b = to_bool(value)
        if b is None:
            raise KmodError("parameter is boolean (the kernel shows %s); value %r is not a boolean: "
                            "use one of Y/N, 1/0, yes/no, true/false, on/off" % (current, value))
        text = 'Y' if b else 'N'
        return text, text == current.strip()
    if isinstance(value, bool):
        text = '1' if value else '0'
    else:
        text = str(value).strip()
    cur = current.strip()
    if text == cur:
        return text, True
    try:
        return text, int(text, 0) == int(cur, 0)
    except ValueError:
        return text, False


def write_param(path, text):
    """Write a parameter; raise KmodError with the kernel's refusal spelled out."""
    try:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
    except OSError as e:
        if e.errno == errno.EINVAL:
            raise KmodError("the kernel refused the value %r for %s (EINVAL: invalid argument)" % (text, path))
        if e.errno in (errno.EPERM, errno.EACCES):
            raise KmodError("permission denied writing %s (%s): run as root (become: true); "
                            "under kernel lockdown some parameters cannot be changed" % (path, e.strerror))
        if e.errno == errno.EBUSY:
            raise KmodError("the kernel refused the value %r for %s: device or resource busy (EBUSY)" % (text, path))
        raise KmodError("cannot write %r to %s: %s" % (text, path, e.strerror))
