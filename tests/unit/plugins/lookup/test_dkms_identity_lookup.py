# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The virtnet.failover.dkms_identity lookup, with its options declared from its own DOCUMENTATION
(what Ansible's plugin loader does) and real dkms.conf files."""

from __future__ import annotations

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError

from ansible_collections.virtnet.failover.plugins.lookup import dkms_identity

NAME = "virtnet.failover.dkms_identity"


@pytest.fixture
def lookup():
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, yaml.safe_load(dkms_identity.DOCUMENTATION)["options"])
    plugin = dkms_identity.LookupModule()
    plugin._load_name = NAME
    return plugin


def test_fields_in_the_order_asked(lookup):
    assert lookup.run(["version", "name"], variables={}) == [read_shipped("PACKAGE_VERSION"), "virtnet-failover"]


def read_shipped(key):
    with open(dkms_identity.SHIPPED_DKMS_CONF) as fh:
        return next(line.split("=", 1)[1].strip().strip('"') for line in fh if line.startswith(key + "="))


def test_conf_option_reads_another_file(lookup, tmp_path):
    path = tmp_path / "dkms.conf"
    path.write_text("PACKAGE_NAME=other\nPACKAGE_VERSION='2.0'\n")
    assert lookup.run(["name", "version"], variables={}, conf=str(path)) == ["other", "2.0"]


@pytest.mark.parametrize("terms, got", [([], "got none"), (["name", "nam"], "got nam")])
def test_unknown_or_no_field(lookup, terms, got):
    with pytest.raises(AnsibleLookupError) as exc:
        lookup.run(terms, variables={})
    assert "takes the fields name, version, %s: write for example lookup('virtnet.failover.dkms_identity', 'version')" % got in str(exc.value)


def test_unreadable_conf(lookup, tmp_path):
    with pytest.raises(AnsibleLookupError) as exc:
        lookup.run(["name"], variables={}, conf=str(tmp_path / "missing.conf"))
    assert "cannot read the DKMS configuration" in str(exc.value)
