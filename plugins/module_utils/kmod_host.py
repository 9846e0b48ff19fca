# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts the kmod role's preflight needs besides the module state:
installed packages, Secure Boot, a DKMS signing key, and whether a kernel's
headers define a symbol.  Read-only.  Commands run through a
``run_command(argv) -> (rc, out, err)`` callable (AnsibleModule's in a
module, subprocess in the tests)."""

from __future__ import annotations

import glob
import os
import re

EFI_SECURE_BOOT = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e0f8be4df61'
DKMS_FRAMEWORK_CONFS = ('/etc/dkms/framework.conf', '/etc/dkms/framework.conf.d/*.conf')
_SIGNING_RE = re.compile(r'^[ \t]*(sign_tool|mok_signing_key)=', re.M)


def installed_packages(argv, run_command):
    """Names of the installed packages from a package query whose lines are
    ``NAME<TAB>STATUS`` (dpkg-query's ${db:Status-Status}; rpm lines say
    ``installed``).  A failing query (no package database) gives no package."""
    rc, out, _err = run_command(list(argv))
    if rc != 0:
        return set()
    names = set()
    for line in out.splitlines():
        name, sep, status = line.partition('\t')
        if sep and status.strip() == 'installed':
            names.add(name.strip())
    return names


def secure_boot_state(mokutil, run_command, efivar=EFI_SECURE_BOOT):
    """'enabled', 'disabled' or 'unknown: <what mokutil said>'.

    mokutil --sb-state when ``mokutil`` (its path) is given; else the EFI
    SecureBoot variable (4 attribute bytes, then the value); no variable:
    disabled (a BIOS boot has no Secure Boot)."""
    if mokutil:
        rc, out, err = run_command([mokutil, '--sb-state'])
        text = (out or '') + (err or '')
        if 'SecureBoot enabled' in text:
            return 'enabled'
        if 'SecureBoot disabled' in text:
            return 'disabled'
        return 'unknown: %s' % (text.strip() or 'rc=%d' % rc)
    try:
        with open(efivar, 'rb') as f:
            data = f.read(5)
    except OSError:
        return 'disabled'
    return 'enabled' if len(data) == 5 and data[4] == 1 else 'disabled'


def signing_source(mok_key, mok_cert, source_dir, framework_confs=DKMS_FRAMEWORK_CONFS):
    """How DKMS would sign the module: 'mok <key>' when the key and the
    certificate exist and are not empty, 'config <file>' when a DKMS
    framework file (or the module's dkms.conf) sets sign_tool or
    mok_signing_key, else 'none'."""
    if all(os.path.isfile(p) and os.path.getsize(p) > 0 for p in (mok_key, mok_cert)):
        return 'mok %s' % mok_key
    paths = []
    for pattern in framework_confs:
        paths.extend(sorted(glob.glob(pattern)) if '*' in pattern else [pattern])
    if source_dir:
        paths.append(os.path.join(source_dir, 'dkms.conf'))
    for path in paths:
        try:
            with open(path, 'r', encoding='utf-8', errors='replace') as f:
                if _SIGNING_RE.search(f.read()):
                    return 'config %s' % path
        except OSError:
            continue
    return 'none'


def headers_define(kernel, symbol, modules_dir='/lib/modules'):
    """Whether the kernel's headers (build/ or source/) name ``symbol`` as a
    word in include/linux/netdevice.h; False without headers."""
    word = re.compile(r'\b%s\b' % re.escape(symbol))
    for sub in ('build', 'source'):
        path = os.path.join(modules_dir, kernel, sub, 'include', 'linux', 'netdevice.h')
        try:
            with open(path, 'r', encoding='utf-8', errors='replace') as f:
                if word.search(f.read()):
                    return True
        except OSError:
            continue
    return False
