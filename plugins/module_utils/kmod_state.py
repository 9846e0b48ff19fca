# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of a DKMS-managed kernel module on a host, gathered in one pass:
kernels (running, next boot, headers, built-in, DKMS state and module file),
the loaded module, the initramfs copies and modprobe.d files.  This is what
kmod_info returns and what every verdict of the kmod role (kmod_verdicts)
is computed from (gather_state), and what failover_drift compares with its
policy (gather_kmod): both views are read by the same functions below, from
the directories a HostPaths names.  Reads files; runs a command only for
dkms_status_source=command."""

from __future__ import annotations

import os
import time

from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import (
    STATE_RANK,
    has_headers,
    installed_kernels,
    parse_status,
    read_tree,
    version_key,
    versions_from_entries,
)
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_os import OS_RELEASE, os_profile, read_os_release
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import (
    boot_kernels,
    dkms_ko_path,
    find_ko,
    initramfs_find_module,
    initramfs_path,
    kernel_builtin,
    next_boot_kernel,
    read_ko,
    read_modprobe_conf,
)
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_sysfs import (
    SYS_MODULE,
    KmodError,
    loaded_module,
    validate_dkms_module,
)
from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import (
    CMDLINE,
    MODPROBE_DIRS,
    boot_options,
    modprobe_file_items,
    wanted_content,
)

MODULES_DIR = '/lib/modules'
BOOT_DIR = '/boot'
DKMS_TREE = '/var/lib/dkms'


class HostPaths:
    """Where the state is read: the host's own directories and running kernel
    by default; the unit tests point these at a fake tree."""

    def __init__(self, root='/', sys_module=SYS_MODULE, modules_dir=MODULES_DIR, boot_dir=BOOT_DIR,
                 dkms_tree=DKMS_TREE, running=None, modprobe_dirs=MODPROBE_DIRS, cmdline=CMDLINE):
        self.root = root
        self.sys_module = sys_module
        self.modules_dir = modules_dir
        self.boot_dir = boot_dir
        self.dkms_tree = dkms_tree
        self.running = running or os.uname().release
        self.modprobe_dirs = modprobe_dirs
        self.cmdline = cmdline


def _flat_kernels(d):
    return dict((k, kd['state']) for k, kd in d['kernels'].items())


def _no_ko():
    return dict(path=None, exists=False, compressed=None, srcversion=None, version=None, vermagic=None,
                name=None, error=None)


def dkms_state(versions, wanted, kernel):
    """(state, version) of the DKMS module for ``kernel``: the highest state
    of the versions in ``versions`` (read_tree or dkms status), only
    ``wanted`` when given; ('absent', None) when none."""
    best_state, best_version = 'absent', None
    for v, d in sorted(versions.items(), key=lambda x: version_key(x[0])):
        if wanted and v != wanted:
            continue
        kd = d['kernels'].get(kernel)
        st = kd['state'] if kd else d['state']
        if STATE_RANK.get(st, 0) > STATE_RANK.get(best_state, 0) or (best_state == 'absent' and st == 'broken'):
            best_state, best_version = st, (v if kd else None)
    return best_state, best_version


def pick_version(versions, wanted, running):
    """The one DKMS version to compare: the wanted one, else the one installed
    for the running kernel, else the newest in the tree (None when the tree
    is empty)."""
    if wanted:
        return wanted
    for version, data in versions.items():
        if data['kernels'].get(running, {}).get('state') == 'installed':
            return version
    if versions:
        return sorted(versions, key=version_key)[-1]
    return None


def dkms_module(kernel, modname, paths, build_dir=None):
    """read_ko() of the module DKMS installed for ``kernel`` (kmod_files.dkms_ko_path),
    else of MODNAME.ko in ``build_dir`` (a DKMS build output directory) when
    given; _no_ko() when there is none."""
    path = dkms_ko_path(kernel, modname, paths.modules_dir)
    if path is None and build_dir:
        path = find_ko(build_dir, modname)
    return read_ko(path) if path else _no_ko()


def running_builtin(info, kernel_builtin_running):
    """The module is built into the running kernel: /sys/module shows it
    without initstate, or the running kernel's config/modules.builtin says so."""
    return bool(info['builtin'] or kernel_builtin_running)


def initramfs_module(kernel, modname, paths):
    """kmod_files.initramfs_find_module() for the initramfs image of ``kernel``."""
    return initramfs_find_module(initramfs_path(kernel, paths.boot_dir), modname)


