# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bool normalisation, name validation and /sys/module reads (a sysfs-shaped
tree of real files, plus read-only reads of this host's /sys/module)."""

from __future__ import annotations

import os
import sys

import pytest

_COLL = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '.build', 'collections'))
if _COLL not in sys.path:
    sys.path.insert(0, _COLL)

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_sysfs as ks  # noqa: E402


@pytest.mark.parametrize('current,value,text,equal', [
    ('Y', 'yes', 'Y', True), ('Y', False, 'N', False), ('N', '0', 'N', True), ('N', 'true', 'Y', False),
    ('Y', 1, 'Y', True), ('100', '100', '100', True), ('100', 100, '100', True), ('0x10', '16', '16', True),
    ('abc', 'abd', 'abd', False), ('5', True, '1', False),
])
def test_desired_text(current, value, text, equal):
    assert ks.desired_text(current, value) == (text, equal)


def test_desired_text_rejects_non_bool_for_bool_param():
    with pytest.raises(ks.KmodError, match='not a boolean'):
        ks.desired_text('Y', 'maybe')


@pytest.mark.parametrize('name', ['../x', 'a/b', '..', '.', '', 'a..b', 'a b', 'x\0'])
def test_validate_name_rejects(name):
    with pytest.raises(ks.KmodError):
        ks.validate_name('module', name)


def test_validate_name_accepts():
    assert ks.validate_name('module', 'net_failover') == 'net_failover'
    assert ks.validate_name('parameter', 'slave_rename_ok') == 'slave_rename_ok'


def test_validate_dkms_module():
    ks.validate_dkms_module('failover', 'virtnet-failover', None, ['6.12.118+deb13-amd64'])
    for args, what in ((('../x', 'virtnet-failover'), 'module'), (('failover', 'a/b'), 'DKMS module'),
                       (('failover', 'virtnet-failover', '1/..'), 'DKMS version'),
                       (('failover', 'virtnet-failover', '', ['../../etc']), 'kernel')):
        with pytest.raises(ks.KmodError, match='invalid %s name' % what):
            ks.validate_dkms_module(*args)


def _fake_module(root, name, params, initstate='live', srcversion='ABCDEF0123456789ABCDEF0'):
    d = root / name
    (d / 'parameters').mkdir(parents=True)
    for p, (value, mode) in params.items():
        f = d / 'parameters' / p
        f.write_text(value + '\n')
        os.chmod(str(f), mode)
    if initstate:
        (d / 'initstate').write_text(initstate + '\n')
        (d / 'refcnt').write_text('2\n')
        (d / 'srcversion').write_text(srcversion + '\n')
        (d / 'holders').mkdir()
        (d / 'holders' / 'net_failover').mkdir()
    return d


def test_inspect_param_patched(tmp_path):
    _fake_module(tmp_path, 'failover', {'slave_rename_ok': ('Y', 0o644), 'live_rename': ('flag', 0o444)})
    info = ks.inspect_param('failover', 'slave_rename_ok', root=str(tmp_path))
    assert info['value'] == 'Y' and info['writable'] and info['mode'] == '0644'
    ro = ks.inspect_param('failover', 'live_rename', root=str(tmp_path))
    assert ro['value'] == 'flag' and not ro['writable']
    mi = ks.module_info('failover', root=str(tmp_path))
    assert mi['loaded'] and not mi['builtin'] and mi['refcnt'] == 2
    assert mi['holders'] == ['net_failover'] and mi['srcversion'] == 'ABCDEF0123456789ABCDEF0'
    assert mi['parameters'] == {'live_rename': 'flag', 'slave_rename_ok': 'Y'}


def test_loaded_module(tmp_path):
    _fake_module(tmp_path, 'failover', {'slave_rename_ok': ('N', 0o644), 'live_rename': ('flag', 0o444)})
    _fake_module(tmp_path, 'net_failover', {})
    info = ks.loaded_module('failover', root=str(tmp_path))
    assert info['patched'] and info['slave_rename_ok'] is False and info['live_rename'] == 'flag'
    assert info['srcversion'] == 'ABCDEF0123456789ABCDEF0'
    for name in ('net_failover', 'absent'):
        info = ks.loaded_module(name, root=str(tmp_path))
        assert (info['patched'], info['slave_rename_ok'], info['live_rename']) == (False, None, None)


def test_inspect_param_stock_failover_hint(tmp_path):
    _fake_module(tmp_path, 'failover', {})
    with pytest.raises(ks.KmodError) as e:
        ks.inspect_param('failover', 'slave_rename_ok', root=str(tmp_path))
    assert 'failover is the stock module' in str(e.value)
    assert 'virtnet.failover.kmod role' in str(e.value)


def test_inspect_param_not_loaded_and_builtin(tmp_path):
    with pytest.raises(ks.KmodError, match='is not loaded'):
        ks.inspect_param('vnfo_no_such_module', 'x', root=str(tmp_path))
    _fake_module(tmp_path, 'printk', {'time': ('Y', 0o644)}, initstate=None)
    with pytest.raises(ks.KmodError, match='built into the kernel and has no parameter nope'):
        ks.inspect_param('printk', 'nope', root=str(tmp_path))
    assert ks.module_info('printk', root=str(tmp_path))['builtin'] is True
    assert ks.module_info('absent', root=str(tmp_path))['loaded'] is False


def test_write_param_real_file(tmp_path):
    _fake_module(tmp_path, 'm', {'p': ('N', 0o644)})
    path = ks.param_path('m', 'p', root=str(tmp_path))
    ks.write_param(path, 'Y')
    assert open(path).read() == 'Y'
    with pytest.raises(ks.KmodError, match='cannot write'):
        ks.write_param(str(tmp_path / 'm' / 'nodir' / 'p'), 'Y')


@pytest.mark.skipif(not os.path.isdir('/sys/module/printk/parameters'), reason='no /sys/module/printk here')
def test_real_sysfs_reads():
    info = ks.inspect_param('printk', 'time')
    assert info['value'] in ('Y', 'N') and info['writable']
    mi = ks.module_info('printk')
    assert mi['loaded'] and mi['builtin'] and 'time' in mi['parameters']


@pytest.mark.skipif(not os.path.isdir('/sys/module/block/parameters'), reason='no /sys/module/block here')
def test_real_sysfs_kernel_refuses_value():
    path = ks.param_path('block', 'events_dfl_poll_msecs')
    before = open(path).read()
    with pytest.raises(ks.KmodError, match='kernel refused'):
        ks.write_param(path, 'not-a-number')
    assert open(path).read() == before
