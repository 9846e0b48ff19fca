# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dkms_source main(): deploy, idempotence, check mode, diff and bad input on
a real tree under /usr/src (a unique name, removed after each test; needs root)."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from module_run import run_main

from ansible_collections.virtnet.failover.plugins.modules import dkms_source as mod

FILES = {'dkms.conf': 'PACKAGE_NAME="x"\n', 'x.c': 'int x;\n'}
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.isdir('/usr/src'),
                                reason='dkms_source writes root-owned trees under /usr/src: needs root')


@pytest.fixture
def path():
    p = '/usr/src/vfo-unit-%s-1.0' % uuid.uuid4().hex[:8]
    yield p
    for q in (p, p + '.virtnet-new', p + '.virtnet-old'):
        if os.path.lexists(q):
            shutil.rmtree(q)


def run(capsys, **args):
    return run_main(mod.main, args, capsys)


def test_deploy_then_second_run_changes_nothing(path, capsys):
    res = run(capsys, path=path, files=FILES)
    assert res['rc'] == 0 and res['changed'] is True
    assert res['differs'] == [{'what': 'missing', 'name': '.', 'have': None, 'want': 'directory'}]
    assert sorted(os.listdir(path)) == ['dkms.conf', 'x.c'] and res['files'] == ['dkms.conf', 'x.c']
    res = run(capsys, path=path, files=FILES)
    assert res['rc'] == 0 and res['changed'] is False and res['differs'] == []


def test_check_mode_predicts_and_writes_nothing(path, capsys):
    res = run(capsys, path=path, files=FILES, _ansible_check_mode=True, _ansible_diff=True)
    assert res['changed'] is True and not os.path.lexists(path)
    assert res['diff']['before'] == '' and 'x.c' in res['diff']['after']
    run(capsys, path=path, files=FILES)
    before = {n: os.stat(os.path.join(path, n)).st_mtime_ns for n in os.listdir(path)}
    res = run(capsys, path=path, files=dict(FILES, **{'x.c': 'int y;\n'}), _ansible_check_mode=True)
    assert res['changed'] is True and [d['what'] for d in res['differs']] == ['changed']
    assert {n: os.stat(os.path.join(path, n)).st_mtime_ns for n in os.listdir(path)} == before
    with open(os.path.join(path, 'x.c'), encoding='utf-8') as f:
        assert f.read() == 'int x;\n'


def test_changed_file_and_stale_file(path, capsys):
    run(capsys, path=path, files=dict(FILES, **{'old.c': 'old\n'}))
    res = run(capsys, path=path, files=dict(FILES, **{'x.c': 'int y;\n'}), _ansible_diff=True)
    assert res['changed'] is True
    assert sorted((d['what'], d['name']) for d in res['differs']) == [('changed', 'x.c'), ('extra', 'old.c')]
    assert sorted(os.listdir(path)) == ['dkms.conf', 'x.c']
    assert 'old.c' in res['diff']['before'] and 'old.c' not in res['diff']['after']


def test_absent(path, capsys):
    run(capsys, path=path, files=FILES)
    res = run(capsys, path=path, state='absent', _ansible_check_mode=True)
    assert res['changed'] is True and os.path.isdir(path)
    res = run(capsys, path=path, state='absent')
    assert res['changed'] is True and not os.path.lexists(path)
    assert run(capsys, path=path, state='absent')['changed'] is False


@pytest.mark.parametrize('args, words', [
    ({'path': 'src/x-1.0', 'files': FILES}, 'must be absolute'),
    ({'path': '/etc/x-1.0', 'files': FILES}, 'directly under /usr/src'),
    ({'files': FILES, 'name_in_path': '../../etc/x'}, 'directly under /usr/src'),
    ({'files': {}}, 'non-empty dict'),
    ({}, 'non-empty dict'),
    ({'files': {'../evil': 'x'}}, "without '/'"),
    ({'files': {'..': 'x'}}, "not '.' or '..'"),
])
def test_bad_input_fails_and_changes_nothing(path, capsys, args, words):
    args = dict(args)
    if 'name_in_path' in args:
        args['path'] = '/usr/src/' + args.pop('name_in_path')
    args.setdefault('path', path)
    listing = sorted(os.listdir('/usr/src'))
    res = run(capsys, **args)
    assert res['rc'] == 1 and words in res['msg']
    assert sorted(os.listdir('/usr/src')) == listing
