# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kmod role's decisions (module_utils/kmod_verdicts.py) on host states
shaped like kmod_state.gather_state's."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_verdicts as kv

RUN = '6.1.0-57-amd64'


def kernel(**kw):
    k = dict(modules_dir=True, has_headers=True, failover_builtin=False, dkms_state='absent',
             dkms_module=dict(exists=False, path=None, srcversion=None), initramfs=None)
    k.update(kw)
    return k


def host(**kw):
    s = dict(running_kernel=RUN,
             kernels={RUN: kernel()},
             loaded=dict(loaded=True, builtin=False, patched=False, matches_dkms=None, holders=['net_failover'],
                         srcversion='AAA', version=None, slave_rename_ok=None, live_rename=None),
             summary=dict(failover_builtin_running=False),
             dkms=dict(versions={}), modprobe_conf=None)
    s.update(kw)
    return s


P = dict(state='present', slave_rename_ok=True, manage_packages=True, secure_boot_check=True,
         mok_key='/var/lib/dkms/mok.key', mok_cert='/var/lib/dkms/mok.pub',
         modprobe_conf='/etc/modprobe.d/virtnet-failover.conf', initramfs=True)


def p(**kw):
    return dict(P, **kw)


def refusals(state, params, targets=(RUN,), base=(), headers=(), sb='disabled', signing='none', flags=None):
    return kv.preflight_refusals(state, params, list(targets), list(base), list(headers), sb, signing, flags or {})


# ---------------------------------------------------------------- targets

def test_targets_running_is_the_running_kernel_only():
    s = host(kernels={RUN: kernel(), '6.1.0-58-amd64': kernel()})
    assert kv.target_kernels(s, 'running') == [RUN]


def test_targets_all_adds_kernels_with_modules_and_headers_in_version_order():
    s = host(kernels={RUN: kernel(has_headers=False), '6.10.1-amd64': kernel(), '6.9.2-amd64': kernel(),
                      '6.11.0-amd64': kernel(modules_dir=False), '6.12.0-amd64': kernel(has_headers=False)})
    assert kv.target_kernels(s, 'all') == [RUN, '6.9.2-amd64', '6.10.1-amd64']


def test_initramfs_kernels_absent_adds_kernels_dkms_still_has():
    s = host(kernels={RUN: kernel(), 'old': kernel(dkms_state='installed'), 'gone': kernel(dkms_state='built', modules_dir=False)})
    assert kv.initramfs_kernels(s, [RUN], 'present') == [RUN]
    assert kv.initramfs_kernels(s, [RUN], 'absent') == [RUN, 'old']


def test_missing_packages_names_headers_of_targets_without_them():
    s = host(kernels={RUN: kernel(has_headers=False), 'k2': kernel()})
    base, headers = kv.missing_packages(s, [RUN, 'k2'], {'python3-pyroute2'}, ['dkms', 'python3-pyroute2'],
                                        'linux-headers-{kernel}')
    assert base == ['dkms'] and headers == ['linux-headers-%s' % RUN]


# ---------------------------------------------------------------- preflight

def test_no_refusal_on_a_fine_host():
    assert refusals(host(), p()) == []


def test_builtin_kernel_is_refused_by_config_or_by_sysfs():
    s = host(kernels={RUN: kernel(failover_builtin=True)})
    r = refusals(s, p())
    assert [(i['kind'], i['kernel'], i['phase']) for i in r] == [('builtin', RUN, 'preflight')]
    assert 'failover is built into the kernel (CONFIG_FAILOVER=y)' in r[0]['msg']
    s = host(summary=dict(failover_builtin_running=True))
    assert [i['kind'] for i in refusals(s, p())] == ['builtin']


def test_missing_headers_and_dkms_refused_only_when_packages_are_not_managed():
    args = dict(base=['dkms', 'python3-pyroute2'], headers=['linux-headers-%s' % RUN])
    assert refusals(host(), p(), **args) == []
    r = refusals(host(), p(manage_packages=False), **args)
    assert [i['kind'] for i in r] == ['headers_missing', 'package_missing']
    assert r[0]['msg'].startswith('kernel headers missing: install linux-headers-%s ' % RUN)
    assert r[1]['msg'] == 'package missing: install dkms, or set kmod_manage_packages: true.'


