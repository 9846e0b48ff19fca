# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The virtnet.failover.play_variable lookup with Ansible's own Templar: values of the failover_* policy
variables, templated, checked, or their defaults; bad names and values fail with what to set."""

from __future__ import annotations

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.virtnet.failover.plugins.lookup import play_variable
from ansible_collections.virtnet.failover.plugins.plugin_utils.dkms_identity import read_identity

NAME = "virtnet.failover.play_variable"


def lookup(terms, variables):
    C.config.initialize_plugin_configuration_definitions("lookup", NAME, yaml.safe_load(play_variable.DOCUMENTATION)["options"])
    plugin = play_variable.LookupModule(templar=Templar(loader=DataLoader(), variables=variables))
    plugin._load_name = NAME
    return plugin.run(terms, variables=variables)


def test_defaults_and_values_in_the_order_asked():
    assert lookup(["failover_slave_rename_ok", "failover_dkms_version", "failover_names"], {}) == \
        [True, read_identity()["version"], []]
    assert lookup(["failover_slave_rename_ok", "failover_standby_template"],
                  {"failover_slave_rename_ok": "no", "failover_standby_template": "{master}sb"}) == [False, "{master}sb"]


def test_a_template_in_a_variable_is_rendered_with_the_plays_variables():
    # trusted as a template, as Ansible trusts the values it loads from inventory and vars files
    variables = {"site": "eu", "failover_modprobe_file": trust_as_template("/etc/modprobe.d/{{ site }}.conf")}
    assert lookup(["failover_modprobe_file"], variables) == ["/etc/modprobe.d/eu.conf"]


@pytest.mark.parametrize("terms,variables,message", [
    ([], {}, "takes the names of the variables, for example lookup('virtnet.failover.play_variable', "
             "'failover_slave_rename_ok')"),
    (["failover_bogus"], {}, "'failover_bogus' is not a policy variable of the virtnet.failover playbooks"),
    (["failover_slave_rename_ok"], {"failover_slave_rename_ok": "maybe"},
     "the play variable failover_slave_rename_ok is 'maybe', which is not a boolean"),
    (["failover_netns"], {}, "failover_netns is not set and has no default"),
])
def test_bad_input_fails_with_what_to_set(terms, variables, message):
    with pytest.raises(AnsibleLookupError) as err:
        lookup(terms, variables)
    assert message in str(err.value)
