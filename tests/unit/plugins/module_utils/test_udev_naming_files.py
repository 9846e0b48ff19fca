# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The slave_names role's files (module_utils/udev_naming.py) brought to
their state by module_utils/managed_files.py, on real temp dirs (as root:
ownership is checked and set)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import managed_files as mf
from ansible_collections.virtnet.failover.plugins.module_utils import udev_naming as un

ROOT = Path(__file__).resolve().parents[4]
CODE = dict((n, (ROOT / 'plugins' / 'module_utils' / n).read_text()) for n in un.NAMING_CODE)
HELPER = (ROOT / 'roles' / 'slave_names' / 'files' / 'slave-name.py').read_text()
POLICY = dict(standby_template='{master}nsby', primary_template='{master}npri', names=[])

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='sets root ownership: run the unit tests as root')


def paths(tmp_path):
    return str(tmp_path / 'rules.d' / '81-vnf.rules'), str(tmp_path / 'libexec' / 'vnf-slave-name')


def sync(entries):
    changes = mf.plan(entries)
    mf.apply(entries, changes)
    return changes


def present(tmp_path, **kw):
    rules, helper = paths(tmp_path)
    (tmp_path / 'rules.d').mkdir(exist_ok=True)
    args = dict(helper=HELPER, naming_code=CODE, policy=POLICY, master_wait=3)
    args.update(kw)
    return un.entries('present', rules, helper, **args)


def test_install_then_nothing_to_do(tmp_path):
    rules, helper = paths(tmp_path)
    changes = sync(present(tmp_path))
    assert [(c['action'], os.path.basename(c['path'])) for c in changes] == [
        ('mkdir', 'libexec'), ('mkdir', 'virtnet-failover'), ('write', 'failover_naming.py'),
        ('write', 'ethtool_drvinfo.py'), ('write', 'policy.json'), ('write', 'vnf-slave-name'), ('write', '81-vnf.rules')]
    assert un.udev_reload_needed(changes, rules)
    assert stat.S_IMODE(os.stat(helper).st_mode) == 0o755 and stat.S_IMODE(os.stat(rules).st_mode) == 0o644
    assert 'PROGRAM="/usr/bin/python3 %s $kernel", NAME="%%c"' % helper in Path(rules).read_text()
    assert json.loads(Path(un.lib_dir(helper), 'policy.json').read_text())['master_wait'] == 3.0
    assert mf.plan(present(tmp_path)) == []
    assert not list(Path(un.lib_dir(helper)).glob('.*')), 'no temporary file left'


def test_installed_helper_names_with_the_shipped_code(tmp_path):
    """The helper runs from its install dir with the naming code next to it (no such device: exit 1, no name)."""
    _rules, helper = paths(tmp_path)
    sync(present(tmp_path))
    r = subprocess.run([sys.executable, helper, 'vnfo-no-such-dev'], capture_output=True, text=True, check=False)
    assert r.returncode != 0 and r.stdout == ''
    assert 'Traceback' not in r.stderr, r.stderr


def test_policy_change_rewrites_only_the_data_and_needs_no_reload(tmp_path):
    rules, _helper = paths(tmp_path)
    sync(present(tmp_path))
    changes = sync(present(tmp_path, policy=dict(POLICY, standby_template='{master}sby')))
    assert [(c['action'], os.path.basename(c['path']), c['why']) for c in changes] == [('write', 'policy.json', 'content')]
    assert not un.udev_reload_needed(changes, rules)


def test_mode_and_owner_drift_is_put_back(tmp_path):
    rules, helper = paths(tmp_path)
    sync(present(tmp_path))
    os.chmod(helper, 0o777)
    os.chown(rules, 1, 1)
    changes = sync(present(tmp_path))
    assert [(c['action'], c['path']) for c in changes] == [('chmod', helper), ('chmod', rules)]
    assert stat.S_IMODE(os.stat(helper).st_mode) == 0o755 and os.stat(rules).st_uid == 0


def test_absent_removes_rule_helper_and_data(tmp_path):
    rules, helper = paths(tmp_path)
    sync(present(tmp_path))
    absent = un.entries('absent', rules, helper)
    changes = sync(absent)
    assert [c['action'] for c in changes] == ['remove'] * 3
    assert not os.path.exists(rules) and not os.path.exists(helper) and not os.path.exists(un.lib_dir(helper))
    assert mf.plan(absent) == []


def test_diff_shows_old_and_new_text(tmp_path):
    rules, _helper = paths(tmp_path)
    sync(present(tmp_path))
    Path(rules).write_text('# edited by hand\n')
    wanted = present(tmp_path)
    d = mf.diff(wanted, mf.plan(wanted))
    assert d == [dict(before_header=rules, after_header=rules, before='# edited by hand\n',
                      after=un.rule_text(paths(tmp_path)[1]))]


@pytest.mark.parametrize('rules_name', ['80-x.rules', '99-x.conf', 'x.rules', '100-x.rules', '81-.rules'])
def test_rules_file_that_would_not_win_is_refused(tmp_path, rules_name):
    with pytest.raises(un.UdevNamingError, match='must be named 81-\\*.rules to 99-\\*.rules'):
        un.entries('present', str(tmp_path / rules_name), '/usr/local/libexec/h', HELPER, CODE, POLICY)


def test_bad_input_is_refused_before_anything_is_written(tmp_path):
    rules, helper = paths(tmp_path)
    with pytest.raises(un.UdevNamingError, match='naming_code must give exactly'):
        un.entries('present', rules, helper, HELPER, {'failover_naming.py': 'x'}, POLICY)
    with pytest.raises(un.UdevNamingError, match='helper is empty'):
        un.entries('present', rules, helper, '', CODE, POLICY)
    with pytest.raises(un.UdevNamingError, match='must be an absolute file path'):
        un.entries('present', rules, 'libexec/h', HELPER, CODE, POLICY)
    with pytest.raises(un.UdevNamingError, match='master_wait -1 is negative'):
        un.entries('present', rules, helper, HELPER, CODE, POLICY, -1)
    with pytest.raises(mf.ManagedFilesError, match='absolute, normalized'):
        mf.plan([mf.wanted_file('/a/../b', 'x', 0o644)])
    assert not os.path.exists(tmp_path / 'libexec')


def test_a_directory_where_a_file_goes_is_refused(tmp_path):
    rules, _helper = paths(tmp_path)
    (tmp_path / 'rules.d').mkdir()
    os.mkdir(rules)
    with pytest.raises(mf.ManagedFilesError, match='is not a regular file: move it away'):
        mf.plan(present(tmp_path))
