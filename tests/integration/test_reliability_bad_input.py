# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reliability: bad input to every module and role gets a clear message and changes nothing.

Real Ansible (connection local, ANSIBLE_COLLECTIONS_PATH=.build/collections), a real network
namespace with stand-in failover groups (bridge masters with veth ports).  All module cases
run in ONE ansible-playbook process (each task ``ignore_errors`` + ``register``; the registered
results are dumped as JSON at the end and asserted here); all role cases in a second one
(``include_role`` inside block/rescue, check mode).

Each case asserts the exact message its code emits (the text, with only the host-dependent
parts filled in: namespace, temporary directories, running kernel), and that the host is the
same after THIS case as before the first one: after every case a pipe lookup runs
host_snapshot.py (links of the test namespace, /run/netns, /etc/modprobe.d, /var/lib/dkms,
/usr/src, a writable kernel parameter), so a change is pinned on the case that made it.

Every case has an origin: ``project`` when the refusal comes from this collection's own code
(module_utils validation, a module's checks), ``ansible-core`` when ansible-core's argument
spec refuses the value before the project's code runs.  docs/reliability.md counts them apart.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import shutil

import pytest
import yaml

from ansible_env import ANSIBLE_PLAYBOOK, BUILD_COLLECTIONS as COLLECTIONS, ROOT, playbook_env
from host_snapshot import snapshot
from netns_lab import NetnsLab, unique_name

BAD_DKMS = "vnfo-badinput"  # DKMS name used by the dkms cases; must never appear
MISSING_NS = "vnfo-no-such-ns-%s" % os.getpid()
BRIDGE = ["bridge"]
SNAPSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "host_snapshot.py")
PROJECT, CORE = "project", "ansible-core"
# The exact number of cases: a case that silently disappears (a module renamed, an option
# dropped from an argument spec) fails test_case_count instead of shrinking the suite.
MODULE_CASE_COUNT = 84
ROLE_CASE_COUNT = 34
ABSENT_NS = ("network namespace '{missing}' does not exist (no /run/netns/{missing}); this module never creates "
             "namespaces: create it first (ip netns add {missing}) or fix the name")
BOOL = "argument '%s' is of type str and we were unable to convert to bool: The value '%s' is not a valid boolean. ..."

