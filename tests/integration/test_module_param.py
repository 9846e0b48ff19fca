# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.module_param through Ansible on this host: read-only reads
of real /sys/module parameters, a write the kernel refuses (nothing changes),
a write of the value already set (no change), and bad inputs.  Writes that
change a value, and the real failover module, are covered by the VM lab."""

from __future__ import annotations

import os

import pytest

from kmod_helpers import run_tasks  # noqa: E402  (also puts the collection on sys.path)

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_files as kf  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.isdir('/sys/module/printk/parameters'),
                                reason='/sys/module/printk/parameters not present on this host')


def _first_readonly():
    for m in sorted(os.listdir('/sys/module')):
        d = os.path.join('/sys/module', m, 'parameters')
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for p in names:
            st = os.stat(os.path.join(d, p))
            if not st.st_mode & 0o222 and st.st_mode & 0o444:
                return m, p
    return None, None


def _numeric_writable():
    p = '/sys/module/block/parameters/events_dfl_poll_msecs'
    return ('block', 'events_dfl_poll_msecs') if os.path.exists(p) and os.stat(p).st_mode & 0o200 else (None, None)


def M(args, check=False, diff=False):
    return {'module': 'module_param', 'args': args, 'check': check, 'diff': diff}


def test_module_param_on_this_host(tmp_path):
    time_now = open('/sys/module/printk/parameters/time').read().strip()
    ro_mod, ro_param = _first_readonly()
    num_mod, num_param = _numeric_writable()
    other = 'no' if time_now == 'Y' else 'yes'
    same = 'true' if time_now == 'Y' else 'off'
    tasks = [
        M({'module': 'printk', 'param': 'time'}),                                   # 0 read
        M({'module': 'printk', 'param': 'time', 'value': same}),                    # 1 same value, other spelling
        M({'module': 'printk', 'param': 'time', 'value': other}, check=True, diff=True),  # 2 check: would change
        M({'module': 'printk', 'param': 'time', 'value': 'maybe'}),                 # 3 not a bool
        M({'module': 'no_such_module_x', 'param': 'p'}),                            # 4 not loaded
        M({'module': 'printk', 'param': 'no_such_param'}),                          # 5 built-in, no such param
        M({'module': '../printk', 'param': 'time'}),                                # 6 bad name
        M({'module': 'printk', 'param': 'a/b'}),                                    # 7 bad name
        M({'module': 'failover', 'param': 'slave_rename_ok'}),                      # 8 stock / built-in / absent
    ]
    if ro_mod:
        tasks.append(M({'module': ro_mod, 'param': ro_param, 'value': '1'}))       # 9 read-only
    if num_mod:
        tasks.append(M({'module': num_mod, 'param': num_param, 'value': 'not-a-number'}))  # 10 EINVAL
    r = run_tasks(tasks, tmp_path)

    assert not r[0]['failed'] and not r[0]['changed']
    assert r[0]['value'] == time_now and r[0]['previous'] == time_now
    assert r[0]['is_bool'] and r[0]['bool_value'] is (time_now == 'Y') and r[0]['writable']
    assert r[0]['sysfs_path'] == '/sys/module/printk/parameters/time'
    assert not r[1]['failed'] and not r[1]['changed'], r[1]
    assert not r[2]['failed'] and r[2]['changed'] and r[2]['previous'] == time_now
    assert r[2]['value'] == ('N' if time_now == 'Y' else 'Y')
    assert r[2]['diff']['before'] == time_now + '\n' and r[2]['diff']['after'] == r[2]['value'] + '\n'
    assert open('/sys/module/printk/parameters/time').read().strip() == time_now   # check mode wrote nothing
    assert r[3]['failed'] and 'not a boolean' in r[3]['msg']
    assert r[4]['failed'] and 'is not loaded' in r[4]['msg'] and '/sys/module/no_such_module_x' in r[4]['msg']
    assert r[5]['failed'] and 'built into the kernel and has no parameter no_such_param' in r[5]['msg']
    assert 'time' in r[5]['msg']   # lists the parameters it has
    assert r[6]['failed'] and 'invalid module name' in r[6]['msg']
    assert r[7]['failed'] and 'invalid parameter name' in r[7]['msg']
    f = r[8]
    assert f['failed']
    if os.path.isdir('/sys/module/failover/parameters') and \
            os.path.exists('/sys/module/failover/parameters/slave_rename_ok'):
        pytest.fail('unexpected: a patched failover module is loaded on the test host')
    elif os.path.isdir('/sys/module/failover'):
        assert 'failover is the stock module' in f['msg']
    elif kf.kernel_builtin(os.uname().release, 'failover')[0]:
        assert 'built into the running kernel' in f['msg'] and 'CONFIG_FAILOVER=m' in f['msg']
    else:
        assert 'is not loaded' in f['msg']
    i = 9
    if ro_mod:
        assert r[i]['failed'] and 'read-only' in r[i]['msg'] and not r[i]['changed'], r[i]
        i += 1
    if num_mod:
        before = open('/sys/module/%s/parameters/%s' % (num_mod, num_param)).read()
        assert r[i]['failed'] and 'kernel refused the value' in r[i]['msg'] and not r[i]['changed'], r[i]
        assert open('/sys/module/%s/parameters/%s' % (num_mod, num_param)).read() == before