def gather_kernel(kernel, modname, versions, wanted, running, next_boot, paths=None):
    paths = paths or HostPaths(running=running)
    kdir = os.path.join(paths.modules_dir, kernel)
    builtin, cfg, cfg_src = kernel_builtin(kernel, modname, paths.boot_dir, paths.modules_dir)
    best_state, best_version = dkms_state(versions, wanted, kernel)
    dkms_mod = dkms_module(kernel, modname, paths)
    stock_path = find_ko(os.path.join(kdir, 'kernel', 'net', 'core'), modname)
    stock = read_ko(stock_path) if stock_path else _no_ko()
    return dict(modules_dir=os.path.isdir(kdir), has_headers=has_headers(kernel, paths.modules_dir),
                config_failover=cfg, config_source=cfg_src, failover_builtin=builtin,
                dkms_state=best_state, dkms_version=best_version, dkms_module=dkms_mod,
                stock_module=stock, running=kernel == running, next_boot=kernel == next_boot)


def read_initramfs(kernel_state, kernel, modname, paths=None):
    """Adds ``initramfs`` to one kernel's state: MODULE.ko inside its image,
    and ``patched`` (it is the module DKMS installed; False when the image
    has no MODULE.ko at all; None when unknown)."""
    t = time.monotonic()
    ird = initramfs_module(kernel, modname, paths or HostPaths())
    ird['seconds'] = round(time.monotonic() - t, 4)
    dsv = kernel_state['dkms_module']['srcversion']
    ird['patched'] = (ird['srcversion'] == dsv) if ird['found'] and ird['srcversion'] and dsv else (
        False if ird['exists'] and not ird['found'] and not ird['error'] else None)
    kernel_state['initramfs'] = ird
    return ird


def gather_state(p, get_bin_path, run_command, paths=None):
    """The whole state for the parameters ``p`` (kmod_info's options).

    ``get_bin_path(name)`` finds a command, ``run_command(argv)`` runs one
    with LC_ALL=C and returns (rc, out, err) (AnsibleModule's, in a module);
    ``paths`` (a HostPaths) says where to read, the host itself by default.
    Raises KmodError with a message for the user on bad names or a failing
    dkms status."""
    t0 = time.monotonic()
    validate_dkms_module(p['module'], p['dkms_name'], p.get('dkms_version'),
                         (p.get('kernels') or []) + (p.get('initramfs_kernels') or []))
    p = dict(dict(kernels=None, initramfs_kernels=[], modprobe_conf=None, slave_rename_ok=None,
                  dkms_status_source='tree', dkms_version=None), **p)
    modname, name, wanted = p['module'], p['dkms_name'], p['dkms_version']

    paths = paths or HostPaths()
    running = paths.running
    nb, nb_src = next_boot_kernel(paths.root, paths.boot_dir)

    # DKMS
    dkms_bin = get_bin_path('dkms')
    flags = {}
    if p['dkms_status_source'] == 'command':
        if not dkms_bin:
            raise KmodError("dkms_status_source=command but dkms is not installed; use the default "
                            "dkms_status_source=tree or install the 'dkms' package")
        rc, out, err = run_command([dkms_bin, 'status', '-m', name])
        if rc != 0:
            raise KmodError("dkms status -m %s failed (rc=%d): %s" % (name, rc, (err or out).strip()))
        versions = versions_from_entries(parse_status(out), name)
        for v, d in versions.items():
            for k, kd in d['kernels'].items():
                if kd['flags']:
                    flags.setdefault(v, {})[k] = kd['flags']
    else:
        versions = read_tree(name, paths.dkms_tree)
    dkms = dict(name=name, wanted_version=wanted, source=p['dkms_status_source'], installed=bool(dkms_bin),
                versions=dict((v, {'state': d['state'], 'kernels': _flat_kernels(d)}) for v, d in versions.items()),
                flags=flags)

    # kernels to report
    if p['kernels']:
        klist = list(dict.fromkeys(p['kernels']))
    else:
        ks = set(installed_kernels(paths.modules_dir)) | set(boot_kernels(paths.boot_dir)) | {running}
        if nb:
            ks.add(nb)
        klist = sorted(ks, key=version_key)
    kernels = {}
    for k in klist:
        kernels[k] = gather_kernel(k, modname, versions, wanted, running, nb, paths)

    # loaded module
    info = loaded_module(modname, paths.sys_module)
    run_dkms_src = kernels.get(running, {}).get('dkms_module', {}).get('srcversion')
    info['matches_dkms'] = (info['srcversion'] == run_dkms_src) if info['srcversion'] and run_dkms_src else None

    # initramfs
    wanted_ird = []
    for k in p['initramfs_kernels']:
        if k == 'running':
            k = running
        elif k == 'next_boot':
            if not nb:
                continue
            k = nb
        elif k == 'all':
            wanted_ird.extend(klist)
            continue
        wanted_ird.append(k)
    for k in dict.fromkeys(wanted_ird):
        if k not in kernels:
            kernels[k] = gather_kernel(k, modname, versions, wanted, running, nb, paths)
        read_initramfs(kernels[k], k, modname, paths)

    for kk in kernels.values():
        dsv = kk['dkms_module']['srcversion']
        kk['dkms_matches_loaded'] = (dsv == info['srcversion']) if dsv and info['srcversion'] else None

    modprobe = read_modprobe_conf(p['modprobe_conf']) if p['modprobe_conf'] else None
    if modprobe is not None:
        # the file the kmod role writes for the wanted (else the installed) DKMS version, judged as drift judges it
        modprobe['drift'] = [] if p['slave_rename_ok'] is None else modprobe_file_items(
            p['modprobe_conf'], wanted_content(modname, p['slave_rename_ok'], name,
                                               pick_version(versions, wanted, running)), modprobe)

    nbk = kernels.get(nb) if nb else None
    nb_installed = (nbk['dkms_state'] == 'installed') if nbk else None
    nb_ird = nbk.get('initramfs', {}).get('patched') if nbk else None
    nb_srcversion = nbk['dkms_module']['srcversion'] if nbk else None
    summary = dict(
        patched_loaded=info['patched'],
        loaded_matches_dkms=info['matches_dkms'],
        running_dkms_installed=kernels.get(running, {}).get('dkms_state') == 'installed',
        next_boot_dkms_installed=nb_installed,
        next_boot_initramfs_patched=nb_ird,
        next_boot_ready=bool(nb_installed) and nb_ird is not False,
        failover_builtin_running=running_builtin(info, kernels.get(running, {}).get('failover_builtin')),
        reboot_required=bool(nb_installed and nb_srcversion and info['srcversion'] != nb_srcversion),
    )
    return dict(running_kernel=running, next_boot_kernel=nb, next_boot_source=nb_src,
                loaded=info, dkms=dkms, kernels=kernels, modprobe_conf=modprobe, summary=summary,
                elapsed_seconds=round(time.monotonic() - t0, 4))