@pytest.mark.parametrize('kernel_release, flag, refused', [
    ('4.19.0-27-amd64', False, True),
    ('4.19.0-27-amd64', True, False),   # the 4.19.y backport
    ('5.1.0-1-amd64', False, False),
    ('5.10.0-33-amd64', False, False),
    ('custom', False, False),           # no series: not judged
])
def test_old_kernel_without_the_flag_is_refused_only_for_slave_rename_ok(kernel_release, flag, refused):
    s = host(running_kernel=kernel_release, kernels={kernel_release: kernel()})
    flags = {kernel_release: flag}
    r = refusals(s, p(), targets=[kernel_release], flags=flags)
    assert [i['kind'] for i in r] == (['no_live_rename'] if refused else [])
    assert refusals(s, p(slave_rename_ok=False), targets=[kernel_release], flags=flags) == []


def test_a_boot_source_that_overrides_the_role_file_is_refused_with_its_remedy():
    bp = {"kind": "boot_param", "subject": "/proc/cmdline", "actual": "slave_rename_ok=0",
          "message": "the kernel command line, which modprobe reads after /etc/modprobe.d/virtnet-failover.conf, "
                     "gives failover slave_rename_ok=0",
          "remedy": "remove failover.slave_rename_ok from the kernel command line (the boot loader's configuration)"}
    out = kv.preflight_refusals(host(), p(), [RUN], [], [], "disabled", "none", {}, [bp])
    assert [(i["kind"], i["phase"]) for i in out] == [("boot_param", "preflight")]
    assert "would boot with slave_rename_ok=0 against the policy" in out[0]["msg"]
    assert "remove failover.slave_rename_ok from the kernel command line" in out[0]["msg"]
    assert kv.preflight_refusals(host(), p(state="absent"), [RUN], [], [], "disabled", "none", {}, [bp]) == []


def test_secure_boot_without_key_is_refused_unless_the_check_is_off():
    r = refusals(host(), p(), sb='enabled', signing='none')
    assert [i['kind'] for i in r] == ['secure_boot_unsigned']
    assert 'mokutil --import /var/lib/dkms/mok.pub' in r[0]['msg']
    assert refusals(host(), p(), sb='enabled', signing='mok /var/lib/dkms/mok.key') == []
    assert refusals(host(), p(secure_boot_check=False), sb='enabled') == []
    assert refusals(host(), p(), sb='unknown: no EFI') == []


def test_absent_is_never_refused():
    s = host(kernels={RUN: kernel(failover_builtin=True)})
    assert refusals(s, p(state='absent', manage_packages=False), base=['dkms'], sb='enabled') == []


def test_refusal_messages_are_one_line():
    r = refusals(host(kernels={RUN: kernel(failover_builtin=True)}), p(), sb='enabled')
    assert r and all('\n' not in i['msg'] and '  ' not in i['msg'] for i in r)


# ---------------------------------------------------------------- initramfs

def ird(**kw):
    d = dict(exists=True, found=True, patched=True, member='usr/lib/modules/%s/updates/dkms/failover.ko' % RUN)
    d.update(kw)
    return d


@pytest.mark.parametrize('image, mtime, state, stale', [
    (ird(), 200, 'present', False),
    (ird(patched=False), 200, 'present', True),       # not the DKMS module
    (ird(), 50, 'present', True),                     # older than the modprobe.d file
    (ird(patched=None), 200, 'present', False),       # unknown: not judged
    (ird(exists=False, patched=None), None, 'present', False),
    (ird(), 200, 'absent', True),                     # still a DKMS copy
    (ird(member='usr/lib/modules/k/kernel/net/core/failover.ko'), 200, 'absent', False),
])
def test_stale_initramfs(image, mtime, state, stale):
    s = host(kernels={RUN: kernel(initramfs=image)})
    assert kv.stale_initramfs(s, [RUN], state, {RUN: mtime}, 100 if state == 'present' else None) == ([RUN] if stale else [])


# ---------------------------------------------------------------- activation

def loaded(s, **kw):
    s = copy.deepcopy(s)
    s['loaded'].update(kw)
    return s


def test_stock_module_loaded_needs_a_reboot_with_its_holders_in_the_reason():
    a = kv.activation(host(), 'present', [RUN], False, True)
    assert a == dict(runtime_param=False, reboot_required=True, reboot_reason=(
        'the stock failover module is loaded (held by net_failover) and cannot be replaced live; '
        'the patched module loads from the initramfs at the next boot'))


def test_patched_and_current_module_gets_the_value_at_run_time_only_when_it_differs():
    s = loaded(host(), patched=True, matches_dkms=True, slave_rename_ok=False)
    assert kv.activation(s, 'present', [RUN], False, False) == dict(runtime_param=True, reboot_required=False, reboot_reason='')
    assert not kv.activation(s, 'present', [RUN], False, False, slave_rename_ok=False)['runtime_param']
    s = loaded(host(), patched=True, matches_dkms=True, slave_rename_ok=True)
    assert kv.activation(s, 'present', [RUN], False, False) == dict(runtime_param=False, reboot_required=False, reboot_reason='')


