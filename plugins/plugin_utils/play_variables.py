# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover_* variables of the virtnet.failover playbooks that set the drift policy, and their defaults.

This table is the one definition of which play variable sets which virtnet.failover.failover_drift option,
and of the value the option takes when the variable is not set. Two readers use it:

- the failover_drift action (``from_play_vars: true``, as playbooks/drift.yml calls it) fills in the options
  the task does not give, in Python, without a Jinja template per option and host;
- the virtnet.failover.play_variable lookup, through which playbooks/vars/failover_defaults.yml gives the
  rollout and remove playbooks the same values (``__failover_slave_rename_ok`` and the others).

A variable's value may itself be a template (inventory, ``-e``); the caller passes a function that templates
it. Booleans are read as Ansible reads them (``yes``, ``on``, ``1``, ``true`` ...); any other value is refused
with the variable's name, instead of silently turning false.
"""

from __future__ import annotations

import functools
import json

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import DEFAULT_TEMPLATES
from ansible_collections.virtnet.failover.plugins.plugin_utils.dkms_identity import DkmsIdentityError, read_identity

OMIT = object()  # no variable and no default: the option is not passed, the module's own default applies


class PlayVariableError(Exception):
    pass


@functools.lru_cache(maxsize=1)
def _shipped_identity():
    """The collection's dkms.conf, read once per process (its name and version are two defaults of every run)."""
    return read_identity()


def _shipped(field):
    def default():
        try:
            return _shipped_identity()[field]
        except DkmsIdentityError as exc:
            raise PlayVariableError(str(exc)) from None
    return default


def _text(value):
    if isinstance(value, (dict, list, bool)):
        raise TypeError("a string")
    return str(value)


def _flag(value):
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise TypeError("a boolean (true/false, yes/no, on/off, 1/0)") from None


def _names(value):
    if not isinstance(value, list):
        raise TypeError("a list of {master, standby, primary} mappings")
    return value


def _text_list(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("a list of strings")
    return value


class Variable:
    """One play variable: the failover_drift option it sets, its default and how its value is read."""

    def __init__(self, option, name, default, read):
        self.option, self.name, self.default, self.read = option, name, default, read

    def default_value(self):
        return self.default() if callable(self.default) else self.default

    def value(self, raw):
        try:
            return self.read(raw)
        except TypeError as exc:
            raise PlayVariableError("the play variable %s is %r, which is not %s: set it to %s in the inventory or "
                                    "with -e" % (self.name, raw, exc, self.example())) from None

    def example(self):
        default = self.default_value()
        return "for example %s" % json.dumps(default) if default is not OMIT else "a valid value"


VARIABLES = (
    Variable("dkms_name", "failover_dkms_name", _shipped("name"), _text),
    Variable("dkms_version", "failover_dkms_version", _shipped("version"), _text),
    Variable("slave_rename_ok", "failover_slave_rename_ok", True, _flag),
    Variable("modprobe_file", "failover_modprobe_file", "/etc/modprobe.d/virtnet-failover.conf", _text),
    Variable("standby_template", "failover_standby_template", DEFAULT_TEMPLATES["standby"], _text),
    Variable("primary_template", "failover_primary_template", DEFAULT_TEMPLATES["primary"], _text),
    Variable("names", "failover_names", [], _names),
    Variable("require_group", "failover_health_require_group", True, _flag),
    Variable("check_initramfs", "failover_drift_check_initramfs", True, _flag),
    Variable("textfile_dir", "failover_drift_textfile_dir", "", _text),
    Variable("checks", "failover_drift_checks", OMIT, _text_list),
    Variable("netns", "failover_netns", OMIT, _text),
    Variable("master_kinds", "failover_master_kinds", OMIT, _text_list),
)
BY_NAME = {v.name: v for v in VARIABLES}


def play_value(variable, variables, template):
    """The value of ``variable`` (a Variable) in a play with ``variables``: the play variable, templated by
    ``template`` and checked, else its default; OMIT when neither is set (a null value counts as not set)."""
    if variable.name in variables:
        raw = template(variables[variable.name])
        if raw is not None:
            return variable.value(raw)
    return variable.default_value()


def named_value(name, variables, template):
    """The value of the play variable ``name`` (for example ``failover_slave_rename_ok``), or its default.

    Raises PlayVariableError for a name that is not in the table, a value of the wrong type, or a variable
    that is not set and has no default."""
    variable = BY_NAME.get(name)
    if variable is None:
        raise PlayVariableError("%r is not a policy variable of the virtnet.failover playbooks; they are: %s"
                                % (name, ", ".join(sorted(BY_NAME))))
    value = play_value(variable, variables, template)
    if value is OMIT:
        raise PlayVariableError("%s is not set and has no default: read it as %s | default(omit)" % (name, name))
    return value


def play_options(given, variables, template):
    """failover_drift's options: those ``given`` by the task as they are, the others from the play variables.

    Raises PlayVariableError, naming the variable and what to set it to, for a value of the wrong type."""
    options = dict(given)
    for variable in VARIABLES:
        if variable.option not in options:
            value = play_value(variable, variables, template)
            if value is not OMIT:
                options[variable.option] = value
    return options