def headers_package(kernel, root='/'):
    """The package with the headers of ``kernel`` on this OS (os-release under ``root``), or None."""
    profile = os_profile(read_os_release([os.path.join(root, p.lstrip('/')) for p in OS_RELEASE]))
    return profile['headers_package'].format(kernel=kernel) if profile else None


def gather_kmod(params, paths=None):
    """What failover_drift compares with its policy (``params``: its options),
    from files only: one DKMS version (pick_version) for the running and the
    next-boot kernel, the loaded module, the modprobe.d file and options, and
    the next-boot kernel's initramfs when that check is asked for."""
    paths = paths or HostPaths()
    modname = params['module']
    running = paths.running
    nb, nb_source = next_boot_kernel(paths.root, paths.boot_dir)
    versions = read_tree(params['dkms_name'], paths.dkms_tree)
    version = pick_version(versions, params['dkms_version'], running)
    kernels = {}
    for kernel in dict.fromkeys([running] + ([nb] if nb else [])):
        state = dkms_state(versions, version, kernel)[0] if version else 'absent'
        # no module file under /lib/modules: the one DKMS built for that kernel, if any
        build_dir = versions.get(version, {}).get('kernels', {}).get(kernel, {}).get('module_dir') if version else None
        ko = dkms_module(kernel, modname, paths, build_dir)
        kernels[kernel] = {'dkms_state': state, 'srcversion': ko['srcversion'], 'module_path': ko['path'],
                           'running': kernel == running, 'next_boot': kernel == nb,
                           'has_headers': has_headers(kernel, paths.modules_dir),
                           'headers_package': headers_package(kernel, paths.root)}
    info = loaded_module(modname, paths.sys_module)
    builtin = kernel_builtin(running, modname, paths.boot_dir, paths.modules_dir)[0]
    loaded = {
        'loaded': info['loaded'],
        'builtin': running_builtin(info, builtin),
        'patched': info['patched'],
        'srcversion': info['srcversion'],
        'version': info['version'],
        'slave_rename_ok': info['slave_rename_ok'],
        'live_rename': info['live_rename'],
    }
    modprobe = read_modprobe_conf(params['modprobe_file']) if params['modprobe_file'] else None
    options = None
    if not params.get('checks') or {'modprobe_bad_option', 'boot_param'} & set(params['checks']):
        options = boot_options(modname, paths.modprobe_dirs, paths.cmdline)
    initramfs = None
    # the initramfs read is the slowest check: skip it when it is not asked for
    if params['check_initramfs'] and (not params.get('checks') or 'initramfs' in params['checks']):
        kernel = nb or running
        found = initramfs_module(kernel, modname, paths)
        initramfs = {'kernel': kernel, 'path': found['path'], 'exists': found['exists'], 'found': found['found'],
                     'member': found['member'], 'srcversion': found['srcversion'], 'error': found['error']}
    return {'running_kernel': running, 'next_boot_kernel': nb, 'next_boot_source': nb_source,
            'dkms_version': version, 'dkms_versions': sorted(versions, key=version_key), 'kernels': kernels,
            'loaded_module': loaded, 'modprobe': modprobe, 'modprobe_options': options,
            'initramfs': initramfs}
