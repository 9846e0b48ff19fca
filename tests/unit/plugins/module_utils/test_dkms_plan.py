# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dkms module's decisions in dkms_plan: input checks, kernels, the plan
of dkms commands, the check-mode prediction and the failure messages.

The DKMS state comes from recorded ``dkms status`` texts (the formats of
dkms 3.0 on Debian 12 and 3.2 on Debian 13, see test_kmod_dkms.py), parsed by
the real parser: no dkms command runs here (the module against the real dkms
is tests/integration/test_dkms_module.py). /lib/modules and the source
directories are real directories under tmp_path."""

from __future__ import annotations

import re

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import dkms_plan as dp
from ansible_collections.virtnet.failover.plugins.module_utils import kmod_dkms as kd

N = 'virtnet-failover'
K1, K2, K3 = '6.12.48+deb13-amd64', '6.12.41+deb13-amd64', '6.12.57+deb13-amd64'
RUNNING = K1
# dkms 3.2 (Debian 13): installed on K1, built on K2, installed but modified on K3, an older version added
STATUS_MIXED = """\
virtnet-failover/1.0.0, 6.12.48+deb13-amd64, x86_64: installed
virtnet-failover/1.0.0, 6.12.41+deb13-amd64, x86_64: built
virtnet-failover/1.0.0, 6.12.57+deb13-amd64, x86_64: installed (Differences between built and installed modules)
virtnet-failover/0.9.0: added
"""
STATUS_INSTALLED = "virtnet-failover/1.0.0, 6.12.48+deb13-amd64, x86_64: installed\n"
STATUS_BROKEN = "virtnet-failover/1.0.0: broken\n"
# dkms 3.0 (Debian 12) prints nothing for a module it does not know
STATUS_NONE = ""


def versions(text):
    return kd.versions_from_entries(kd.parse_status(text), N)


def commands(plan):
    return dp.command_lines(plan['steps'])


@pytest.fixture
def modules_dir(tmp_path):
    """/lib/modules with K1 and K2 installed, headers for K1 only."""
    d = tmp_path / 'modules'
    (d / K1 / 'build' / 'include').mkdir(parents=True)
    (d / K2).mkdir(parents=True)
    return str(d)


@pytest.fixture
def source_tree(tmp_path):
    d = tmp_path / 'src'
    (d / (N + '-1.0.0')).mkdir(parents=True)
    (d / (N + '-1.0.0') / 'dkms.conf').write_text('PACKAGE_NAME="%s"\nPACKAGE_VERSION="1.0.0"\n' % N)
    return str(d)


def plan(text, state='installed', kernels=(K1,), explicit=True, version='1.0.0', **kw):
    return dp.plan_actions(N, version, state, list(kernels), explicit, versions(text), **kw)


@pytest.mark.parametrize('name, version', [('../etc', '1.0'), ('a/b', '1.0'), ('x', '1.0/..'), ('x', ' 1.0'), ('-x', '1')])
def test_check_names_refuses_paths_and_options(name, version):
    with pytest.raises(dp.DkmsInputError, match='use letters, digits'):
        dp.check_names(name, version)


def test_resolve_kernels_running_list_and_comma_string(modules_dir):
    assert dp.resolve_kernels(None, 'installed', {}, '1.0.0', RUNNING, modules_dir) == ([RUNNING], True)
    assert dp.resolve_kernels(['running', K2, RUNNING], 'built', {}, '1.0.0', RUNNING, modules_dir) == ([RUNNING, K2], True)
    assert dp.resolve_kernels('%s, %s' % (K2, K1), 'built', {}, '1.0.0', RUNNING, modules_dir) == ([K2, K1], True)


def test_resolve_kernels_all_means_kernels_with_headers(modules_dir):
    assert dp.resolve_kernels('all', 'installed', {}, '1.0.0', RUNNING, modules_dir) == ([K1], True)


def test_resolve_kernels_all_without_headers_names_the_package(tmp_path):
    (tmp_path / K2).mkdir()
    with pytest.raises(dp.DkmsInputError, match='no installed kernel has headers.*linux-headers-' + re.escape(K2)):
        dp.resolve_kernels('all', 'installed', {}, '1.0.0', RUNNING, str(tmp_path))


@pytest.mark.parametrize('spec, words', [([], 'non-empty list'), ({'a': 1}, 'non-empty list'), (5, 'non-empty list'),
                                         (['../../etc'], 'invalid kernel release'), ('a;b', 'invalid kernel release')])
def test_resolve_kernels_refuses_bad_specs(modules_dir, spec, words):
    with pytest.raises(dp.DkmsInputError, match=words):
        dp.resolve_kernels(spec, 'installed', {}, '1.0.0', RUNNING, modules_dir)


def test_resolve_kernels_absent_default_from_parsed_status(modules_dir):
    v = versions(STATUS_MIXED)
    assert dp.resolve_kernels(None, 'absent', v, '1.0.0', RUNNING, modules_dir) == (sorted([K1, K2, K3]), False)
    assert dp.resolve_kernels('all', 'absent', v, '0.9.0', RUNNING, modules_dir) == ([], False)
    assert dp.resolve_kernels(None, 'absent', v, None, RUNNING, modules_dir) == (sorted([K1, K2, K3]), False)


def test_check_kernels_unknown_kernel_and_missing_headers(modules_dir):
    dp.check_kernels([K1], 'installed', RUNNING, modules_dir)
    dp.check_kernels(['9.9.9-x'], 'absent', RUNNING, modules_dir)  # nothing to build: not checked
    with pytest.raises(dp.DkmsInputError, match='unknown kernel 9.9.9-x.*installed kernels: ' + re.escape('%s, %s' % (K2, K1))):
        dp.check_kernels(['9.9.9-x'], 'built', RUNNING, modules_dir)
    with pytest.raises(dp.DkmsInputError, match='install the package linux-headers-' + re.escape(K2)) as e:
        dp.check_kernels([K2], 'installed', RUNNING, modules_dir)
    assert e.value.extra == {'kernel': K2, 'headers_package': 'linux-headers-%s' % K2}


def test_source_add_args(source_tree, tmp_path):
    default = source_tree + '/' + N + '-1.0.0'
    assert dp.source_add_args(N, '1.0.0', None, source_tree) == ['add', '-m', N, '-v', '1.0.0']
    assert dp.source_add_args(N, '1.0.0', default + '/', source_tree) == ['add', '-m', N, '-v', '1.0.0']
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'dkms.conf').write_text('PACKAGE_NAME=%s\nPACKAGE_VERSION=$(cat VERSION)\n' % N)
    assert dp.source_add_args(N, '1.0.0', str(other), source_tree) == ['add', str(other)]


@pytest.mark.parametrize('conf, source, words', [
    (None, 'missing', 'does not exist'),
    (None, None, 'is not added to DKMS and its source .* does not exist: deploy the source'),
    ('', 'dir', 'has no dkms.conf'),
    ('PACKAGE_NAME="other"\n', 'dir', 'name mismatch: .* PACKAGE_NAME=other but name=%s' % N),
    ('PACKAGE_VERSION="2.0"\n', 'dir', 'version mismatch: .* PACKAGE_VERSION=2.0 but version=1.0.0'),
])
def test_source_add_args_refusals(tmp_path, conf, source, words):
    if source == 'dir':
        source = str(tmp_path / 'dir')
        (tmp_path / 'dir').mkdir()
        if conf:
            (tmp_path / 'dir' / 'dkms.conf').write_text(conf)
    elif source == 'missing':
        source = str(tmp_path / 'missing')
    with pytest.raises(dp.DkmsInputError, match=words):
        dp.source_add_args(N, '1.0.0', source, str(tmp_path))


def test_plan_fresh_install_adds_builds_installs(source_tree):
    p = plan(STATUS_NONE, source_tree=source_tree)
    assert commands(p) == ['dkms add -m %s -v 1.0.0' % N, 'dkms build -m %s -v 1.0.0 -k %s' % (N, K1),
                           'dkms install -m %s -v 1.0.0 -k %s' % (N, K1)]
    assert p['before'] == {K1: 'absent'} and p['after'] == {K1: 'installed'}


def test_plan_fresh_install_without_source_refuses(tmp_path):
    with pytest.raises(dp.DkmsInputError, match='deploy the source'):
        plan(STATUS_NONE, source_tree=str(tmp_path))


def test_plan_from_parsed_status_mixed_kernels():
    """built -> install; installed but modified (diff) -> install --force; installed -> nothing."""
    p = plan(STATUS_MIXED, kernels=(K1, K2, K3))
    assert commands(p) == ['dkms install -m %s -v 1.0.0 -k %s' % (N, K2),
                           'dkms install -m %s -v 1.0.0 -k %s --force' % (N, K3)]
    assert p['notes'] == {K3: ['diff']}
    assert p['after'] == {K1: 'installed', K2: 'installed', K3: 'installed'}


def test_plan_from_parsed_status_nothing_to_do_and_levels():
    assert plan(STATUS_INSTALLED)['steps'] == []
    assert plan(STATUS_INSTALLED, state='built')['steps'] == []  # installed is above built: left alone
    assert plan(STATUS_INSTALLED, state='present')['steps'] == []
    assert commands(plan(STATUS_MIXED, state='built', kernels=(K1, '6.1.0-9-amd64'))) == \
        ['dkms build -m %s -v 1.0.0 -k 6.1.0-9-amd64' % N]


def test_plan_from_parsed_status_force_rebuilds_and_reinstalls():
    assert commands(plan(STATUS_INSTALLED, force=True)) == [
        'dkms unbuild -m %s -v 1.0.0 -k %s' % (N, K1), 'dkms build -m %s -v 1.0.0 -k %s' % (N, K1),
        'dkms install -m %s -v 1.0.0 -k %s' % (N, K1)]


def test_plan_from_parsed_status_other_versions_removed_after_build_before_install():
    p = plan(STATUS_MIXED, kernels=(K2,), remove_other_versions=True)
    assert [s[0] for s in p['steps']] == ['remove', 'install']
    assert p['removed'] == ['0.9.0']
    p = plan(STATUS_MIXED, kernels=(K2,), remove_other_versions=True, force=True)
    assert [s[0] for s in p['steps']] == ['unbuild', 'build', 'remove', 'install']


def test_plan_from_parsed_status_broken_version_refused():
    with pytest.raises(dp.DkmsInputError, match='broken in DKMS .* remove it with state=absent first'):
        plan(STATUS_BROKEN)


def test_plan_from_parsed_status_absent():
    # explicit kernels: unbuild where built or installed, the version stays added
    p = plan(STATUS_MIXED, state='absent', kernels=(K2, '6.1.0-9-amd64'))
    assert commands(p) == ['dkms unbuild -m %s -v 1.0.0 -k %s' % (N, K2)]
    assert p['after'] == {K2: 'added', '6.1.0-9-amd64': 'added'}
    # default kernels: remove the version
    p = plan(STATUS_MIXED, state='absent', kernels=(K1, K2, K3), explicit=False)
    assert commands(p) == ['dkms remove -m %s -v 1.0.0 --all' % N] and p['removed'] == ['1.0.0']
    assert set(p['after'].values()) == {'absent'}
    # no version: every version; unknown version: nothing
    p = plan(STATUS_MIXED, state='absent', kernels=(K1, K2, K3), explicit=False, version=None)
    assert p['removed'] == ['0.9.0', '1.0.0'] and p['before'] == {K1: 'installed', K2: 'built', K3: 'installed'}
    assert plan(STATUS_MIXED, state='absent', version='3.0', explicit=False, kernels=())['steps'] == []


def test_check_mode_prediction_from_parsed_status():
    v = versions(STATUS_MIXED)
    p = dp.plan_actions(N, '1.0.0', 'installed', [K2], True, v, remove_other_versions=True)
    predicted = dp.predict_versions(v, p, '1.0.0', 'installed')
    assert predicted == {'1.0.0': {'state': 'added', 'kernels': {K1: 'installed', K2: 'installed', K3: 'installed'}}}
    p = dp.plan_actions(N, '1.0.0', 'absent', [K1], True, v)
    assert dp.predict_versions(v, p, '1.0.0', 'absent')['1.0.0']['kernels'] == {K2: 'built', K3: 'installed'}
    p = dp.plan_actions(N, '1.0.0', 'installed', [K1], True, versions(STATUS_INSTALLED))
    assert dp.predict_versions(versions(STATUS_INSTALLED), p, '1.0.0', 'installed') == \
        dp.flat_versions(versions(STATUS_INSTALLED))


def test_status_after_from_parsed_status():
    v = versions(STATUS_MIXED)
    assert dp.status_after(v, '1.0.0', [K2, '6.1.0-9-amd64'], {}) == {K2: 'built', '6.1.0-9-amd64': 'added'}
    assert dp.status_after(versions(STATUS_INSTALLED), None, [], {K1: 'installed', K2: 'built'}) == \
        {K1: 'installed', K2: 'absent'}


def test_step_failure_messages(tmp_path):
    log = tmp_path / N / '1.0.0' / K1 / 'x86_64' / 'log' / 'make.log'
    log.parent.mkdir(parents=True)
    log.write_text(''.join('line %d\n' % i for i in range(100)))
    msg, extra = dp.step_failure('build', ['build'], K1, 10, 'Error! Bad return status', '', N, '1.0.0', 'x86_64',
                                 str(tmp_path))
    assert 'dkms build of %s/1.0.0 for kernel %s failed (rc=10). Last 40 lines of %s' % (N, K1, log) in msg
    assert msg.endswith('line 99') and 'line 59' not in msg and extra['make_log'] == str(log)
    msg, extra = dp.step_failure('build', ['build'], K2, 10, 'no log', '', N, '1.0.0', 'x86_64', str(tmp_path))
    assert 'no make.log was found; dkms said:\nno log' in msg and extra['make_log'] is None
    msg, extra = dp.step_failure('install', ['install', '-k', K2], K2, 1, '',
                                 'Error! Your kernel headers for kernel %s cannot be found' % K2, N, '1.0.0',
                                 'x86_64', str(tmp_path))
    assert 'kernel headers missing; install linux-headers-%s' % K2 in msg and extra == {}
    msg, _extra = dp.step_failure('remove', ['remove', '-m', N], None, 3, 'busy', '', N, '1.0.0', 'x86_64',
                                  str(tmp_path))
    assert msg == 'dkms remove -m %s failed (rc=3): busy' % N


def test_install_shortfall():
    assert dp.install_shortfall('installed', [K1], {K1: 'installed'}, N, '1.0.0') is None
    assert dp.install_shortfall('built', [K1], {K1: 'built'}, N, '1.0.0') is None
    msg = dp.install_shortfall('installed', [K1, K2], {K1: 'installed', K2: 'built'}, N, '1.0.0')
    assert 'did not install %s/1.0.0 for kernel(s) %s although it reported success' % (N, K2) in msg


def test_pending_actions_empty_only_when_dkms_has_nothing_to_do():
    # installed for the target, no other version: nothing, so the kmod role does not ask dkms
    assert dp.pending_actions(N, '1.0.0', [K1], versions(STATUS_INSTALLED)) == []
    # another kernel to install, an older version to remove
    assert dp.pending_actions(N, '1.0.0', [K1, K2], versions(STATUS_MIXED)) == [
        'dkms remove -m %s -v 0.9.0 --all' % N, 'dkms install -m %s -v 1.0.0 -k %s' % (N, K2)]
    # not added yet (no source needed for the prediction), and broken: both planned from an add
    fresh = dp.pending_actions(N, '1.0.0', [K1], versions(STATUS_NONE))
    assert fresh == ['dkms add -m %s -v 1.0.0' % N, 'dkms build -m %s -v 1.0.0 -k %s' % (N, K1),
                     'dkms install -m %s -v 1.0.0 -k %s' % (N, K1)]
    assert dp.pending_actions(N, '1.0.0', [K1], versions(STATUS_BROKEN)) == fresh
    # a new version: the installed one is removed after the new one is built
    assert dp.pending_actions(N, '1.1.0', [K1], versions(STATUS_INSTALLED)) == [
        'dkms add -m %s -v 1.1.0' % N, 'dkms build -m %s -v 1.1.0 -k %s' % (N, K1),
        'dkms remove -m %s -v 1.0.0 --all' % N, 'dkms install -m %s -v 1.1.0 -k %s' % (N, K1)]