# ----------------------------------------------------------------------------------------------
# module cases: (id, module, args, origin, message).  The message is compared with the result's
# msg exactly, after str.format() with {ns} (the test namespace), {missing} (MISSING_NS),
# {src_ok}/{src_empty}/{src_other} (the prepared source directories) and {kernel} (uname -r);
# a message that ends in " ..." must start with the text before it (the rest depends on the
# host, e.g. the list of installed kernels, or on set order in ansible-core).  "@NS" and
# "@SRC_*" in args are replaced by the test namespace and the source directories.
MODULE_CASES = [
    # failover_info -- names, templates, types, paths
    ("info-missing-netns", "failover_info", {"netns": MISSING_NS, "master_kinds": BRIDGE}, PROJECT, ABSENT_NS),
    ("info-netns-path-traversal", "failover_info", {"netns": "../../etc", "master_kinds": BRIDGE}, PROJECT,
     "netns '../../etc' is not a valid namespace name: give the name shown by 'ip netns list'"),
    ("info-names-unknown-suboption", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "slave": "x1"}]}, CORE,
     "Unsupported parameters for (virtnet.failover.failover_info) module: names.slave. "
     "Supported parameters include: master, primary, standby."),
    ("info-bad-master-kind", "failover_info", {"netns": "@NS", "master_kinds": ["vlan"]}, CORE,
     "value of master_kinds must be one or more of: net_failover, bridge, bonding, team. Got no match for: vlan"),
    ("info-template-unknown-placeholder", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "standby_template": "{master}{slot}"}, PROJECT,
     "standby_template '{{master}}{{slot}}' uses the unknown placeholder {{slot}}; allowed placeholders: "
     "{{master}}, {{master_index}} (no conversions or format specs)"),
    ("info-template-unbalanced-brace", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "primary_template": "{master"}, PROJECT,
     "primary_template '{{master' is not a valid template: expected '}}' before end of string "
     "(write literal braces as '{{{{' and '}}}}')"),
    ("info-template-format-spec", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "standby_template": "{master:>12}"}, PROJECT,
     "standby_template '{{master:>12}}' uses the unknown placeholder {{master:>12}}; allowed placeholders: "
     "{{master}}, {{master_index}} (no conversions or format specs)"),
    ("info-template-conversion", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "primary_template": "{master!r}p"}, PROJECT,
     "primary_template '{{master!r}}p' uses the unknown placeholder {{master!r}}; allowed placeholders: "
     "{{master}}, {{master_index}} (no conversions or format specs)"),
    ("info-names-without-master", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"standby": "x1"}]}, CORE,
     "missing required arguments: master found in names"),
    ("info-names-not-a-list-of-dicts", "failover_info",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": ["enp1s0"]}, CORE,
     "dictionary requested, could not parse JSON or key=value"),
    ("info-unknown-option", "failover_info", {"netns": "@NS", "interfaces": ["eth0"]}, CORE,
     "Unsupported parameters for (virtnet.failover.failover_info) module: interfaces. Supported parameters "
     "include: ..."),
    # failover_slave_name -- names (kernel rules), masters, templates, types
    ("slave-unknown-master", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "masters": ["enp9s0"]}, PROJECT,
     "nothing renamed: there is no interface 'enp9s0' in network namespace '{ns}'"),
    ("slave-master-not-failover", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "masters": ["eth1"]}, PROJECT,
     "nothing renamed: interface 'eth1' (rtnl kind veth, 0 slaves) is not a failover master of the kinds "
     "['bridge']; give a master whose ethtool driver is net_failover, or add its kind to master_kinds"),
    ("slave-name-too-long", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "abcdefghijklmnop"}]},
     PROJECT, "nothing renamed: standby of master enp1s0: name 'abcdefghijklmnop' from names[enp1s0].standby "
              "is 16 bytes long; Linux interface names are at most 15 bytes"),
    ("slave-name-multibyte-too-long", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "enp1s0n\u00e9\u00e9\u00e9\u00e9\u00e9"}]},
     PROJECT, "nothing renamed: standby of master enp1s0: name 'enp1s0n\u00e9\u00e9\u00e9\u00e9\u00e9' from "
              "names[enp1s0].standby is 17 bytes long; Linux interface names are at most 15 bytes"),
    ("slave-name-slash", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "a/b"}]}, PROJECT,
     "nothing renamed: standby of master enp1s0: name 'a/b' from names[enp1s0].standby contains '/'"),
    ("slave-name-whitespace", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "a b"}]}, PROJECT,
     "nothing renamed: standby of master enp1s0: name 'a b' from names[enp1s0].standby contains whitespace"),
    ("slave-name-dot", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "primary": "."}]}, PROJECT,
     "nothing renamed: primary of master enp1s0: name '.' from names[enp1s0].primary is reserved "
     "('.' and '..' are not allowed)"),
    ("slave-name-dotdot", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "primary": ".."}]}, PROJECT,
     "nothing renamed: primary of master enp1s0: name '..' from names[enp1s0].primary is reserved "
     "('.' and '..' are not allowed)"),
    ("slave-name-colon", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "eth:1"}]}, PROJECT,
     "nothing renamed: standby of master enp1s0: name 'eth:1' from names[enp1s0].standby contains ':' "
     "(reserved for alias labels)"),
    ("slave-name-control-char", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "eth\t1"}]}, PROJECT,
     "nothing renamed: standby of master enp1s0: name 'eth\\t1' from names[enp1s0].standby contains whitespace"),
    ("slave-name-empty", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": ""}]}, PROJECT,
     "nothing renamed: standby of master enp1s0: name '' from names[enp1s0].standby is empty"),
    ("slave-duplicate-targets", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "same0", "primary": "same0"}]},
     PROJECT, "nothing renamed: duplicate target 'same0': wanted for standby of enp1s0 and for primary of enp1s0"),
    ("slave-duplicate-targets-across-masters", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "same1"},
                                                        {"master": "enp2s0", "standby": "same1"}]},
     PROJECT, "nothing renamed: duplicate target 'same1': wanted for standby of enp1s0 and for standby of enp2s0"),
    ("slave-target-taken-by-other-link", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "enp1s0", "standby": "lo"}]}, PROJECT,
     "nothing renamed: target 'lo' for standby of enp1s0 is already used by another interface (ifindex 1) that "
     "this run does not rename; rename or remove it first, or choose another name"),
    ("slave-template-unknown-placeholder", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "standby_template": "{ifname}sb"}, PROJECT,
     "standby_template '{{ifname}}sb' uses the unknown placeholder {{ifname}}; allowed placeholders: {{master}}, "
     "{{master_index}} (no conversions or format specs)"),
    ("slave-template-yields-too-long", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "primary_template": "{master}-primary-port"}, PROJECT,
     "nothing renamed: primary of master enp1s0: name 'enp1s0-primary-port' from primary_template "
     "'{{master}}-primary-port' is 19 bytes long; Linux interface names are at most 15 bytes; primary of master "
     "enp2s0: name 'enp2s0-primary-port' from primary_template '{{master}}-primary-port' is 19 bytes long; "
     "Linux interface names are at most 15 bytes"),
    ("slave-names-unknown-master", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "names": [{"master": "nosuch0", "standby": "x0"}]}, PROJECT,
     "nothing renamed: names lists master 'nosuch0', which is not a failover master here"),
    ("slave-down-rename-up-not-bool", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "down_rename_up": "perhaps"}, CORE, BOOL % ("down_rename_up", "perhaps")),
    ("slave-missing-netns", "failover_slave_name", {"netns": MISSING_NS, "master_kinds": BRIDGE}, PROJECT, ABSENT_NS),
    ("slave-masters-wrong-type", "failover_slave_name",
     {"netns": "@NS", "master_kinds": BRIDGE, "masters": {"enp1s0": 1}}, CORE,
     "argument 'masters' is of type dict and we were unable to convert to list: <class 'dict'> cannot be "
     "converted to a list"),
    # dkms -- states, kernels, paths, names, types
    ("dkms-missing-name", "dkms", {"version": "1.0", "state": "present"}, CORE, "missing required arguments: name"),
    ("dkms-bad-state", "dkms", {"name": BAD_DKMS, "version": "1.0", "state": "loaded"}, CORE,
     "value of state must be one of: present, built, installed, absent, got: loaded"),
    ("dkms-installed-without-version", "dkms", {"name": BAD_DKMS, "state": "installed", "source": "@SRC_OK"}, CORE,
     "state is installed but all of the following are missing: version"),
    ("dkms-unknown-kernel", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "built", "kernels": ["9.9.9-nosuch"], "source": "@SRC_OK"},
     PROJECT, "unknown kernel 9.9.9-nosuch: it is not installed (no /lib/modules/9.9.9-nosuch); installed kernels: ..."),
    ("dkms-running-kernel-without-headers", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "built", "kernels": "running", "source": "@SRC_OK"}, PROJECT,
     "kernel headers for {kernel} are missing (/lib/modules/{kernel}/build does not resolve to a kernel headers "
     "tree): install the package linux-headers-{kernel}, or choose other kernels"),
    ("dkms-kernel-path-traversal", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "built", "kernels": ["../../etc"], "source": "@SRC_OK"},
     PROJECT, "invalid kernel release '../../etc'"),
    ("dkms-kernels-wrong-type", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "built", "kernels": 42, "source": "@SRC_OK"}, PROJECT,
     "kernels must be 'running', 'all' or a non-empty list of kernel releases"),
    ("dkms-kernels-empty-list", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "built", "kernels": [], "source": "@SRC_OK"}, PROJECT,
     "kernels must be 'running', 'all' or a non-empty list of kernel releases"),
    ("dkms-source-missing", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "present", "source": "/nonexistent/vnfo-src"}, PROJECT,
     "source directory /nonexistent/vnfo-src does not exist"),
    ("dkms-source-without-dkms-conf", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "present", "source": "@SRC_EMPTY"}, PROJECT,
     "source directory {src_empty} has no dkms.conf"),
    ("dkms-source-name-mismatch", "dkms",
     {"name": BAD_DKMS, "version": "1.0", "state": "present", "source": "@SRC_OTHER"}, PROJECT,
     "name mismatch: {src_other}/dkms.conf says PACKAGE_NAME=other-name but name=vnfo-badinput"),
    ("dkms-source-version-mismatch", "dkms",
     {"name": BAD_DKMS, "version": "2.0", "state": "present", "source": "@SRC_OK"}, PROJECT,
     "version mismatch: {src_ok}/dkms.conf says PACKAGE_VERSION=1.0 but version=2.0"),
    ("dkms-name-path-traversal", "dkms", {"name": "../etc", "version": "1.0", "state": "present"}, PROJECT,
     "invalid name '../etc': use letters, digits and . _ + ~ : - only"),
    ("dkms-version-with-slash", "dkms", {"name": BAD_DKMS, "version": "1.0/../../x", "state": "present"}, PROJECT,
     "invalid version '1.0/../../x': use letters, digits and . _ + ~ : - only"),
    ("dkms-no-source-and-not-in-usr-src", "dkms", {"name": BAD_DKMS, "version": "1.0", "state": "present"}, PROJECT,
     "vnfo-badinput/1.0 is not added to DKMS and its source /usr/src/vnfo-badinput-1.0 does not exist: deploy the "
     "source there or pass source=DIR"),
    ("dkms-force-not-bool", "dkms", {"name": BAD_DKMS, "version": "1.0", "force": "sometimes"}, CORE,
     BOOL % ("force", "sometimes")),
    # module_param -- paths, parameter values, types
    ("param-missing-param", "module_param", {"module": "printk"}, CORE, "missing required arguments: param"),
    ("param-module-traversal", "module_param", {"module": "../printk", "param": "time"}, PROJECT,
     "invalid module name '../printk': it must be a single name without '/' or '..'"),
    ("param-param-with-slash", "module_param", {"module": "printk", "param": "parameters/time"}, PROJECT,
     "invalid parameter name 'parameters/time': it must be a single name without '/' or '..'"),
    ("param-module-not-loaded", "module_param", {"module": "vnfo_nosuchmod", "param": "x"}, PROJECT,
     "module vnfo_nosuchmod is not loaded (no /sys/module/vnfo_nosuchmod): load it first, e.g. with "
     "community.general.modprobe or 'modprobe vnfo_nosuchmod'"),
    ("param-unknown-param", "module_param", {"module": "printk", "param": "vnfo_nosuchparam"}, PROJECT,
     "module printk is built into the kernel and has no parameter vnfo_nosuchparam (its parameters: ..."),
    ("param-read-only", "module_param", {"module": "acpi", "param": "acpica_version", "value": "1"}, PROJECT,
     "parameter acpica_version of module acpi is read-only (mode 0444): it can only be set when the module is "
     "loaded (modprobe.d options or the kernel command line)"),
    ("param-bool-bad-value", "module_param", {"module": "printk", "param": "time", "value": "maybe"}, PROJECT,
     "printk/time: parameter is boolean (the kernel shows Y); value 'maybe' is not a boolean: use one of Y/N, "
     "1/0, yes/no, true/false, on/off"),
    ("param-bool-empty-value", "module_param", {"module": "printk", "param": "time", "value": ""}, PROJECT,
     "printk/time: parameter is boolean (the kernel shows Y); value '' is not a boolean: use one of Y/N, "
     "1/0, yes/no, true/false, on/off"),
    # kmod_info -- choices, types, paths
    ("kmodinfo-bad-status-source", "kmod_info", {"dkms_status_source": "guess"}, CORE,
     "value of dkms_status_source must be one of: tree, command, got: guess"),
    ("kmodinfo-module-traversal", "kmod_info", {"module": "../../etc/passwd"}, PROJECT,
     "invalid module name '../../etc/passwd': it must be a single name without '/' or '..'"),
    ("kmodinfo-dkms-name-traversal", "kmod_info", {"dkms_name": "a/../../b"}, PROJECT,
     "invalid DKMS module name 'a/../../b': it must be a single name without '/' or '..'"),
    ("kmodinfo-dkms-version-traversal", "kmod_info", {"dkms_version": "1.0/../.."}, PROJECT,
     "invalid DKMS version name '1.0/../..': it must be a single name without '/' or '..'"),
    ("kmodinfo-initramfs-kernel-traversal", "kmod_info", {"initramfs_kernels": ["../../etc/shadow"]}, PROJECT,
     "invalid kernel name '../../etc/shadow': it must be a single name without '/' or '..'"),
    ("kmodinfo-kernels-wrong-type", "kmod_info", {"kernels": [{"release": "6.1"}]}, PROJECT,
     "invalid kernel name \"{{'release': '6.1'}}\": only letters, digits, '_', '-', '+' and '.' are allowed"),
    ("kmodinfo-unknown-option", "kmod_info", {"state": "present"}, CORE,
     "Unsupported parameters for (virtnet.failover.kmod_info) module: state. Supported parameters include: ..."),
    # failover_drift -- names, the naming policy, the namespace (the checks reach the project's code)
    ("drift-unknown-option", "failover_drift", {"vnfo_bogus_option": 1}, CORE,
     "Unsupported parameters for (virtnet.failover.failover_drift) module: vnfo_bogus_option. ..."),
    ("drift-missing-netns", "failover_drift", {"netns": MISSING_NS, "master_kinds": BRIDGE}, PROJECT,
     "cannot check slave names: " + ABSENT_NS),
    ("drift-bad-template", "failover_drift",
     {"netns": "@NS", "master_kinds": BRIDGE, "primary_template": "{master}{slot}"}, PROJECT,
     "cannot check slave names: primary_template '{{master}}{{slot}}' uses the unknown placeholder {{slot}}; "
     "allowed placeholders: {{master}}, {{master_index}} (no conversions or format specs)"),
    ("drift-dkms-name-traversal", "failover_drift", {"dkms_name": "../x", "check_names": False}, PROJECT,
     "invalid DKMS module name '../x': it must be a single name without '/' or '..'"),
    ("drift-module-traversal", "failover_drift", {"module": "a/b", "check_names": False}, PROJECT,
     "invalid module name 'a/b': it must be a single name without '/' or '..'"),
    # kmod_plan -- the role's decisions: patterns, commands, names
    ("plan-headers-package-without-kernel", "kmod_plan", {"phase": "preflight", "headers_package": "linux-headers"},
     PROJECT, "headers_package 'linux-headers' has no {{kernel}}: name the headers package of a kernel with {{kernel}} "
     "standing for its release, e.g. linux-headers-{{kernel}}"),
    ("plan-empty-package-query", "kmod_plan", {"phase": "preflight", "package_query": []}, PROJECT,
     "package_query is empty: give the command that lists installed packages, e.g. "
     "[dpkg-query, -W, '-f=${{Package}}\\t${{db:Status-Status}}\\n']"),
    ("plan-target-kernel-traversal", "kmod_plan", {"phase": "activation", "targets": ["../../etc"]}, PROJECT,
     "invalid kernel name '../../etc': it must be a single name without '/' or '..'"),
    ("plan-dkms-name-traversal", "kmod_plan", {"phase": "verify", "dkms_name": "a/../b"}, PROJECT,
     "invalid DKMS module name 'a/../b': it must be a single name without '/' or '..'"),
    ("plan-bad-phase", "kmod_plan", {"phase": "rollout"}, CORE,
     "value of phase must be one of: preflight, activation, verify, got: rollout"),
    # failover_udev_naming -- refused before anything is written (the paths do not exist)
    ("udev-rules-file-before-80", "failover_udev_naming",
     {"rules_file": "/nonexistent-vnfo/80-x.rules", "helper_path": "/nonexistent-vnfo/h", "helper": "x",
      "naming_code": {"failover_naming.py": "x", "ethtool_drvinfo.py": "y"}}, PROJECT,
     "rules file /nonexistent-vnfo/80-x.rules must be named 81-*.rules to 99-*.rules so that it runs after "
     "80-net-setup-link.rules (its NAME then wins over the predictable name); nothing was changed"),
    ("udev-naming-code-incomplete", "failover_udev_naming",
     {"rules_file": "/nonexistent-vnfo/81-x.rules", "helper_path": "/nonexistent-vnfo/h", "helper": "x",
      "naming_code": {"failover_naming.py": "x"}}, PROJECT,
     "naming_code must give exactly failover_naming.py, ethtool_drvinfo.py (the collection's module_utils files the "
     "helper imports); got failover_naming.py"),
    ("udev-bad-template", "failover_udev_naming",
     {"rules_file": "/nonexistent-vnfo/81-x.rules", "helper_path": "/nonexistent-vnfo/h", "helper": "x",
      "naming_code": {"failover_naming.py": "x", "ethtool_drvinfo.py": "y"}, "standby_template": "{master}{slot}"},
     PROJECT, "invalid naming policy: standby_template '{{master}}{{slot}}' uses the unknown placeholder {{slot}}; "
     "allowed placeholders: {{master}}, {{master_index}} (no conversions or format specs)"),
    ("udev-relative-helper", "failover_udev_naming",
     {"rules_file": "/nonexistent-vnfo/81-x.rules", "helper_path": "vnfo/h", "helper": "x",
      "naming_code": {"failover_naming.py": "x", "ethtool_drvinfo.py": "y"}}, PROJECT,
     "helper_path 'vnfo/h' must be an absolute file path, e.g. /usr/local/libexec/virtnet-failover-slave-name"),
    ("udev-enforce-with-absent", "failover_udev_naming",
     {"state": "absent", "rules_file": "/nonexistent-vnfo/81-x.rules", "helper_path": "/nonexistent-vnfo/h",
      "enforce": True}, PROJECT,
     "enforce: true needs state: present (removing the rule leaves the names as they are)"),
    # dkms_source -- refused before anything is written
    ("dsrc-path-outside-usr-src", "dkms_source", {"path": "/etc/vnfo-badinput", "files": {"a": "b"}}, PROJECT,
     "path '/etc/vnfo-badinput' must be a directory directly under /usr/src (/usr/src/NAME-VERSION), without '..' "
     "or '.' parts"),
    ("dsrc-file-name-traversal", "dkms_source", {"path": "/usr/src/vnfo-badinput-1.0", "files": {"../a": "b"}},
     PROJECT, "file name '../a' is not a plain file name: give names without '/' (the tree is flat), not '.' or '..'"),
    ("dsrc-no-files", "dkms_source", {"path": "/usr/src/vnfo-badinput-1.0", "files": {}}, PROJECT,
     "files must be a non-empty dict of file name -> text content (the whole source tree, dkms.conf included)"),
    # prometheus_textfile -- refused before anything is written
    ("prom-relative-path", "prometheus_textfile", {"path": "vnfo/x.prom", "content": "a 1\n"}, PROJECT,
     "path vnfo/x.prom must be absolute: give the full path in node_exporter's textfile directory"),
    ("prom-not-dot-prom", "prometheus_textfile", {"path": "/tmp/vnfo-badinput.txt", "content": "a 1\n"}, PROJECT,
     "path /tmp/vnfo-badinput.txt must end in .prom: node_exporter's textfile collector reads only *.prom files"),
    ("prom-missing-directory", "prometheus_textfile", {"path": "/nonexistent-vnfo/x.prom", "content": "a 1\n"},
     PROJECT, "directory /nonexistent-vnfo does not exist: give the directory node_exporter reads "
     "(its --collector.textfile.directory) or create it first"),
    ("prom-content-not-exposition", "prometheus_textfile", {"path": "/tmp/vnfo-badinput.prom", "content": "not a metric\n"},
     PROJECT, "content is not in the Prometheus text format, so node_exporter would drop the file: line 1: not a "
     "sample (metric_name{{label=\"value\",...}} value [timestamp]): 'not a metric'; nothing was written"),
]


