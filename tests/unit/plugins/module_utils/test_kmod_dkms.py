# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dkms status parsing (real outputs) and the direct DKMS tree reader."""

from __future__ import annotations

import os
import sys

_COLL = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '.build', 'collections'))
if _COLL not in sys.path:
    sys.path.insert(0, _COLL)

from ansible_collections.virtnet.failover.plugins.module_utils import dkms_plan as dp  # noqa: E402
from ansible_collections.virtnet.failover.plugins.module_utils import kmod_dkms as kd  # noqa: E402

# Collected from dkms 3.0.10-8+deb12u1 (Debian 12) on this host with a
# one-file test module, in this order: built, installed, installed after the
# installed .ko was modified, added only (two versions), and `-k` for a kernel
# the version is not built for.
DEB12_BUILT = "vfo-probe/1.0, 6.1.0-56-amd64, x86_64: built\n"
DEB12_INSTALLED = "vfo-probe/1.0, 6.1.0-56-amd64, x86_64: installed\n"
DEB12_DIFF = ("vfo-probe/1.0, 6.1.0-56-amd64, x86_64: installed "
              "(WARNING! Diff between built and installed module!)\n")
DEB12_ADDED_TWO = "vfo-probe/1.0: added\nvfo-probe/2.0: added\n"
DEB12_ERROR_MIXED = ("vfo-probe/1.0: added"
                     "Error! Your kernel headers for kernel 6.18.44-fc-v782 cannot be found at "
                     "/lib/modules/6.18.44-fc-v782/build or /lib/modules/6.18.44-fc-v782/source.\n")
# dkms >= 3.1 (Debian 13 ships 3.2.x): wording of the extra notes changed and
# a version directory without its source link is reported as broken
# (dkms.in: do_status / module_status_built_extra).
DEB13_MIXED = """\
virtnet-failover/1.0.0, 6.12.48+deb13-amd64, x86_64: installed
virtnet-failover/1.0.0, 6.12.41+deb13-amd64, x86_64: built
virtnet-failover/1.0.0, 6.12.57+deb13-amd64, x86_64: installed (Differences between built and installed modules)
virtnet-failover/0.9.0: added
nvidia/550.163.01, 6.12.48+deb13-amd64, x86_64: installed (Original modules exist)
zfs/2.3.2: broken
Error! zfs/2.3.2: Missing the module source directory or the symbolic link pointing to it.
Manual intervention is required!
"""
# dkms 2.x (Debian 10/11 2.8.x) and weak installs (RHEL)
OLD_FORMAT = """\
virtualbox, 6.1.38, 5.10.0-18-amd64, x86_64: installed
virtualbox, 6.1.38, 5.10.0-19-amd64, x86_64: built
acpi_call, 1.1.0: added
kmod-x, 2.0, 4.18.0-513.el8.x86_64, x86_64: installed-weak from 4.18.0-477.el8.x86_64
"""


def test_parse_deb12_states():
    e = kd.parse_status(DEB12_BUILT)[0]
    assert (e['name'], e['version'], e['kernel'], e['arch'], e['state']) == \
        ('vfo-probe', '1.0', '6.1.0-56-amd64', 'x86_64', 'built')
    assert kd.parse_status(DEB12_INSTALLED)[0]['state'] == 'installed'
    e = kd.parse_status(DEB12_DIFF)[0]
    assert e['state'] == 'installed' and e['flags'] == ['diff']
    assert e['notes'] == ['WARNING! Diff between built and installed module!']


def test_parse_added_and_errors_ignored():
    es = kd.parse_status(DEB12_ADDED_TWO)
    assert [(e['version'], e['state'], e['kernel']) for e in es] == [('1.0', 'added', None), ('2.0', 'added', None)]
    # dkms wrote an error right after "added" without a newline (stderr merged)
    es = kd.parse_status(DEB12_ERROR_MIXED)
    assert len(es) == 1 and es[0]['state'].startswith('added')


