# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the kmod role needs to know about an OS family: its packages, how to
list the installed ones, its headers package, and how it rebuilds an
initramfs.  The family is told from /etc/os-release (ID, then ID_LIKE).
Pure Python, no Ansible imports."""

from __future__ import annotations

import shlex

OS_RELEASE = ('/etc/os-release', '/usr/lib/os-release')

PROFILES = {
    # Debian 12, 13 and 14 are tested in the VM lab.
    'debian': dict(
        family='Debian', tested=True, pkg_manager='apt',
        base_packages=['dkms', 'python3-pyroute2'],
        headers_package='linux-headers-{kernel}',
        package_query=['dpkg-query', '-W', '-f=${Package}\t${db:Status-Status}\n'],
        initramfs_argv=['update-initramfs', '-u', '-k'],
        initramfs_image='/boot/initrd.img-{kernel}'),
    # RHEL-likes and Fedora, written from the distributions' documentation, not VM-tested:
    # dkms and python3-pyroute2 come from EPEL on RHEL-likes, headers are kernel-devel.
    'rhel': dict(
        family='RedHat', tested=False, pkg_manager='dnf',
        base_packages=['dkms', 'python3-pyroute2', 'gcc', 'make', 'elfutils-libelf-devel'],
        headers_package='kernel-devel-{kernel}',
        package_query=['rpm', '-qa', '--qf', '%{NAME}\tinstalled\n'],
        initramfs_argv=['dracut', '-f', '--kver'],
        initramfs_image='/boot/initramfs-{kernel}.img'),
}
# os-release IDs of each profile (ID, or a word of ID_LIKE).
IDS = {'debian': 'debian', 'ubuntu': 'debian',
       'rhel': 'rhel', 'fedora': 'rhel', 'centos': 'rhel', 'rocky': 'rhel', 'almalinux': 'rhel'}


def parse_os_release(text):
    """KEY=value lines of os-release(5), values unquoted as a shell would."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, _sep, value = line.partition('=')
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        out[key.strip()] = ' '.join(words)
    return out


def read_os_release(paths=OS_RELEASE):
    for path in paths:
        try:
            with open(path, 'r', encoding='utf-8', errors='replace') as f:
                return parse_os_release(f.read())
        except OSError:
            continue
    return {}


def os_profile(os_release):
    """The profile of this OS (a copy, with id, name and version_id), or None."""
    ids = [os_release.get('ID', '')] + os_release.get('ID_LIKE', '').split()
    for i in ids:
        key = IDS.get(i.lower())
        if key:
            return dict(PROFILES[key], id=os_release.get('ID'), name=os_release.get('PRETTY_NAME'),
                        version_id=os_release.get('VERSION_ID'))
    return None


def unsupported_message(os_release):
    return ("OS %s (ID=%s, ID_LIKE=%s) is not supported: only the Debian family (tested) and the RedHat family "
            "(documented, not VM-tested) are. Leave this host out of the play."
            % (os_release.get('PRETTY_NAME') or 'unknown', os_release.get('ID') or '-', os_release.get('ID_LIKE') or '-'))