def _role_cases():
    """Cases generated from each role's meta/argument_specs.yml: one wrong value per option
    whose type ansible-core can refuse (str and path accept any value).  The refusal is
    ansible-core's argument validation (origin ansible-core); the expected text is built from
    the option's spec."""
    cases = []
    for role in ("kmod", "slave_names"):
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as fh:
            specs = yaml.safe_load(fh)["argument_specs"]
        for entry, spec in sorted(specs.items()):
            for opt, o in sorted((spec.get("options") or {}).items()):
                bad = _bad_value(o)
                if bad is not None:
                    cases.append(("role-%s-%s-%s" % (role, entry, opt), role, entry, {opt: bad}, _role_message(opt, o)))
    return cases


def _bad_value(o):
    if o.get("choices"):
        return "vnfo-not-a-choice"
    return {"bool": "vnfo-not-a-bool", "int": "vnfo-not-an-int", "float": "vnfo-not-a-float",
            "list": {"vnfo": "not-a-list"}, "dict": "vnfo-not-a-dict"}.get(o.get("type", "str"))


def _role_message(opt, o):
    """The first line of ansible-core's refusal (the rest repeats it, or lists set-ordered booleans)."""
    if o.get("choices"):
        return "value of %s must be one of: %s, got: vnfo-not-a-choice" % (opt, ", ".join(map(str, o["choices"])))
    typ = o.get("type", "str")
    given = {"list": "dict"}.get(typ, "str")
    return "argument '%s' is of type %s and we were unable to convert to %s: " % (opt, given, typ)


