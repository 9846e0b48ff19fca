# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DKMS name and version from a dkms.conf (plugin_utils.dkms_identity), real files."""

from __future__ import annotations

import os

import pytest

from ansible_collections.virtnet.failover.plugins.plugin_utils.dkms_identity import (
    SHIPPED_DKMS_CONF,
    DkmsIdentityError,
    read_identity,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def conf(tmp_path, text):
    path = tmp_path / "dkms.conf"
    path.write_text(text)
    return str(path)


def test_the_shipped_dkms_conf_is_the_one_in_the_collection():
    assert os.path.samefile(SHIPPED_DKMS_CONF, os.path.join(ROOT, "roles/kmod/files/virtnet-failover/dkms.conf"))
    identity = read_identity()
    assert identity["name"] == "virtnet-failover"
    with open(SHIPPED_DKMS_CONF) as fh:
        assert 'PACKAGE_VERSION="%s"\n' % identity["version"] in fh.read()


@pytest.mark.parametrize("text", [
    'PACKAGE_NAME="vnf"\nPACKAGE_VERSION="1.2.3"\n',
    "PACKAGE_NAME='vnf'\nPACKAGE_VERSION='1.2.3'\n",
    "PACKAGE_NAME=vnf\nPACKAGE_VERSION=1.2.3\n",
    'PACKAGE_NAME="vnf"  # the package\nPACKAGE_VERSION=1.2.3 # the version\n',
    "# PACKAGE_VERSION=0.9\n  PACKAGE_NAME=\"vnf\"\nMAKE[0]=\"make -C ${kernel_source_dir}\"\nPACKAGE_VERSION=\"1.2.3\"\n",
    'PACKAGE_NAME="old"\nPACKAGE_VERSION="0.1"\nPACKAGE_NAME="vnf"\nPACKAGE_VERSION="1.2.3"\n',  # the last one wins, as in bash
])
def test_quoting_variants(tmp_path, text):
    assert read_identity(conf(tmp_path, text)) == {"name": "vnf", "version": "1.2.3"}


@pytest.mark.parametrize("text, message", [
    ('PACKAGE_NAME="vnf"\n', 'sets no PACKAGE_VERSION: add a line PACKAGE_VERSION="..." to it'),
    ('PACKAGE_VERSION="1.0"\n', 'sets no PACKAGE_NAME: add a line PACKAGE_NAME="..." to it'),
    ('PACKAGE_NAME=""\nPACKAGE_VERSION="1.0"\n', "sets no PACKAGE_NAME"),
    ('# PACKAGE_NAME="vnf"\nPACKAGE_VERSION="1.0"\n', "sets no PACKAGE_NAME"),
    ('PACKAGE_NAME="vnf"\nPACKAGE_VERSION="${VERSION}"\n', 'PACKAGE_VERSION=${VERSION} is not a plain value'),
    ('PACKAGE_NAME="vnf"\nPACKAGE_VERSION=`date`\n', 'PACKAGE_VERSION=`date` is not a plain value'),
    ('PACKAGE_NAME="v n f"\nPACKAGE_VERSION="1.0"\n', 'PACKAGE_NAME=v n f is not a plain value'),
    ('PACKAGE_NAME="vnf"\nPACKAGE_VERSION="1.0\n', 'PACKAGE_VERSION="1.0 is not a plain value'),
    ('PACKAGE_NAME="vnf"\nPACKAGE_VERSION=1.0#x\n', 'PACKAGE_VERSION=1.0#x is not a plain value'),
])
def test_missing_or_unparsable_values_are_refused_with_what_to_write(tmp_path, text, message):
    path = conf(tmp_path, text)
    with pytest.raises(DkmsIdentityError) as exc:
        read_identity(path)
    assert path in str(exc.value) and message in str(exc.value)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nothere" / "dkms.conf")
    with pytest.raises(DkmsIdentityError) as exc:
        read_identity(path)
    assert str(exc.value).startswith("cannot read the DKMS configuration %s (No such file or directory): "
                                     "reinstall the virtnet.failover collection" % path)
