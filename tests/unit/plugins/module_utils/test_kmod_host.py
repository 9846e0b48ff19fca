# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host facts of the kmod preflight (module_utils/kmod_host.py): real files
in temp dirs and real commands (sh, printf) standing in for dpkg-query and
mokutil."""
from __future__ import annotations

import subprocess

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_host


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, check=False)
    return r.returncode, r.stdout, r.stderr


def test_installed_packages_from_dpkg_query_lines_on_this_host():
    names = kmod_host.installed_packages(['dpkg-query', '-W', '-f=${Package}\t${db:Status-Status}\n'], run)
    assert 'dpkg' in names and 'no-such-package-vnfo' not in names


def test_installed_packages_keeps_only_installed_status():
    out = 'dkms\tinstalled\nlinux-headers-x\tconfig-files\nbroken line\npython3-pyroute2\tinstalled\n'
    assert kmod_host.installed_packages(['printf', out], run) == {'dkms', 'python3-pyroute2'}
    assert kmod_host.installed_packages(['sh', '-c', 'echo "dkms\tinstalled"; exit 1'], run) == set()


def fake_mokutil(tmp_path, text, rc=0):
    path = tmp_path / 'mokutil'
    path.write_text('#!/bin/sh\necho "%s"\nexit %d\n' % (text, rc))
    path.chmod(0o755)
    return str(path)


def test_secure_boot_from_mokutil(tmp_path):
    assert kmod_host.secure_boot_state(fake_mokutil(tmp_path, 'SecureBoot enabled'), run) == 'enabled'
    assert kmod_host.secure_boot_state(fake_mokutil(tmp_path, 'SecureBoot disabled'), run) == 'disabled'
    assert kmod_host.secure_boot_state(fake_mokutil(tmp_path, 'EFI variables are not supported on this system', 1),
                                       run) == 'unknown: EFI variables are not supported on this system'


def test_secure_boot_from_the_efi_variable(tmp_path):
    var = tmp_path / 'SecureBoot'
    var.write_bytes(b'\x06\x00\x00\x00\x01')
    assert kmod_host.secure_boot_state(None, run, str(var)) == 'enabled'
    var.write_bytes(b'\x06\x00\x00\x00\x00')
    assert kmod_host.secure_boot_state(None, run, str(var)) == 'disabled'
    assert kmod_host.secure_boot_state(None, run, str(tmp_path / 'none')) == 'disabled'


def test_signing_source(tmp_path):
    key, cert = tmp_path / 'mok.key', tmp_path / 'mok.pub'
    conf = tmp_path / 'framework.conf'
    confd = tmp_path / 'framework.conf.d'
    confd.mkdir()
    src = tmp_path / 'src'
    src.mkdir()
    confs = (str(conf), str(confd / '*.conf'))
    assert kmod_host.signing_source(str(key), str(cert), str(src), confs) == 'none'
    key.write_text('k')
    cert.write_text('')
    assert kmod_host.signing_source(str(key), str(cert), str(src), confs) == 'none'  # empty certificate
    (src / 'dkms.conf').write_text('PACKAGE_NAME=x\n  sign_tool="/etc/dkms/sign.sh"\n')
    assert kmod_host.signing_source(str(key), str(cert), str(src), confs) == 'config %s/dkms.conf' % src
    (confd / '10-sign.conf').write_text('mok_signing_key=/root/k\n')
    assert kmod_host.signing_source(str(key), str(cert), str(src), confs) == 'config %s/10-sign.conf' % confd
    conf.write_text('# sign_tool=commented\n')
    assert kmod_host.signing_source(str(key), str(cert), str(src), confs) == 'config %s/10-sign.conf' % confd
    cert.write_text('c')
    assert kmod_host.signing_source(str(key), str(cert), str(src), confs) == 'mok %s' % key


def test_headers_define_reads_build_then_source(tmp_path):
    inc = tmp_path / 'k' / 'source' / 'include' / 'linux'
    inc.mkdir(parents=True)
    (inc / 'netdevice.h').write_text('#define IFF_LIVE_RENAME_OK_NOT 1\n')
    assert not kmod_host.headers_define('k', 'IFF_LIVE_RENAME_OK', str(tmp_path))
    (inc / 'netdevice.h').write_text('\tIFF_LIVE_RENAME_OK\t\t= 1<<30,\n')
    assert kmod_host.headers_define('k', 'IFF_LIVE_RENAME_OK', str(tmp_path))
    assert not kmod_host.headers_define('other', 'IFF_LIVE_RENAME_OK', str(tmp_path))