def test_parse_deb13_formats():
    es = kd.parse_status(DEB13_MIXED)
    by = dict(((e['name'], e['version'], e['kernel']), e) for e in es)
    assert by[('virtnet-failover', '1.0.0', '6.12.48+deb13-amd64')]['state'] == 'installed'
    assert by[('virtnet-failover', '1.0.0', '6.12.41+deb13-amd64')]['state'] == 'built'
    d = by[('virtnet-failover', '1.0.0', '6.12.57+deb13-amd64')]
    assert d['state'] == 'installed' and d['flags'] == ['diff']
    assert by[('nvidia', '550.163.01', '6.12.48+deb13-amd64')]['flags'] == ['original_module']
    assert by[('zfs', '2.3.2', None)]['state'] == 'broken'
    assert by[('virtnet-failover', '0.9.0', None)]['state'] == 'added'
    assert len(es) == 6


def test_parse_old_and_weak():
    es = kd.parse_status(OLD_FORMAT)
    assert [(e['name'], e['version'], e['kernel'], e['state']) for e in es] == [
        ('virtualbox', '6.1.38', '5.10.0-18-amd64', 'installed'),
        ('virtualbox', '6.1.38', '5.10.0-19-amd64', 'built'),
        ('acpi_call', '1.1.0', None, 'added'),
        ('kmod-x', '2.0', '4.18.0-513.el8.x86_64', 'installed-weak'),
    ]
    assert es[3]['notes'] == ['installed-weak from 4.18.0-477.el8.x86_64']


def test_missing_built_flag_both_wordings():
    old = kd.parse_status("m/1, 6.1.0-1-amd64, x86_64: installed (WARNING! Missing some built modules!)")
    new = kd.parse_status("m/1, 6.1.0-1-amd64, x86_64: built (Built modules are missing in the kernel modules folder)")
    assert old[0]['flags'] == ['missing_built'] and new[0]['flags'] == ['missing_built']


def test_versions_and_kernel_state():
    v = kd.versions_from_entries(kd.parse_status(DEB13_MIXED), 'virtnet-failover')
    assert sorted(v) == ['0.9.0', '1.0.0']
    assert kd.kernel_state(v, '1.0.0', '6.12.48+deb13-amd64') == 'installed'
    assert kd.kernel_state(v, '1.0.0', '6.12.41+deb13-amd64') == 'built'
    assert kd.kernel_state(v, '1.0.0', '6.99.0-1-amd64') == 'added'
    assert kd.kernel_state(v, '0.9.0', '6.12.48+deb13-amd64') == 'added'
    assert kd.kernel_state(v, '2.0.0', '6.12.48+deb13-amd64') == 'absent'
    z = kd.versions_from_entries(kd.parse_status(DEB13_MIXED), 'zfs')
    assert kd.kernel_state(z, '2.3.2', 'x') == 'broken'
    assert kd.versions_from_entries(kd.parse_status(''), 'x') == {}


def _make_tree(root, name='virtnet-failover', version='1.0.0', kernels=(('6.1.0-56-amd64', True),),
               modname='failover', arch='x86_64', conf=True, source=True):
    src = root / 'usr_src' / ('%s-%s' % (name, version))
    src.mkdir(parents=True, exist_ok=True)
    if conf:
        (src / 'dkms.conf').write_text('PACKAGE_NAME="%s"\nPACKAGE_VERSION="%s"\nBUILT_MODULE_NAME[0]="%s"\n'
                                       'DEST_MODULE_LOCATION[0]="/updates/dkms"\n' % (name, version, modname))
    tree = root / 'dkms'
    vdir = tree / name / version
    vdir.mkdir(parents=True, exist_ok=True)
    if source:
        os.symlink(str(src), str(vdir / 'source'))
    (vdir / 'build').mkdir(exist_ok=True)
    for k, installed in kernels:
        mdir = vdir / k / arch / 'module'
        mdir.mkdir(parents=True)
        (mdir / (modname + '.ko')).write_bytes(b'\x7fELF')
        if installed:
            link = tree / name / ('kernel-%s-%s' % (k, arch))
            if os.path.lexists(str(link)):
                os.unlink(str(link))
            os.symlink('%s/%s/%s' % (version, k, arch), str(link))
    return str(tree)