def test_older_patched_build_needs_a_reboot_and_check_mode_predicts_it_from_dkms():
    s = loaded(host(), patched=True, matches_dkms=False)
    assert kv.activation(s, 'present', [RUN], False, False)['reboot_required']
    assert 'previous patched' in kv.activation(s, 'present', [RUN], False, False)['reboot_reason']
    s = loaded(host(), patched=True, matches_dkms=True)
    assert kv.activation(s, 'present', [RUN], True, True)['reboot_required']
    assert not kv.activation(s, 'present', [RUN], True, False)['reboot_required']


def test_no_reboot_when_not_loaded_builtin_or_running_kernel_not_targeted():
    assert not kv.activation(loaded(host(), loaded=False), 'present', [RUN], False, True)['reboot_required']
    assert not kv.activation(loaded(host(), builtin=True), 'present', [RUN], False, True)['reboot_required']
    assert not kv.activation(host(), 'present', ['other'], False, True)['reboot_required']


def test_absent_reboots_only_while_the_patched_module_is_loaded():
    assert not kv.activation(host(), 'absent', [RUN], False, True)['reboot_required']
    a = kv.activation(loaded(host(), patched=True), 'absent', [RUN], False, False)
    assert a['reboot_required'] and not a['runtime_param'] and a['reboot_reason'].endswith('the stock module loads from the initramfs at the next boot')


# ---------------------------------------------------------------- verify

def good_present():
    return host(kernels={RUN: kernel(dkms_state='installed', dkms_module=dict(exists=True, path='/x', srcversion='BBB'),
                                     initramfs=ird())},
                loaded=dict(loaded=True, builtin=False, patched=True, matches_dkms=True, holders=[], srcversion='BBB',
                            version='1.1.0', slave_rename_ok=True, live_rename='flag'),
                modprobe_conf=dict(exists=True, drift=[]))


def kinds(items):
    return [i['kind'] for i in items]


def test_verify_present_ok():
    assert kv.verify_problems(good_present(), p(), []) == ([], False)


def test_verify_present_problems_each_named():
    s = good_present()
    s['loaded'].update(slave_rename_ok=False)
    s['modprobe_conf']['drift'] = [{'kind': 'modprobe_file', 'message': 'F is not the file the kmod role writes'}]
    s['kernels'][RUN]['initramfs'] = ird(patched=False, member=None)
    items, pending = kv.verify_problems(s, p(), [])
    assert kinds(items) == ['slave_rename_ok', 'modprobe_file', 'initramfs'] and not pending
    assert items[1]['msg'] == 'F is not the file the kmod role writes'  # the drift item's message
    assert items[2]['msg'].endswith('(no failover.ko)')
    assert kinds(kv.verify_problems(s, p(initramfs=False), [])[0]) == ['slave_rename_ok', 'modprobe_file']


def test_verify_stock_loaded_after_install_is_pending_reboot():
    s = good_present()
    s['loaded'].update(patched=False, matches_dkms=False, slave_rename_ok=None)
    items, pending = kv.verify_problems(s, p(), [])
    assert kinds(items) == ['module_not_patched', 'module_stale'] and pending


def test_verify_not_installed_is_broken_not_pending():
    s = good_present()
    s['kernels'][RUN]['dkms_state'] = 'built'
    items, pending = kv.verify_problems(s, p(), [])
    assert kinds(items) == ['dkms_state'] and not pending


def test_verify_absent():
    s = host(kernels={RUN: kernel(initramfs=ird(member='usr/lib/modules/k/kernel/net/core/failover.ko'))},
             modprobe_conf=dict(exists=False))
    assert kv.verify_problems(s, p(state='absent'), []) == ([], False)
    s = host(kernels={RUN: kernel(dkms_module=dict(exists=True, path='/lib/modules/x/updates/dkms/failover.ko'),
                                  initramfs=ird())},
             loaded=dict(host()['loaded'], patched=True), dkms=dict(versions={'1.1.0': {}}),
             modprobe_conf=dict(exists=True))
    items, pending = kv.verify_problems(s, p(state='absent'), ['/usr/src/virtnet-failover-1.1.0'])
    assert kinds(items) == ['module_patched', 'dkms_versions', 'modprobe_file', 'dkms_module', 'leftovers', 'initramfs']
    assert pending and all(i['phase'] == 'verify' for i in items)
