# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtnet.failover.dkms against the real dkms of this host: a tiny
hello-world DKMS module built for an installed kernel that has headers
(6.1.0-56-amd64 here; the host runs another kernel without headers).

The tests run in file order and share one module name; everything the test
creates is removed at the end, also on failure: the DKMS tree entry, the
/usr/src/<name>-<version> copies and the installed .ko files."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest

from kmod_helpers import run_tasks  # noqa: E402  (also puts the collection on sys.path)

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_dkms as kd  # noqa: E402
from ansible_collections.virtnet.failover.plugins.module_utils import kmod_files as kf  # noqa: E402

NAME = 'vfo-test-hello-' + uuid.uuid4().hex[:6]
KO = 'vfo_test_hello'
PREFERRED_KERNEL = '6.1.0-56-amd64'

HELLO_C = r'''
#include <linux/module.h>
#include <linux/init.h>
static int __init h_init(void) { pr_info("hello %s\n", "VARIANT"); return 0; }
static void __exit h_exit(void) { }
module_init(h_init);
module_exit(h_exit);
MODULE_LICENSE("GPL");
MODULE_VERSION("MODVER");
'''


def _kernel():
    ks = [k for k in kd.installed_kernels() if kd.has_headers(k)]
    if PREFERRED_KERNEL in ks:
        return PREFERRED_KERNEL
    return ks[0] if ks else None


KERNEL = _kernel()
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason='DKMS needs root'),
    pytest.mark.skipif(not shutil.which('dkms'), reason='dkms is not installed (make setup installs it)'),
    pytest.mark.skipif(KERNEL is None, reason='no installed kernel with headers (linux-headers-amd64)'),
]


def _src(base, version, broken=False):
    d = base / ('src-' + version)
    d.mkdir()
    code = HELLO_C.replace('MODVER', version).replace('VARIANT', version)
    if broken:
        code += '\nthis is a deliberate syntax error\n'
    (d / (KO + '.c')).write_text(code)
    (d / 'Makefile').write_text('obj-m := %s.o\n' % KO)
    (d / 'dkms.conf').write_text(
        'PACKAGE_NAME="%s"\nPACKAGE_VERSION="%s"\nBUILT_MODULE_NAME[0]="%s"\n'
        'DEST_MODULE_LOCATION[0]="/updates/dkms"\nAUTOINSTALL="no"\n' % (NAME, version, KO))
    return str(d)