ROLE_CASES = _role_cases()


# ----------------------------------------------------------------------------------------------
def _env():
    return playbook_env(COLLECTIONS, ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                        ANSIBLE_PYTHON_INTERPRETER=sys.executable)


def _run_play(play, tmp, check=False):
    path = os.path.join(tmp, "play.yml")
    with open(path, "w") as fh:
        json.dump(play, fh)  # JSON is YAML
    out = os.path.join(tmp, "results.json")
    if os.path.exists(out):
        os.remove(out)
    cmd = [ANSIBLE_PLAYBOOK, "-i", "localhost,", path] + (["--check"] if check else [])
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=900, check=False)
    if not os.path.exists(out):
        raise AssertionError("the play produced no results (rc=%d)\n%s\n%s"
                             % (proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:]))
    with open(out) as fh:
        return json.load(fh)


def _subst(value, mapping):
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_subst(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _subst(v, mapping) for k, v in value.items()}
    return value


def _snapshot_task(cid, ns):
    """After each case: the host snapshot, taken on the controller (= this host) by a pipe lookup,
    so it runs in check mode as well."""
    cmd = "%s %s %s" % (sys.executable, SNAPSHOT, ns)
    return {"name": "Snapshot after " + cid, "ansible.builtin.set_fact": {
        "vnfo_snapshots": "{{ vnfo_snapshots | combine({'%s': lookup('ansible.builtin.pipe', '%s') | from_json}) }}"
                          % (cid, cmd)}}