def test_read_tree_states(tmp_path):
    tree = _make_tree(tmp_path, kernels=(('6.1.0-56-amd64', True), ('6.1.0-58-amd64', False)))
    _make_tree(tmp_path, version='0.9.0', kernels=())
    v = kd.read_tree('virtnet-failover', tree)
    assert v['1.0.0']['state'] == 'added'
    assert {k: d['state'] for k, d in v['1.0.0']['kernels'].items()} == {
        '6.1.0-56-amd64': 'installed', '6.1.0-58-amd64': 'built'}
    assert v['0.9.0'] == {'state': 'added', 'kernels': {}}
    assert kd.read_tree('nothing', tree) == {}


def test_read_tree_missing_module_file_is_not_built(tmp_path):
    tree = _make_tree(tmp_path, kernels=(('6.1.0-56-amd64', True),))
    os.unlink(os.path.join(tree, 'virtnet-failover', '1.0.0', '6.1.0-56-amd64', 'x86_64', 'module', 'failover.ko'))
    v = kd.read_tree('virtnet-failover', tree)
    assert v['1.0.0']['kernels'] == {}


def test_read_tree_broken_without_source(tmp_path):
    tree = _make_tree(tmp_path, source=False)
    assert kd.read_tree('virtnet-failover', tree)['1.0.0']['state'] == 'broken'


def test_read_tree_installed_link_to_other_version(tmp_path):
    tree = _make_tree(tmp_path, version='1.0.0', kernels=(('6.1.0-56-amd64', True),))
    _make_tree(tmp_path, version='2.0.0', kernels=(('6.1.0-56-amd64', True),))  # link now -> 2.0.0
    v = kd.read_tree('virtnet-failover', tree)
    assert v['1.0.0']['kernels']['6.1.0-56-amd64']['state'] == 'built'
    assert v['2.0.0']['kernels']['6.1.0-56-amd64']['state'] == 'installed'


def test_dkms_conf(tmp_path):
    conf = tmp_path / 'dkms.conf'
    conf.write_text('# comment\nPACKAGE_NAME="virtnet-failover"\nPACKAGE_VERSION=1.2.3\n'
                    'BUILT_MODULE_NAME[0]="failover"\nBUILT_MODULE_NAME[1]=extra_mod\n'
                    'DEST_MODULE_NAME[1]="renamed"\nMAKE[0]="make -C ${kernel_source_dir} M=${dkms_tree}"\n')
    scalars, arrays = kd.read_dkms_conf(str(conf))
    assert scalars['PACKAGE_NAME'] == 'virtnet-failover' and scalars['PACKAGE_VERSION'] == '1.2.3'
    assert kd.dest_module_names(str(conf)) == ['failover', 'renamed']
    assert not kd.is_literal(arrays['MAKE'][0]) and kd.is_literal('1.2.3')
    assert not kd.is_literal('#MODULE_VERSION#')
    conf.write_text('PACKAGE_NAME=single\nPACKAGE_VERSION=1\n')
    assert kd.dest_module_names(str(conf)) == ['single']


def test_version_key_orders_kernels():
    ks = ['6.1.0-9-amd64', '6.1.0-56-amd64', '6.1.0-10-amd64', '5.10.0-30-amd64', '6.12.48+deb13-amd64']
    assert sorted(ks, key=kd.version_key) == ['5.10.0-30-amd64', '6.1.0-9-amd64', '6.1.0-10-amd64',
                                              '6.1.0-56-amd64', '6.12.48+deb13-amd64']


def test_headers_and_packages(tmp_path):
    mods = tmp_path / 'modules'
    (mods / '6.1.0-56-amd64').mkdir(parents=True)
    (mods / '6.1.0-57-amd64').mkdir()
    hdr = tmp_path / 'hdr'
    (hdr / 'include').mkdir(parents=True)
    os.symlink(str(hdr), str(mods / '6.1.0-56-amd64' / 'build'))
    os.symlink(str(tmp_path / 'gone'), str(mods / '6.1.0-57-amd64' / 'build'))
    assert kd.installed_kernels(str(mods)) == ['6.1.0-56-amd64', '6.1.0-57-amd64']
    assert kd.has_headers('6.1.0-56-amd64', str(mods))
    assert not kd.has_headers('6.1.0-57-amd64', str(mods))
    assert dp.headers_package('6.1.0-57-amd64', 'Debian') == 'linux-headers-6.1.0-57-amd64'
    assert dp.headers_package('5.14.0-1.el9.x86_64', 'RedHat') == 'kernel-devel-5.14.0-1.el9.x86_64'
    assert 'apt-get install dkms' in dp.dkms_package_hint('Debian')


