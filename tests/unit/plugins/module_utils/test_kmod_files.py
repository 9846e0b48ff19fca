# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ELF .modinfo parsing against a real .ko built here with kbuild, and
initramfs scanning against real initramfs-shaped images built in the test
(early uncompressed cpio + compressed main cpio, newc format)."""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import subprocess
import sys
import time

import pytest

_COLL = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '.build', 'collections'))
if _COLL not in sys.path:
    sys.path.insert(0, _COLL)

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_dkms as kd  # noqa: E402
from ansible_collections.virtnet.failover.plugins.module_utils import kmod_files as kf  # noqa: E402

MODULE_C = r'''
#include <linux/module.h>
#include <linux/init.h>
static bool slave_rename_ok = true;
module_param(slave_rename_ok, bool, 0644);
MODULE_PARM_DESC(slave_rename_ok, "test");
static int __init t_init(void) { return 0; }
static void __exit t_exit(void) { }
module_init(t_init);
module_exit(t_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION("9.8.7");
MODULE_ALIAS("vfo-test-alias-a");
MODULE_ALIAS("vfo-test-alias-b");
'''


def _kernel_with_headers():
    for k in kd.installed_kernels('/lib/modules'):
        if kd.has_headers(k):
            return k
    return None


@pytest.fixture(scope='module')
def real_ko(tmp_path_factory):
    kernel = _kernel_with_headers()
    if not kernel or not shutil.which('make') or not shutil.which('gcc'):
        pytest.skip('no kernel headers/gcc/make on this host to build a real .ko')
    d = tmp_path_factory.mktemp('ko')
    (d / 'failover.c').write_text(MODULE_C)
    (d / 'Makefile').write_text('obj-m := failover.o\n')
    proc = subprocess.run(['make', '-s', '-C', '/lib/modules/%s/build' % kernel, 'M=%s' % d, 'modules'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    assert proc.returncode == 0, proc.stdout
    ko = d / 'failover.ko'
    modinfo = None
    if shutil.which('modinfo') or os.path.exists('/sbin/modinfo'):
        mi = shutil.which('modinfo') or '/sbin/modinfo'
        modinfo = subprocess.run([mi, '-F', 'srcversion', str(ko)], stdout=subprocess.PIPE, text=True,
                                 check=False).stdout.strip()
    return dict(path=str(ko), kernel=kernel, modinfo_srcversion=modinfo)


def test_modinfo_from_real_ko(real_ko):
    with open(real_ko['path'], 'rb') as f:
        info = kf.modinfo_from_elf(f.read())
    assert info['version'] == '9.8.7'
    assert info['license'] == 'GPL'
    assert info['name'] == 'failover'
    assert info['vermagic'].startswith(real_ko['kernel'] + ' ')
    assert sorted(info['alias']) == ['vfo-test-alias-a', 'vfo-test-alias-b']
    assert len(info['srcversion']) == 23
    if real_ko['modinfo_srcversion']:
        assert info['srcversion'] == real_ko['modinfo_srcversion']
    assert 'slave_rename_ok:test' in ''.join(info['parm'] if isinstance(info['parm'], list) else [info['parm']])


def test_read_ko_compressed(real_ko, tmp_path):
    raw = open(real_ko['path'], 'rb').read()
    plain = kf.read_ko(real_ko['path'])
    assert plain['compressed'] is None and plain['srcversion']
    xz = tmp_path / 'failover.ko.xz'
    xz.write_bytes(lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32))
    gz = tmp_path / 'failover.ko.gz'
    gz.write_bytes(gzip.compress(raw))
    for p, kind in ((xz, 'xz'), (gz, 'gzip')):
        r = kf.read_ko(str(p))
        assert r['compressed'] == kind and r['srcversion'] == plain['srcversion'] and r['error'] is None
    if shutil.which('zstd'):
        zst = tmp_path / 'failover.ko.zst'
        subprocess.run(['zstd', '-q', '-o', str(zst), real_ko['path']], check=True)
        r = kf.read_ko(str(zst))
        assert r['compressed'] == 'zstd' and r['srcversion'] == plain['srcversion']
    assert kf.find_ko(str(tmp_path), 'failover') == str(xz)


def test_read_ko_errors(tmp_path):
    bad = tmp_path / 'x.ko'
    bad.write_bytes(b'not elf at all' * 10)
    r = kf.read_ko(str(bad))
    assert r['exists'] and r['srcversion'] is None and 'not an ELF' in r['error']
    assert kf.read_ko(str(tmp_path / 'none.ko'))['exists'] is False
    with pytest.raises(kf.FormatError):
        kf.modinfo_from_elf(b'\x7fELF' + b'\0' * 60)


# ---------------------------------------------------------------- initramfs

def newc(entries):
    """A newc cpio archive (what initramfs-tools and dracut write)."""
    out = bytearray()
    ino = 1
    for name, data, mode in list(entries) + [('TRAILER!!!', b'', 0)]:
        nb = name.encode() + b'\0'
        hdr = '070701' + ''.join('%08X' % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        out += hdr.encode() + nb
        out += b'\0' * ((4 - len(out) % 4) % 4)
        out += data
        out += b'\0' * ((4 - len(out) % 4) % 4)
        ino += 1
    return bytes(out)


def _compress(kind, data):
    if kind == 'gzip':
        return gzip.compress(data)
    if kind == 'xz':
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    tool = {'zstd': ['zstd', '-q', '-c'], 'lz4': ['lz4', '-l', '-q', '-c']}[kind]
    if not shutil.which(tool[0]):
        pytest.skip('%s not installed' % tool[0])
    return subprocess.run(tool, input=data, stdout=subprocess.PIPE, check=True).stdout


def _image(tmp_path, ko_bytes, kind, member, filler=0, early=True):
    early_cpio = newc([('kernel', b'', 0o40755), ('kernel/x86', b'', 0o40755),
                       ('kernel/x86/microcode', b'', 0o40755),
                       ('kernel/x86/microcode/AuthenticAMD.bin', os.urandom(3000), 0o100644)]) if early else b''
    main_entries = [('usr', b'', 0o40755), ('usr/lib/modules/6.1.0-56-amd64/modules.dep', b'x\n', 0o100644),
                    ('usr/lib/modules/6.1.0-56-amd64/kernel/drivers/big.ko', os.urandom(filler), 0o100644),
                    (member, ko_bytes, 0o100644),
                    ('usr/lib/modules/6.1.0-56-amd64/kernel/drivers/net/virtio_net.ko', b'\x7fELF' + b'\0' * 8,
                     0o100644)]
    img = tmp_path / ('initrd.img-%s' % kind)
    # initramfs-tools pads the early archive to 512 bytes before the main one
    pad = b'\0' * ((512 - len(early_cpio) % 512) % 512) if early else b''
    img.write_bytes(early_cpio + pad + _compress(kind, newc(main_entries)))
    return img


@pytest.mark.parametrize('kind', ['zstd', 'gzip', 'xz', 'lz4'])
def test_initramfs_finds_failover(real_ko, tmp_path, kind):
    ko = open(real_ko['path'], 'rb').read()
    member = 'usr/lib/modules/6.1.0-56-amd64/updates/dkms/failover.ko'
    img = _image(tmp_path, ko, kind, member, filler=200000)
    r = kf.initramfs_find_module(str(img), 'failover')
    assert r['error'] is None, r
    assert r['found'] and r['member'] == member
    assert r['srcversion'] == kf.read_ko(real_ko['path'])['srcversion']
    assert r['version'] == '9.8.7'
    assert [a['compression'] for a in r['archives']] == [None, kind]
    assert r['archives'][1]['offset'] % 512 == 0


def test_initramfs_xz_member_and_no_early(real_ko, tmp_path):
    ko = lzma.compress(open(real_ko['path'], 'rb').read(), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    img = _image(tmp_path, ko, 'gzip', 'lib/modules/6.1.0-56-amd64/kernel/net/core/failover.ko.xz', early=False)
    r = kf.initramfs_find_module(str(img), 'failover')
    assert r['found'] and r['compressed_member'] == 'xz' and r['srcversion']
    assert [a['compression'] for a in r['archives']] == ['gzip']


def test_initramfs_without_module(tmp_path):
    img = tmp_path / 'initrd.img-x'
    img.write_bytes(newc([('kernel/x86/microcode/GenuineIntel.bin', b'u' * 100, 0o100644)])
                    + gzip.compress(newc([('usr/lib/modules/x/kernel/a.ko', b'a', 0o100644)])))
    r = kf.initramfs_find_module(str(img), 'failover')
    assert r['exists'] and not r['found'] and r['error'] is None
    assert kf.initramfs_find_module(str(tmp_path / 'nope'), 'failover')['exists'] is False
    junk = tmp_path / 'junk'
    junk.write_bytes(b'garbage' * 100)
    assert 'unknown data' in kf.initramfs_find_module(str(junk))['error']


def test_initramfs_stops_at_module(real_ko, tmp_path):
    """The scan stops at failover.ko: whatever follows is never read (a
    corrupt tail does not matter) and a large tail costs no time."""
    ko = open(real_ko['path'], 'rb').read()
    main = newc([('usr/lib/modules/k/updates/dkms/failover.ko', ko, 0o100644),
                 ('usr/lib/modules/k/kernel/huge.bin', b'\0' * (64 << 20), 0o100644)])
    img = tmp_path / 'initrd.img-stop'
    img.write_bytes(_compress('zstd', main) if shutil.which('zstd') else gzip.compress(main))
    t = time.monotonic()
    r = kf.initramfs_find_module(str(img), 'failover')
    assert r['found'] and r['srcversion']
    assert time.monotonic() - t < 1.0


# ---------------------------------------------------------------- /boot

def test_next_boot_kernel_symlink_and_fallback(tmp_path):
    boot = tmp_path / 'boot'
    boot.mkdir()
    for k in ('6.1.0-9-amd64', '6.1.0-56-amd64', '6.1.0-10-amd64'):
        (boot / ('vmlinuz-' + k)).write_bytes(b'')
    assert kf.next_boot_kernel(str(tmp_path), str(boot)) == ('6.1.0-56-amd64', str(boot / 'vmlinuz-*'))
    os.symlink('boot/vmlinuz-6.1.0-10-amd64', str(tmp_path / 'vmlinuz'))
    assert kf.next_boot_kernel(str(tmp_path), str(boot)) == ('6.1.0-10-amd64', str(tmp_path / 'vmlinuz'))
    assert kf.next_boot_kernel(str(tmp_path / 'x'), str(tmp_path / 'none')) == (None, None)
    assert kf.boot_kernels(str(boot)) == ['6.1.0-9-amd64', '6.1.0-10-amd64', '6.1.0-56-amd64']


def test_kernel_config_option(tmp_path):
    boot = tmp_path / 'boot'
    boot.mkdir()
    (boot / 'config-6.1.0-56-amd64').write_text('CONFIG_NET_FAILOVER=m\nCONFIG_FAILOVER=m\n')
    (boot / 'config-6.8.0-1-generic').write_text('CONFIG_FAILOVER=y\n')
    (boot / 'config-5.4.0-1').write_text('# CONFIG_FAILOVER is not set\n')
    mods = str(tmp_path / 'mods')
    assert kf.kernel_config_option('6.1.0-56-amd64', 'CONFIG_FAILOVER', str(boot), mods)[0] == 'm'
    assert kf.kernel_config_option('6.8.0-1-generic', 'CONFIG_FAILOVER', str(boot), mods)[0] == 'y'
    assert kf.kernel_config_option('5.4.0-1', 'CONFIG_FAILOVER', str(boot), mods)[0] == 'not set'
    assert kf.kernel_config_option('0.0.0-none', 'CONFIG_FAILOVER', str(boot), mods) == (None, None)


def test_kernel_config_from_real_headers(tmp_path):
    # whichever Debian kernel headers tests/host-packages.txt (linux-headers-amd64) installed
    kernel = _kernel_with_headers()
    assert kernel and os.path.exists('/lib/modules/%s/build/.config' % kernel), (
        'no kernel headers with a .config under /lib/modules: install the packages of tests/host-packages.txt')
    val, src = kf.kernel_config_option(kernel, 'CONFIG_FAILOVER', str(tmp_path))
    assert val == 'm' and src == '/lib/modules/%s/build/.config' % kernel


def test_kernel_builtin_and_dkms_ko_path(tmp_path):
    boot, mods = tmp_path / 'boot', tmp_path / 'mods'
    boot.mkdir()
    (boot / 'config-6.8.0-1-generic').write_text('CONFIG_FAILOVER=y\n')
    (boot / 'config-6.1.0-56-amd64').write_text('CONFIG_FAILOVER=m\n')
    (mods / '6.1.0-57-amd64').mkdir(parents=True)
    (mods / '6.1.0-57-amd64' / 'modules.builtin').write_text('kernel/net/core/failover.ko\n')
    for kernel, builtin, cfg in (('6.8.0-1-generic', True, 'y'), ('6.1.0-56-amd64', False, 'm'),
                                 ('6.1.0-57-amd64', True, None), ('0.0.0-none', None, None)):
        got = kf.kernel_builtin(kernel, 'failover', boot_dir=str(boot), modules_dir=str(mods))
        assert got[:2] == (builtin, cfg), kernel
    # any directory in modules.builtin, '-' and '_' alike; the config option follows the module name
    (mods / '6.1.0-57-amd64' / 'modules.builtin').write_text('kernel/drivers/net/net_failover.ko\n')
    assert kf.kernel_builtin('6.1.0-57-amd64', 'net-failover', str(boot), str(mods))[0] is True
    assert kf.kernel_builtin('6.1.0-57-amd64', 'failover', str(boot), str(mods))[0] is False
    (boot / 'config-6.1.0-57-amd64').write_text('CONFIG_NET_FAILOVER=y\nCONFIG_FAILOVER=m\n')
    assert kf.kernel_builtin('6.1.0-57-amd64', 'failover', str(boot), str(mods))[:2] == (False, 'm')
    assert kf.config_option('net-failover') == 'CONFIG_NET_FAILOVER'
    kdir = mods / '6.1.0-56-amd64'
    assert kf.dkms_ko_path('6.1.0-56-amd64', 'failover', str(mods)) is None
    for sub in ('updates', 'extra', 'updates/dkms'):  # the later, the earlier in the search order
        (kdir / sub).mkdir(parents=True, exist_ok=True)
        (kdir / sub / 'failover.ko').write_bytes(b'')
        assert kf.dkms_ko_path('6.1.0-56-amd64', 'failover', str(mods)) == str(kdir / sub / 'failover.ko')


def test_modprobe_conf(tmp_path):
    f = tmp_path / 'virtnet-failover.conf'
    f.write_text('# managed by Ansible\noptions failover slave_rename_ok=N  # comment\n'
                 'options net-failover a=1 b\n')
    r = kf.read_modprobe_conf(str(f))
    assert r['exists'] and r['content'].startswith('# managed')
    # as modprobe reads it: '#' only starts a comment at the start of a line (the words after a later '#'
    # reach the kernel as parameters), and a bare name has no value (None)
    assert r['options'] == {'failover': {'slave_rename_ok': 'N', '#': None, 'comment': None},
                            'net_failover': {'a': '1', 'b': None}}
    assert kf.read_modprobe_conf(str(tmp_path / 'none'))['exists'] is False