@pytest.fixture(scope="module")
def bad_input_run():
    lab = NetnsLab(name=unique_name("vnfobad"))
    lab.create()
    tmp = tempfile.mkdtemp(prefix="vnfo-badinput-")
    try:
        lab.add_group("enp1s0", "eth1", "eth2")
        lab.add_group("enp2s0", "enp2s0nsby", "enp2s0npri")
        srcs = {}
        for key, conf in (("@SRC_OK", 'PACKAGE_NAME="%s"\nPACKAGE_VERSION="1.0"\n' % BAD_DKMS),
                          ("@SRC_OTHER", 'PACKAGE_NAME="other-name"\nPACKAGE_VERSION="1.0"\n'),
                          ("@SRC_EMPTY", None)):
            d = os.path.join(tmp, key.strip("@").lower())
            os.makedirs(d)
            if conf:
                with open(os.path.join(d, "dkms.conf"), "w") as fh:
                    fh.write(conf + 'BUILT_MODULE_NAME[0]="%s"\nDEST_MODULE_LOCATION[0]="/updates/dkms"\n'
                             'AUTOINSTALL="no"\n' % BAD_DKMS)
                with open(os.path.join(d, "Makefile"), "w") as fh:
                    fh.write("obj-m := %s.o\n" % BAD_DKMS)
            srcs[key] = d
        mapping = dict(srcs, **{"@NS": lab.name})
        before = snapshot(lab.name, own_netns=(lab.name,))

        dump = {"name": "Dump results", "check_mode": False, "ansible.builtin.copy": {
            "dest": os.path.join(tmp, "results.json"), "mode": "0600",
            "content": "{{ {'results': vnfo_results, 'snapshots': vnfo_snapshots} | to_json }}"}}
        start = {"name": "Start", "ansible.builtin.set_fact": {"vnfo_results": {}, "vnfo_snapshots": {}}}
        # ---- modules: one play, every case registered, then snapshotted
        tasks = [start]
        for cid, module, args, _origin, _msg in MODULE_CASES:
            tasks.append({"name": cid, "virtnet.failover." + module: _subst(args, mapping),
                          "register": "vnfo_r", "ignore_errors": True})
            tasks.append({"name": "Record " + cid, "ansible.builtin.set_fact": {
                "vnfo_results": "{{ vnfo_results | combine({'%s': vnfo_r}) }}" % cid}})
            tasks.append(_snapshot_task(cid, lab.name))
        tasks.append(dump)
        play = [{"name": "Bad input to modules", "hosts": "localhost", "connection": "local",
                 "gather_facts": False, "tasks": tasks}]
        modules = _run_play(play, tmp)
        # ---- roles: include_role with bad vars, check mode, block/rescue records the failure
        tasks = [start]
        for cid, role, entry, rvars, _msg in ROLE_CASES:
            tasks.append({"name": "Case " + cid, "block": [
                {"name": "Include " + role, "ansible.builtin.include_role": {
                    "name": "virtnet.failover." + role, "tasks_from": entry}, "vars": rvars},
                {"name": "Record " + cid + " passed",
                 "ansible.builtin.set_fact": {"vnfo_results": "{{ vnfo_results | combine({'%s': {'failed': false}}) }}" % cid}},
            ], "rescue": [
                {"name": "Record " + cid + " failure", "ansible.builtin.set_fact": {
                    "vnfo_results": "{{ vnfo_results | combine({'%s': ansible_failed_result"
                                    " | combine({'task': ansible_failed_task.name})}) }}" % cid}},
            ]})
            tasks.append(_snapshot_task(cid, lab.name))
        tasks.append(dump)
        play = [{"name": "Bad role arguments", "hosts": "localhost", "connection": "local",
                 "gather_facts": False, "tasks": tasks}]
        roles = _run_play(play, tmp, check=True)
        fill = {"ns": lab.name, "missing": MISSING_NS, "kernel": os.uname().release,
                "src_ok": srcs["@SRC_OK"], "src_empty": srcs["@SRC_EMPTY"], "src_other": srcs["@SRC_OTHER"]}
        yield {"results": dict(modules["results"], **roles["results"]),
               "snapshots": dict(modules["snapshots"], **roles["snapshots"]),
               "before": before, "fill": fill}
    finally:
        lab.delete()
        shutil.rmtree(tmp, ignore_errors=True)


