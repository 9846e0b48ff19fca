# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OS family of a host from its os-release (module_utils/kmod_os.py);
the os-release texts are those the distributions ship, written out here."""
from __future__ import annotations

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_os

DEBIAN12 = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
'''
UBUNTU = '''PRETTY_NAME="Ubuntu 24.04.1 LTS"
VERSION_ID="24.04"
ID=ubuntu
ID_LIKE=debian
'''
ROCKY = '''NAME="Rocky Linux"
VERSION_ID="9.4"
ID="rocky"
ID_LIKE="rhel centos fedora"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
'''
ALPINE = '''NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
'''


@pytest.mark.parametrize('text, family, manager, initramfs', [
    (DEBIAN12, 'Debian', 'apt', 'update-initramfs'),
    (UBUNTU, 'Debian', 'apt', 'update-initramfs'),
    (ROCKY, 'RedHat', 'dnf', 'dracut'),
    ('ID=fedora\nVERSION_ID=40\n', 'RedHat', 'dnf', 'dracut'),
])
def test_profile_of_each_supported_family(text, family, manager, initramfs):
    prof = kmod_os.os_profile(kmod_os.parse_os_release(text))
    assert (prof['family'], prof['pkg_manager'], prof['initramfs_argv'][0]) == (family, manager, initramfs)
    assert '{kernel}' in prof['headers_package'] and 'dkms' in prof['base_packages']
    assert prof['tested'] is (family == 'Debian')


def test_debian_profile_values():
    prof = kmod_os.os_profile(kmod_os.parse_os_release(DEBIAN12))
    assert prof['id'] == 'debian' and prof['version_id'] == '12' and prof['name'] == 'Debian GNU/Linux 12 (bookworm)'
    assert prof['package_query'] == ['dpkg-query', '-W', '-f=${Package}\t${db:Status-Status}\n']
    assert prof['headers_package'] == 'linux-headers-{kernel}'
    prof['pkg_manager'] = 'changed'  # a copy: the table is not changed
    assert kmod_os.PROFILES['debian']['pkg_manager'] == 'apt'


def test_unsupported_os_has_no_profile_and_a_message_that_names_it():
    rel = kmod_os.parse_os_release(ALPINE)
    assert kmod_os.os_profile(rel) is None
    assert kmod_os.unsupported_message(rel) == (
        "OS Alpine Linux v3.20 (ID=alpine, ID_LIKE=-) is not supported: only the Debian family (tested) and the "
        "RedHat family (documented, not VM-tested) are. Leave this host out of the play.")
    assert kmod_os.os_profile({}) is None


def test_parse_os_release_quoting_and_comments():
    rel = kmod_os.parse_os_release('# comment\nA="x y"\nB=\'z\'\nC=plain\nbroken line\nD="unterminated\n')
    assert rel == {'A': 'x y', 'B': 'z', 'C': 'plain'}


def test_read_os_release_falls_back_to_usr_lib(tmp_path):
    lib = tmp_path / 'os-release'
    lib.write_text(UBUNTU)
    assert kmod_os.read_os_release((str(tmp_path / 'missing'), str(lib)))['ID'] == 'ubuntu'
    assert kmod_os.read_os_release((str(tmp_path / 'missing'),)) == {}