def _cleanup():
    out = subprocess.run(['dkms', 'status', '-m', NAME], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=False).stdout
    for v in kd.versions_from_entries(kd.parse_status(out), NAME):
        subprocess.run(['dkms', 'remove', '-m', NAME, '-v', v, '--all'], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    shutil.rmtree('/var/lib/dkms/' + NAME, ignore_errors=True)
    for d in os.listdir('/usr/src'):
        if d.startswith(NAME + '-'):
            shutil.rmtree(os.path.join('/usr/src', d), ignore_errors=True)
    for k in kd.installed_kernels():
        for sub in ('updates/dkms', 'extra', 'updates'):
            p = kf.find_ko(os.path.join('/lib/modules', k, sub), KO)
            if p:
                os.unlink(p)


@pytest.fixture(scope='module')
def srcs(tmp_path_factory):
    base = tmp_path_factory.mktemp('dkms-src')
    _cleanup()
    try:
        yield {'1.0.0': _src(base, '1.0.0'), '1.0.1': _src(base, '1.0.1'),
               '2.0.0': _src(base, '2.0.0', broken=True)}
    finally:
        _cleanup()
        assert not os.path.exists('/var/lib/dkms/' + NAME)


def dkms_status():
    return subprocess.run(['dkms', 'status', '-m', NAME], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=True).stdout


def T(args, check=False, diff=False, kernels=True):
    """A dkms task for run_tasks (explicit kernel unless kernels=False)."""
    a = {'name': NAME}
    if kernels:
        a['kernels'] = [KERNEL]
    a.update(args)
    return {'module': 'dkms', 'args': a, 'check': check, 'diff': diff}


SNAP = {'snapshot': None}


def run(tmp_path, tasks):
    tasks = [dict(t, snapshot=[NAME, KERNEL]) if t is SNAP else t for t in tasks]
    return run_tasks(tasks, tmp_path)


def installed_ko():
    return kf.find_ko('/lib/modules/%s/updates/dkms' % KERNEL, KO)


def test_1_refusals_and_check_mode_change_nothing(srcs, tmp_path):
    running = os.uname().release
    bad = [
        ({'version': '1.0.0', 'source': '/nonexistent/src'}, 'does not exist'),
        ({'version': '1.0.0', 'source': '/tmp'}, 'has no dkms.conf'),
        ({'version': '9.9.9', 'source': srcs['1.0.0']}, 'version mismatch'),
        ({'version': '1.0.0', 'source': srcs['1.0.0'], 'kernels': ['9.9.9-none-amd64']},
         'unknown kernel 9.9.9-none-amd64'),
        ({'version': '1.0.0'}, 'source /usr/src/%s-1.0.0 does not exist' % NAME),
        ({'version': '1.0.0', 'source': srcs['1.0.0'], 'kernels': ['../x']}, 'invalid kernel release'),
        ({'state': 'installed'}, 'version'),
    ]
    tasks = [SNAP, T({'version': '1.0.0', 'source': srcs['1.0.0'], 'kernels': 'running'})]
    tasks += [T(a) for a, _n in bad]
    tasks += [T({'version': '1.0.0', 'source': srcs['1.0.0'], 'state': 'present'}, check=True, diff=True), SNAP]
    r = run(tmp_path, tasks)
    if not kd.has_headers(running):
        # the host runs a kernel without headers: the default kernels=running must say so
        assert r[1]['failed'] and 'linux-headers-%s' % running in r[1]['msg'] and 'headers' in r[1]['msg'], r[1]
    for (args, needle), res in zip(bad, r[2:2 + len(bad)]):
        assert res['failed'] and needle in res['msg'], (args, res)
    c = r[-2]
    assert not c['failed'] and c['changed']
    assert c['status_before'] == {KERNEL: 'absent'} and c['status_after'] == {KERNEL: 'added'}
    assert c['actions'] == ['dkms add %s' % srcs['1.0.0']]
    assert c['diff'] == {'before': {KERNEL: 'absent'}, 'after': {KERNEL: 'added'}}
    assert r[0]['snapshot'] == r[-1]['snapshot']
    assert not os.path.exists('/var/lib/dkms/' + NAME)


def test_2_present_built_installed(srcs, tmp_path):
    P = {'version': '1.0.0', 'source': srcs['1.0.0'], 'state': 'present'}
    B = {'version': '1.0.0', 'state': 'built'}
    I_ = {'version': '1.0.0'}
    r = run(tmp_path, [
        T(P), T(P),                                   # 0 add, 1 unchanged
        SNAP, T(B, check=True), SNAP,                 # 2..4 check built changes nothing
        T(B), T(B), T({'version': '1.0.0', 'state': 'present'}),   # 5 build, 6 unchanged, 7 present keeps built
        SNAP, T(I_, check=True, diff=True), SNAP,     # 8..10 check install changes nothing
        T(I_), SNAP, T(I_), T(I_, check=True), SNAP,  # 11 install, 13 unchanged, 14 check unchanged
    ])
    assert not r[0]['failed'] and r[0]['changed'] and r[0]['status_after'] == {KERNEL: 'added'}, r[0]
    assert not r[1]['changed'] and r[1]['actions'] == []
    assert r[3]['changed'] and r[3]['status_after'] == {KERNEL: 'built'}
    assert r[3]['actions'] == ['dkms build -m %s -v 1.0.0 -k %s' % (NAME, KERNEL)]
    assert r[2]['snapshot'] == r[4]['snapshot']
    assert not r[5]['failed'] and r[5]['changed'] and r[5]['status_after'] == {KERNEL: 'built'}, r[5]
    assert not r[6]['changed'] and not r[7]['changed'] and r[7]['status_after'] == {KERNEL: 'built'}
    assert r[9]['changed'] and r[9]['diff'] == {'before': {KERNEL: 'built'}, 'after': {KERNEL: 'installed'}}
    assert r[8]['snapshot'] == r[10]['snapshot']
    assert not r[11]['failed'] and r[11]['changed'], r[11]
    assert r[11]['status_before'] == {KERNEL: 'built'} and r[11]['status_after'] == {KERNEL: 'installed'}
    assert r[11]['versions'] == {'1.0.0': {'state': 'added', 'kernels': {KERNEL: 'installed'}}}
    assert not r[13]['changed'] and r[13]['actions'] == [] and not r[14]['changed']
    assert r[12]['snapshot'] == r[15]['snapshot']
    assert '%s/1.0.0, %s, ' % (NAME, KERNEL) in dkms_status() and ': installed' in dkms_status()
    ko = installed_ko()
    assert ko and kf.read_ko(ko)['version'] == '1.0.0'


def test_3_tree_read_matches_dkms_status(srcs):
    """kmod_info reads the DKMS tree instead of running dkms: same answer,
    measured faster."""
    t = time.monotonic()
    for _i in range(5):
        out = dkms_status()
    t_cmd = (time.monotonic() - t) / 5
    t = time.monotonic()
    for _i in range(5):
        tree = kd.read_tree(NAME)
    t_tree = (time.monotonic() - t) / 5

    def flat(v):
        return {ver: (d['state'], {k: x['state'] for k, x in d['kernels'].items()}) for ver, d in v.items()}

    parsed = kd.versions_from_entries(kd.parse_status(out), NAME)
    assert flat(tree) == flat(parsed) == {'1.0.0': ('added', {KERNEL: 'installed'})}
    print('\n[timing] dkms status -m: %.1f ms, direct tree read: %.3f ms (%.0fx)'
          % (t_cmd * 1e3, t_tree * 1e3, t_cmd / max(t_tree, 1e-9)))
    assert t_tree < t_cmd


def test_4_repair_bump_and_build_failure(srcs, tmp_path):
    ko = installed_ko()
    old_src = kf.read_ko(ko)['srcversion']
    with open(ko, 'ab') as f:
        f.write(b'tampered')
    st = dkms_status()
    assert 'Diff between built and installed' in st or 'Differences between built' in st, st
    BUMP = {'version': '1.0.1', 'source': srcs['1.0.1'], 'remove_other_versions': True}
    r = run(tmp_path, [
        T({'version': '1.0.0'}),                       # 0 reinstall over the modified copy
        T(BUMP, check=True), T(BUMP), T(BUMP),         # 1 check, 2 bump, 3 unchanged
        T({'version': '2.0.0', 'source': srcs['2.0.0'], 'remove_other_versions': True}),  # 4 build fails
    ])
    assert not r[0]['failed'] and r[0]['changed'], r[0]
    assert r[0]['warnings_dkms'] == {KERNEL: ['diff']}
    assert r[0]['actions'] == ['dkms install -m %s -v 1.0.0 -k %s --force' % (NAME, KERNEL)]
    assert r[1]['changed'] and r[1]['removed_versions'] == ['1.0.0'] and list(r[1]['versions']) == ['1.0.1']
    assert not r[2]['failed'] and r[2]['changed'], r[2]
    assert r[2]['actions'] == ['dkms add %s' % srcs['1.0.1'],
                               'dkms build -m %s -v 1.0.1 -k %s' % (NAME, KERNEL),
                               'dkms remove -m %s -v 1.0.0 --all' % NAME,
                               'dkms install -m %s -v 1.0.1 -k %s' % (NAME, KERNEL)]
    assert r[2]['versions'] == {'1.0.1': {'state': 'added', 'kernels': {KERNEL: 'installed'}}}
    assert not r[3]['changed']
    new = kf.read_ko(installed_ko())
    assert new['version'] == '1.0.1' and new['srcversion'] != old_src
    f = r[4]
    assert f['failed']
    assert 'dkms build of %s/2.0.0 for kernel %s failed' % (NAME, KERNEL) in f['msg'], f['msg']
    assert 'Last 40 lines of' in f['msg'] and 'make.log' in f['msg']
    assert 'error' in f['msg'] and 'deliberate' in f['msg']
    assert f['make_log'].endswith('make.log') and len(f['make_log_tail'].splitlines()) <= 40
    # the installed older version is untouched: build runs before remove/install
    st = dkms_status()
    assert '%s/1.0.1, %s, ' % (NAME, KERNEL) in st and ': installed' in st and '1.0.0' not in st


def test_5_absent(srcs, tmp_path):
    ALL = {'name': NAME, 'state': 'absent'}
    r = run(tmp_path, [
        SNAP, T({'version': '1.0.1', 'state': 'absent'}, check=True),
        {'module': 'dkms', 'args': ALL, 'check': True}, SNAP,
        {'module': 'dkms', 'args': ALL}, {'module': 'dkms', 'args': ALL},
    ])
    assert r[1]['changed'] and r[1]['status_after'] == {KERNEL: 'added'}
    assert r[1]['actions'] == ['dkms unbuild -m %s -v 1.0.1 -k %s' % (NAME, KERNEL)]
    assert r[2]['changed'] and sorted(r[2]['removed_versions']) == ['1.0.1', '2.0.0']
    assert r[0]['snapshot'] == r[3]['snapshot']
    assert not r[4]['failed'] and r[4]['changed'] and r[4]['versions'] == {}, r[4]
    assert r[4]['status_after'] == {KERNEL: 'absent'}
    assert not r[5]['failed'] and not r[5]['changed']
    assert not os.path.exists('/var/lib/dkms/' + NAME)
    assert installed_ko() is None