ORDER = [c[0] for c in MODULE_CASES] + [c[0] for c in ROLE_CASES]


def _assert_unchanged(run, cid):
    """The snapshot after this case equals the one taken just before it (after the previous case;
    before the first case: the fixture's), so only the case that changed something fails."""
    index = ORDER.index(cid)
    prev = ORDER[index - 1] if index else None
    before, after = (run["snapshots"].get(prev) if prev else run["before"]), run["snapshots"].get(cid)
    assert before is not None and after is not None, "no host snapshot around case %s" % cid
    for key in before:
        assert before[key] == after[key], "case %s changed %s:\nbefore %s\nafter  %s" % (
            cid, key, before[key], after[key])
    leaked = [p for p in after["/var/lib/dkms"] + after["/usr/src"] if BAD_DKMS in p]
    assert not leaked, "case %s left %s" % (cid, leaked)


def _assert_message(cid, msg, expected):
    if expected.endswith(" ..."):
        assert msg.startswith(expected[:-4]), "case %s:\nmessage  %r\nexpected %r..." % (cid, msg, expected[:-4])
    else:
        assert msg == expected, "case %s:\nmessage  %r\nexpected %r" % (cid, msg, expected)


@pytest.mark.parametrize("cid,module,args,origin,expected", MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_module_bad_input(bad_input_run, cid, module, args, origin, expected):
    res = bad_input_run["results"][cid]
    assert res.get("failed") is True, "case %s did not fail: %s" % (cid, res)
    assert res.get("changed", False) is False, res
    _assert_message(cid, str(res.get("msg", "")), expected.format(**bad_input_run["fill"]))
    _assert_unchanged(bad_input_run, cid)


@pytest.mark.parametrize("cid,role,entry,rvars,expected", ROLE_CASES, ids=[c[0] for c in ROLE_CASES])
def test_role_bad_argument(bad_input_run, cid, role, entry, rvars, expected):
    res = bad_input_run["results"][cid]
    assert res.get("failed") is True, "role %s (%s) accepted %s" % (role, entry, rvars)
    assert res.get("changed", False) is False, res
    _assert_message(cid, str(res.get("msg", "")), "Validation of arguments failed:\n" + expected + " ...")
    _assert_unchanged(bad_input_run, cid)


def test_host_unchanged_after_all_cases(bad_input_run):
    """End to end: after the last case of each play the host equals the snapshot before the first."""
    for last in (ORDER[len(MODULE_CASES) - 1], ORDER[-1]):
        after = bad_input_run["snapshots"][last]
        for key, value in bad_input_run["before"].items():
            assert after[key] == value, "%s changed by the end (after %s):\nbefore %s\nafter  %s" % (
                key, last, value, after[key])


def test_case_count():
    """Exactly the cases listed: none skipped, none silently dropped, every module file exists."""
    modules = sorted({c[1] for c in MODULE_CASES})
    missing = [m for m in modules if not os.path.exists(os.path.join(ROOT, "plugins", "modules", m + ".py"))]
    assert not missing, "bad-input cases name modules that do not exist: %s" % missing
    project = [c for c in MODULE_CASES if c[3] == PROJECT]
    print("bad-input cases: %d module (%d refused by the project's code, %d by ansible-core's argument spec) "
          "+ %d role (ansible-core's argument spec)"
          % (len(MODULE_CASES), len(project), len(MODULE_CASES) - len(project), len(ROLE_CASES)))
    assert len({c[0] for c in MODULE_CASES + ROLE_CASES}) == len(MODULE_CASES) + len(ROLE_CASES), "duplicate ids"
    assert (len(MODULE_CASES), len(ROLE_CASES)) == (MODULE_CASE_COUNT, ROLE_CASE_COUNT)


def test_reliability_doc_counts_the_cases_of_each_module():
    """docs/reliability.md's bad-input table gives, per module, the numbers of cases listed here."""
    with open(os.path.join(ROOT, "docs", "reliability.md"), encoding="utf-8") as fh:
        rows = {m.group(1): (int(m.group(2)), int(m.group(3)))
                for m in (re.match(r"^\| (\w+) \| (\d+) \| (\d+) \|", line) for line in fh) if m}
    counted = {}
    for case in MODULE_CASES:
        project, core = counted.get(case[1], (0, 0))
        counted[case[1]] = (project + 1, core) if case[3] == PROJECT else (project, core + 1)
    assert rows == counted
