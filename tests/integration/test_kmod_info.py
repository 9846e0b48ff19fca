# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.kmod_info through Ansible against this host.

The host runs a kernel without /boot files and with failover built in
(CONFIG_FAILOVER=y in /proc/config.gz), plus an installed 6.1 kernel tree
with headers.  One test also plants a throw-away kernel release
(0.0.0-vfotest-*) with a real failover.ko built here in /lib/modules and a
real initramfs-shaped image in /boot, to check the initramfs comparison end
to end; both are removed afterwards."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import time
import uuid

import pytest

from kmod_helpers import run_tasks  # noqa: E402  (also puts the collection on sys.path)

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_dkms as kd  # noqa: E402


def K(args, check=False):
    return {'module': 'kmod_info', 'args': args, 'check': check}


LOADED_KEYS = {'name', 'loaded', 'builtin', 'patched', 'srcversion', 'version', 'initstate', 'refcnt',
               'holders', 'parameters', 'slave_rename_ok', 'live_rename', 'matches_dkms'}
KERNEL_KEYS = {'running', 'next_boot', 'modules_dir', 'has_headers', 'config_failover', 'config_source',
               'failover_builtin', 'dkms_state', 'dkms_version', 'dkms_module', 'stock_module',
               'dkms_matches_loaded'}
SUMMARY_KEYS = {'patched_loaded', 'loaded_matches_dkms', 'running_dkms_installed', 'next_boot_dkms_installed',
                'next_boot_initramfs_patched', 'next_boot_ready', 'failover_builtin_running', 'reboot_required'}


def _config_value(kernel, option):
    """The option in /boot/config-<k>, else the headers' .config, else /proc/config.gz (running kernel)."""
    for path in ('/boot/config-' + kernel, '/lib/modules/%s/build/.config' % kernel) + (
            ('/proc/config.gz',) if kernel == os.uname().release else ()):
        if os.path.exists(path):
            opener = gzip.open if path.endswith('.gz') else open
            with opener(path, 'rt') as fh:
                for line in fh:
                    if line.startswith(option + '='):
                        return line.strip().split('=', 1)[1]
            return 'not set'
    return None


def _next_boot_by_rule():
    """Debian's rule with the real tools: /vmlinuz (or /boot/vmlinuz) target, else the newest image by sort -V."""
    for link in ('/vmlinuz', '/boot/vmlinuz'):
        if os.path.islink(link) and os.path.basename(os.readlink(link)).startswith('vmlinuz-'):
            return os.path.basename(os.readlink(link))[len('vmlinuz-'):]
    images = [n[len('vmlinuz-'):] for n in os.listdir('/boot') if n.startswith('vmlinuz-')
              and not n.endswith(('.old', '.bak'))] if os.path.isdir('/boot') else []
    if not images:
        return None
    return subprocess.run(['sort', '-V'], input='\n'.join(images) + '\n', capture_output=True, text=True,
                          check=True).stdout.split()[-1]


def test_kmod_info_host(tmp_path):
    conf = tmp_path / 'virtnet-failover.conf'
    conf.write_text('# managed\noptions failover slave_rename_ok=N\n')
    running = os.uname().release
    r = run_tasks([
        K({'initramfs_kernels': ['running', 'next_boot', 'all'], 'modprobe_conf': str(conf)}),
        K({'dkms_name': 'vfo-none', 'dkms_status_source': 'command'}, check=True),
        K({'kernels': ['../etc']}),
        K({'module': 'a/b'}),
        K({'modprobe_conf': str(tmp_path / 'missing.conf'), 'kernels': [running]}),
    ], tmp_path)
    a = r[0]
    assert not a['failed'] and not a['changed'], a
    assert a['running_kernel'] == running
    assert set(a['loaded']) == LOADED_KEYS and set(a['summary']) == SUMMARY_KEYS
    assert set(a['dkms']) == {'name', 'wanted_version', 'source', 'installed', 'versions', 'flags'}
    assert a['dkms']['name'] == 'virtnet-failover' and a['dkms']['source'] == 'tree'
    assert running in a['kernels']
    for k, kk in a['kernels'].items():
        assert KERNEL_KEYS <= set(kk), k
        assert kk['running'] is (k == running)
        # 'all' asked for every reported kernel's initramfs
        assert kk['initramfs']['path'] in ('/boot/initrd.img-%s' % k, '/boot/initramfs-%s.img' % k)
        if not os.path.exists(kk['initramfs']['path']):
            assert kk['initramfs']['exists'] is False and kk['initramfs']['patched'] is None
    # oracles read here, not through the module's helpers
    module_dirs = [k for k in os.listdir('/lib/modules') if os.path.isdir('/lib/modules/' + k)]
    for k in module_dirs:
        assert k in a['kernels'] and a['kernels'][k]['has_headers'] is os.path.isdir('/lib/modules/%s/build/include' % k)
    for k in module_dirs:  # the Debian headers of tests/host-packages.txt build failover as a module
        if os.path.exists('/lib/modules/%s/build/.config' % k) and not os.path.exists('/boot/config-' + k):
            assert a['kernels'][k]['config_failover'] == 'm' and a['kernels'][k]['failover_builtin'] is False
    cfg = _config_value(running, 'CONFIG_FAILOVER')
    assert a['kernels'][running]['config_failover'] == cfg
    if cfg == 'y':
        assert a['kernels'][running]['failover_builtin'] is True and a['summary']['failover_builtin_running']
    assert a['next_boot_kernel'] == _next_boot_by_rule()
    if a['next_boot_kernel'] is None:
        assert a['summary']['next_boot_dkms_installed'] is None and a['summary']['next_boot_ready'] is False
    assert a['loaded']['loaded'] is os.path.isdir('/sys/module/failover')
    assert a['loaded']['patched'] is os.path.exists('/sys/module/failover/parameters/slave_rename_ok')
    assert a['modprobe_conf']['options'] == {'failover': {'slave_rename_ok': 'N'}}
    assert a['modprobe_conf']['content'].startswith('# managed')
    assert a['elapsed_seconds'] < 2.0
    print('\n[timing] kmod_info on this host (module time, %d kernels, initramfs all): %.1f ms'
          % (len(a['kernels']), a['elapsed_seconds'] * 1e3))

    b = r[1]
    if shutil.which('dkms'):
        assert not b['failed'] and b['dkms']['source'] == 'command' and b['dkms']['versions'] == {}, b
        assert all(v['dkms_state'] == 'absent' for v in b['kernels'].values())
    else:
        assert b['failed'] and 'dkms is not installed' in b['msg']
    assert r[2]['failed'] and 'invalid kernel name' in r[2]['msg']
    assert r[3]['failed'] and 'invalid module name' in r[3]['msg']
    e = r[4]
    assert not e['failed'] and e['modprobe_conf']['exists'] is False and list(e['kernels']) == [running]


