# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the slave_names role installs so that udev names a hot-plugged
failover slave by policy: the rule (its file name and text), the helper
program, the collection's naming code next to it and the policy as data.
Pure Python, no Ansible imports."""

from __future__ import annotations

import json
import os
import re

from ansible_collections.virtnet.failover.plugins.module_utils.managed_files import (
    ManagedFilesError,
    wanted_absent,
    wanted_dir,
    wanted_file,
)

# After 80-net-setup-link.rules, so the rule's NAME wins over the predictable name.
RULES_FILE_RE = re.compile(r'^(8[1-9]|9[0-9])-.+\.rules$')
LIB_DIR_NAME = 'virtnet-failover'
POLICY_FILE = 'policy.json'
# The collection's module_utils files the helper imports.
NAMING_CODE = ('failover_naming.py', 'ethtool_drvinfo.py')


class UdevNamingError(ManagedFilesError):
    """Bad input: the message says what to change."""


def validate_rules_file(path):
    base = os.path.basename(path or '')
    if not RULES_FILE_RE.match(base):
        raise UdevNamingError(
            "rules file %s must be named 81-*.rules to 99-*.rules so that it runs after 80-net-setup-link.rules "
            "(its NAME then wins over the predictable name); nothing was changed" % path)


def rule_text(helper_path):
    return (
        "# Managed by virtnet.failover.slave_names: local changes are overwritten.\n"
        "# Name a failover slave by policy the moment it appears: this file sorts\n"
        "# after 80-net-setup-link.rules, so its NAME wins over the predictable name.\n"
        "# The helper prints the name, or fails (no change) when the device is not a\n"
        "# slave of a net_failover master.  udev renames an UP slave only when the\n"
        "# kernel allows it (patched failover module with slave_rename_ok=1, or a\n"
        "# stock kernel >= 5.1); otherwise it logs the refusal and the name stays.\n"
        'ACTION!="add", GOTO="virtnet_failover_slave_names_end"\n'
        'SUBSYSTEM!="net", GOTO="virtnet_failover_slave_names_end"\n'
        'TEST!="master", GOTO="virtnet_failover_slave_names_end"\n'
        'PROGRAM="/usr/bin/python3 %s $kernel", NAME="%%c"\n'
        'LABEL="virtnet_failover_slave_names_end"\n' % helper_path)


def lib_dir(helper_path):
    """The helper finds its naming code and policy here (next to itself)."""
    return os.path.join(os.path.dirname(helper_path), LIB_DIR_NAME)


def policy_json(policy, master_wait):
    return json.dumps(dict(policy, master_wait=float(master_wait)), indent=4, sort_keys=True) + '\n'


def entries(state, rules_file, helper_path, helper=None, naming_code=None, policy=None, master_wait=3.0):
    """The managed_files entries of the rule, the helper and its data.
    ``naming_code``: file name -> text of NAMING_CODE."""
    validate_rules_file(rules_file)
    if not os.path.isabs(helper_path or '') or helper_path.endswith('/'):
        raise UdevNamingError("helper_path %r must be an absolute file path, e.g. "
                              "/usr/local/libexec/virtnet-failover-slave-name" % (helper_path,))
    lib = lib_dir(helper_path)
    if state == 'absent':
        return [wanted_absent(rules_file), wanted_absent(helper_path), wanted_absent(lib)]
    missing = [n for n in NAMING_CODE if n not in (naming_code or {})]
    if missing or set(naming_code) - set(NAMING_CODE):
        raise UdevNamingError("naming_code must give exactly %s (the collection's module_utils files the helper "
                              "imports); got %s" % (', '.join(NAMING_CODE), ', '.join(sorted(naming_code or {})) or 'none'))
    if not helper:
        raise UdevNamingError("helper is empty: give the text of the helper program (roles/slave_names/files/slave-name.py)")
    if float(master_wait) < 0:
        raise UdevNamingError("master_wait %s is negative: give the seconds the helper waits for the master's name "
                              "(0 or more)" % master_wait)
    out = [wanted_dir(os.path.dirname(helper_path)), wanted_dir(lib)]
    out += [wanted_file(os.path.join(lib, n), naming_code[n], 0o644) for n in NAMING_CODE]
    out += [wanted_file(os.path.join(lib, POLICY_FILE), policy_json(policy, master_wait), 0o644),
            wanted_file(helper_path, helper, 0o755),
            wanted_file(rules_file, rule_text(helper_path), 0o644)]
    return out


def udev_reload_needed(changes, rules_file):
    """udev re-reads its rules on reload; the helper and its data are read at each event."""
    return any(c['path'] == rules_file for c in changes)
