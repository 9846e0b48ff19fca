# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every decision of the kmod role, from the state kmod_state.gather_state
returns: the target kernels, the missing packages, the preflight refusals,
the stale initramfs images, the activation plan (apply at run time, reboot,
or nothing) and the verdict of the role's verify.  Pure functions: no file,
no command.  Each refusal and problem is a dict with its phase, its kind,
the kernel it is about (or None) and a message that says what to do."""

from __future__ import annotations

import re

from ansible_collections.virtnet.failover.plugins.module_utils.kmod_dkms import version_key

# Kernels older than this have no IFF_LIVE_RENAME_OK unless a backport added it.
LIVE_RENAME_MIN_KERNEL = (5, 1)
LIVE_RENAME_FLAG = 'IFF_LIVE_RENAME_OK'
_DKMS_COPY_RE = re.compile(r'/(updates|extra)/')


def item(phase, kind, kernel, msg):
    return dict(phase=phase, kind=kind, kernel=kernel, msg=' '.join(msg.split()))


def target_kernels(state, kernels):
    """``kernels`` running: the running kernel; all: it and every kernel
    with modules and headers, in version order."""
    running = state['running_kernel']
    if kernels != 'all':
        return [running]
    with_headers = [k for k, v in state['kernels'].items() if v['modules_dir'] and v['has_headers']]
    return list(dict.fromkeys([running] + sorted(with_headers, key=version_key)))


def initramfs_kernels(state, targets, kmod_state):
    """present: the targets.  absent: the targets and every kernel DKMS
    still has a copy for; in both, only kernels with a modules directory."""
    kernels = state['kernels']
    wanted = list(targets)
    if kmod_state == 'absent':
        wanted += [k for k, v in kernels.items() if v['dkms_state'] not in ('absent', None)]
    return [k for k in dict.fromkeys(wanted) if kernels.get(k, {}).get('modules_dir')]


def missing_packages(state, targets, installed, base_packages, headers_package):
    """(missing base packages, missing headers packages); ``headers_package``
    names the headers package with ``{kernel}``."""
    base = [p for p in base_packages if p not in installed]
    headers = [headers_package.replace('{kernel}', k) for k in targets
               if not state['kernels'].get(k, {}).get('has_headers')]
    return base, headers


def kernel_series(kernel):
    m = re.match(r'^(\d+)\.(\d+)', kernel)
    return (int(m.group(1)), int(m.group(2))) if m else None


def needs_rename_flag(kernel):
    """A kernel older than 5.1 needs IFF_LIVE_RENAME_OK in its headers."""
    series = kernel_series(kernel)
    return series is not None and series < LIVE_RENAME_MIN_KERNEL


def builtin_kernels(state, targets):
    """Target kernels with the module built in (CONFIG_=y, modules.builtin,
    or built into the running kernel as /sys/module shows)."""
    running = state['running_kernel']
    return [k for k in targets
            if state['kernels'].get(k, {}).get('failover_builtin') is True
            or (k == running and state['summary']['failover_builtin_running'])]


def os_refusals(profile, message):
    """An OS without a profile (module_utils/kmod_os.py) is refused for both states."""
    return [] if profile else [item('preflight', 'os_unsupported', None, message)]


def preflight_refusals(state, p, targets, missing_base, missing_headers, secure_boot, signing, flag_kernels,
                       boot_params=()):
    """What stops the role before any change.  ``p``: kmod_state,
    slave_rename_ok, manage_packages, secure_boot_check, mok_key, mok_cert.
    ``flag_kernels``: kernel -> whether its headers define IFF_LIVE_RENAME_OK
    (asked only for the kernels needs_rename_flag names).  ``boot_params``:
    modprobe_policy.boot_param_items() for the role's file: a source the
    role does not own that would override its slave_rename_ok at boot."""
    if p['state'] != 'present':
        return []
    out = []
    for k in builtin_kernels(state, targets):
        out.append(item('preflight', 'builtin', k, (
            "kernel %s: failover is built into the kernel (CONFIG_FAILOVER=y), so a DKMS module cannot replace it. "
            "Boot a kernel flavour that builds failover as a module (CONFIG_FAILOVER=m in its /boot/config-RELEASE), "
            "or leave this host out of the play.") % k))
    if not p['manage_packages']:
        for pkg in missing_headers:
            out.append(item('preflight', 'headers_missing', None, (
                "kernel headers missing: install %s (DKMS builds against the target kernel's own headers), "
                "or set kmod_manage_packages: true.") % pkg))
        for pkg in missing_base:
            if pkg == 'dkms':
                out.append(item('preflight', 'package_missing', None,
                                "package missing: install %s, or set kmod_manage_packages: true." % pkg))
    if p['slave_rename_ok']:
        for k in targets:
            if needs_rename_flag(k) and not flag_kernels.get(k):
                out.append(item('preflight', 'no_live_rename', k, (
                    "kernel %s is older than %d.%d and its headers do not define %s (or are not installed): "
                    "kmod_slave_rename_ok: true cannot work there, the kernel refuses every rename of an UP interface. "
                    "Set kmod_slave_rename_ok: false, or boot a kernel >= 5.1 (or one with the 4.19.y backport, "
                    "headers installed).") % ((k,) + LIVE_RENAME_MIN_KERNEL + (LIVE_RENAME_FLAG,))))
    for bp in boot_params:
        out.append(item('preflight', 'boot_param', None, (
            "%s. The role does not change that source, so the host would boot with %s against the policy. "
            "Fix: %s; or set kmod_slave_rename_ok to that value.") % (bp['message'], bp['actual'], bp['remedy'])))
    if p['secure_boot_check'] and secure_boot == 'enabled' and signing == 'none':
        out.append(item('preflight', 'secure_boot_unsigned', None, (
            "Secure Boot is enabled and DKMS has no signing key, so the unsigned module would not load. "
            "Create and enroll a MOK (dkms uses %s and %s; enroll with mokutil --import %s and reboot to confirm), "
            "or set sign_tool / mok_signing_key in /etc/dkms/framework.conf, then run again. "
            "(kmod_secure_boot_check: false skips this check.)") % (p['mok_key'], p['mok_cert'], p['mok_cert'])))
    return out


def stale_initramfs(state, kernels, kmod_state, image_mtimes, modprobe_mtime):
    """Initramfs images an earlier run left out of date (it stopped before
    its handler).  present: the image lacks the module DKMS installed, or
    is older than the modprobe.d file; absent: it still carries a DKMS copy.
    ``image_mtimes``: kernel -> mtime of its image (missing: no image)."""
    out = []
    for k in kernels:
        ird = state['kernels'].get(k, {}).get('initramfs') or {}
        if not ird.get('exists'):
            continue
        if kmod_state == 'present':
            by_content = ird.get('patched') is False
            mtime = image_mtimes.get(k)
            by_date = modprobe_mtime is not None and mtime is not None and mtime < modprobe_mtime
            stale = by_content or by_date
        else:
            stale = bool(_DKMS_COPY_RE.search(ird.get('member') or ''))
        if stale:
            out.append(k)
    return out


def activation(state, kmod_state, targets, check_mode, dkms_changes, slave_rename_ok=True):
    """What activates the wanted module: the parameter at run time (the
    patched module is loaded with another slave_rename_ok), a reboot (the
    loaded module is not the wanted one and cannot be swapped live), or
    nothing.  ``dkms_changes``: DKMS installed something this run (or, in
    check mode, would)."""
    loaded = state['loaded']
    patched = bool(loaded['patched'])
    present = kmod_state == 'present'
    running_target = state['running_kernel'] in targets
    stale_build = (check_mode and dkms_changes) or (
        not check_mode and loaded.get('matches_dkms') is not None and not loaded['matches_dkms'])
    reboot = bool(loaded['loaded'] and not loaded['builtin'] and (
        (present and running_target and (not patched or stale_build)) or (not present and patched)))
    reason = ''
    if reboot:
        reason = ('the %s failover module is loaded (held by %s) and cannot be replaced live; '
                  'the %s module loads from the initramfs at the next boot') % (
            'previous patched' if patched else 'stock', ', '.join(loaded.get('holders') or []) or 'nothing',
            'patched' if present else 'stock')
    runtime = present and patched and loaded.get('slave_rename_ok') != bool(slave_rename_ok)
    return dict(runtime_param=runtime, reboot_required=reboot, reboot_reason=reason)


def verify_problems(state, p, leftovers):
    """The role's verify: problems of the active state (empty: ok) and
    whether the host only waits for its reboot.  ``p``: state,
    slave_rename_ok, modprobe_conf, initramfs.  ``leftovers``: DKMS files
    still on disk (state absent)."""
    loaded = state['loaded']
    running = state['running_kernel']
    rk = state['kernels'].get(running, {})
    ird = rk.get('initramfs') or {}
    dkms_mod = rk.get('dkms_module') or {}
    problems = []

    def problem(kind, msg):
        problems.append(item('verify', kind, running, msg))

    if p['state'] == 'present':
        wanted = bool(p['slave_rename_ok'])
        if rk.get('dkms_state') != 'installed':
            problem('dkms_state', 'DKMS state for %s is %s, not installed' % (running, rk.get('dkms_state')))
        if not loaded['patched']:
            problem('module_not_patched', 'the loaded failover module is not the patched one (no slave_rename_ok parameter)')
        if not loaded.get('matches_dkms'):
            problem('module_stale', 'srcversion of the loaded module (%s) differs from updates/dkms/failover.ko (%s)'
                    % (loaded.get('srcversion'), dkms_mod.get('srcversion') or 'none'))
        if loaded['patched'] and loaded.get('slave_rename_ok') != wanted:
            problem('slave_rename_ok', 'slave_rename_ok is %s, wanted %s' % (loaded.get('slave_rename_ok'), wanted))
        for found in (state.get('modprobe_conf') or {}).get('drift') or []:  # modprobe_policy.modprobe_file_items
            problem('modprobe_file', found['message'])
        if p['initramfs'] and ird.get('exists') and not ird.get('patched'):
            problem('initramfs', 'the initramfs of %s does not carry the DKMS module (%s)'
                    % (running, ird.get('member') or 'no failover.ko'))
        pending = bool(rk.get('dkms_state') == 'installed' and loaded['loaded']
                       and (not loaded['patched'] or not loaded.get('matches_dkms')))
    else:
        if loaded['patched']:
            problem('module_patched', 'the patched failover module is still loaded')
        versions = sorted((state.get('dkms') or {}).get('versions') or {})
        if versions:
            problem('dkms_versions', 'DKMS still knows %s' % ', '.join(versions))
        if (state.get('modprobe_conf') or {}).get('exists'):
            problem('modprobe_file', '%s still exists' % p['modprobe_conf'])
        if dkms_mod.get('exists'):
            problem('dkms_module', 'a DKMS failover.ko is still installed: %s' % dkms_mod.get('path'))
        if leftovers:
            problem('leftovers', 'leftovers: %s' % ', '.join(leftovers))
        if p['initramfs'] and _DKMS_COPY_RE.search(ird.get('member') or ''):
            problem('initramfs', 'the initramfs still carries %s' % ird['member'])
        pending = bool(loaded['patched'])
    return problems, pending