def test_make_log_lookup_and_tail(tmp_path):
    log = tmp_path / 'm' / '1' / 'build' / 'make.log'
    log.parent.mkdir(parents=True)
    log.write_text(''.join('line %d\n' % i for i in range(100)))
    out = 'Error! Bad return status ...\nConsult %s for more information.\n' % log
    assert dp.find_make_log(out, str(tmp_path), 'm', '1', 'k', 'x86_64') == str(log)
    assert dp.find_make_log('', str(tmp_path), 'm', '1', 'k', 'x86_64') == str(log)
    tail = dp.tail_file(str(log), 40)
    assert tail.splitlines()[0] == 'line 60' and tail.splitlines()[-1] == 'line 99'
    assert dp.tail_file(str(tmp_path / 'nope')) is None


def test_read_tree_agrees_with_dkms_status(tmp_path):
    """The direct tree reader and dkms's own `dkms status` (tests/host-packages.txt installs dkms) read
    the same temporary tree: installed, built and added versions."""
    import shutil
    import subprocess
    dkms = shutil.which('dkms')
    assert dkms, 'dkms is not installed: install the packages of tests/host-packages.txt'
    tree = _make_tree(tmp_path, kernels=(('6.1.0-56-amd64', True), ('6.1.0-57-amd64', False)))
    _make_tree(tmp_path, version='2.0.0', kernels=())
    _make_tree(tmp_path, version='1.1.0', kernels=(('6.12.48+deb13-amd64', False),))
    out = subprocess.run([dkms, 'status', '-m', 'virtnet-failover', '--dkmstree', tree], check=True,
                         capture_output=True, text=True, env=dict(os.environ, LC_ALL='C')).stdout
    from_command = kd.versions_from_entries(kd.parse_status(out), 'virtnet-failover')
    from_tree = kd.read_tree('virtnet-failover', tree)

    def states(versions):
        return {v: (d['state'], {k: kd_['state'] for k, kd_ in d['kernels'].items()}) for v, d in versions.items()}

    assert states(from_tree) == states(from_command)
    assert states(from_tree) == {
        '1.0.0': ('added', {'6.1.0-56-amd64': 'installed', '6.1.0-57-amd64': 'built'}),
        '1.1.0': ('added', {'6.12.48+deb13-amd64': 'built'}),
        '2.0.0': ('added', {}),
    }


def test_stale_builds_are_builds_older_than_their_source(tmp_path):
    k1, k2 = '6.1.0-56-amd64', '6.1.0-58-amd64'
    tree = _make_tree(tmp_path, kernels=((k1, True), (k2, True)))
    ko2 = os.path.join(tree, 'virtnet-failover', '1.0.0', k2, 'x86_64', 'module', 'failover.ko')
    os.utime(ko2, (1000, 1000))  # k2 was built long ago
    versions = kd.read_tree('virtnet-failover', tree)
    assert versions['1.0.0']['kernels'][k2]['built_mtime'] == 1000
    built_k1 = versions['1.0.0']['kernels'][k1]['built_mtime']
    # the source replaced after k2's build and before k1's: k2 is rebuilt, k1 is not
    assert dp.stale_builds(versions, '1.0.0', [k1, k2], 2000) == [k2]
    assert dp.stale_builds(versions, '1.0.0', [k1, k2], built_k1 + 1) == [k1, k2]
    assert dp.stale_builds(versions, '1.0.0', [k1, k2], None) == []      # no source tree
    assert dp.stale_builds(versions, '2.0.0', [k1, k2], 2000) == []      # not built: nothing to redo
    # the rebuild is planned: unbuild, build and install again
    assert dp.pending_actions('virtnet-failover', '1.0.0', [k2], versions, rebuild=True) == [
        'dkms unbuild -m virtnet-failover -v 1.0.0 -k %s' % k2, 'dkms build -m virtnet-failover -v 1.0.0 -k %s' % k2,
        'dkms install -m virtnet-failover -v 1.0.0 -k %s' % k2]