MODULE_C = r'''
#include <linux/module.h>
#include <linux/init.h>
static bool slave_rename_ok = true;
module_param(slave_rename_ok, bool, 0644);
static int __init t_init(void) { return 0; }
static void __exit t_exit(void) { }
module_init(t_init);
module_exit(t_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION("0.0.1");
'''


def _newc(entries):
    out = bytearray()
    for ino, (name, data, mode) in enumerate(list(entries) + [('TRAILER!!!', b'', 0)], 1):
        nb = name.encode() + b'\0'
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        out += ('070701' + ''.join('%08X' % v for v in fields)).encode() + nb
        out += b'\0' * ((4 - len(out) % 4) % 4) + data
        out += b'\0' * ((4 - len(out) % 4) % 4)
    return bytes(out)


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to plant a test kernel in /lib/modules and /boot')
def test_kmod_info_initramfs_end_to_end(tmp_path):
    hk = next((k for k in kd.installed_kernels() if kd.has_headers(k)), None)
    if not hk or not shutil.which('make'):
        pytest.skip('no kernel headers to build a real .ko')
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'failover.c').write_text(MODULE_C)
    (src / 'Makefile').write_text('obj-m := failover.o\n')
    subprocess.run(['make', '-s', '-C', '/lib/modules/%s/build' % hk, 'M=%s' % src, 'modules'],
                   check=True, stdout=subprocess.DEVNULL)
    ko = (src / 'failover.ko').read_bytes()
    fake = '0.0.0-vfotest-' + uuid.uuid4().hex[:6]
    mdir = '/lib/modules/' + fake
    boot_img = '/boot/initrd.img-' + fake
    assert not os.path.exists(mdir) and not os.path.exists(boot_img)
    try:
        os.makedirs(mdir + '/updates/dkms')
        with open(mdir + '/updates/dkms/failover.ko', 'wb') as f:
            f.write(ko)
        early = _newc([('kernel/x86/microcode/AuthenticAMD.bin', b'\x01' * 1000, 0o100644)])
        main = _newc([('usr/lib/modules/%s/modules.dep' % fake, b'', 0o100644),
                      ('usr/lib/modules/%s/updates/dkms/failover.ko' % fake, ko, 0o100644)])
        comp = subprocess.run(['zstd', '-q', '-c'], input=main, stdout=subprocess.PIPE, check=True).stdout \
            if shutil.which('zstd') else gzip.compress(main)
        with open(boot_img, 'wb') as f:
            f.write(early + b'\0' * ((512 - len(early) % 512) % 512) + comp)
        r = run_tasks([K({'kernels': [fake], 'initramfs_kernels': [fake]})], tmp_path)[0]
        assert not r['failed'], r
        kk = r['kernels'][fake]
        assert kk['dkms_module']['exists'] and kk['dkms_module']['version'] == '0.0.1'
        assert kk['dkms_module']['path'] == mdir + '/updates/dkms/failover.ko'
        ird = kk['initramfs']
        assert ird['found'] and ird['patched'] is True, ird
        assert ird['member'] == 'usr/lib/modules/%s/updates/dkms/failover.ko' % fake
        assert ird['srcversion'] == kk['dkms_module']['srcversion']
        assert [x['compression'] for x in ird['archives']] == [None, 'zstd' if shutil.which('zstd') else 'gzip']
        print('\n[timing] initramfs scan: %.1f ms' % (ird['seconds'] * 1e3))
        # a stale initramfs: the stock module path with another srcversion inside
        i = ko.index(b'srcversion=') + len(b'srcversion=')
        other = ko[:i] + b'0' * 23 + ko[i + 23:]
        main2 = _newc([('usr/lib/modules/%s/kernel/net/core/failover.ko' % fake, other, 0o100644)])
        with open(boot_img, 'wb') as f:
            f.write(gzip.compress(main2))
        t = time.monotonic()
        r2 = run_tasks([K({'kernels': [fake], 'initramfs_kernels': [fake]})], tmp_path)[0]
        ird2 = r2['kernels'][fake]['initramfs']
        assert ird2['found'] and ird2['member'].endswith('kernel/net/core/failover.ko')
        assert ird2['srcversion'] == '0' * 23 and ird2['patched'] is False
        assert time.monotonic() - t < 120
    finally:
        shutil.rmtree(mdir, ignore_errors=True)
        if os.path.exists(boot_img):
            os.unlink(boot_img)
