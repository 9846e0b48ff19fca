#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: failover_drift
short_description: Report how a host drifts from the patched failover module policy (read-only)
version_added: 1.0.0
description:
  - One call per host that compares the state of the patched C(failover) kernel module and of the failover
    slave names with a policy given as options, and returns a list of drift items.
  - Never changes the host's failover state; RV(changed) is always false, also outside check mode. The one file
    it may write is the node_exporter textfile that O(textfile_dir) asks for.
  - "Checked, each with a stable C(kind):"
  - C(module_builtin) - failover is built into the running kernel, so no DKMS module can replace it.
  - C(dkms_running_kernel) - the DKMS module O(dkms_name) (version O(dkms_version)) is not installed for the
    running kernel.
  - C(dkms_next_kernel) - it is not installed for the kernel that boots next (the target of C(/vmlinuz),
    else the newest C(/boot/vmlinuz-*)); after a kernel update without it the host silently boots the stock
    module. Only checked when the next-boot kernel differs from the running one.
  - C(module_not_patched) - the loaded C(failover) module is not the patched one, or its C(srcversion)
    differs from the DKMS build for the running kernel (for example a reboot is pending).
  - C(param_value) - the run-time value of C(slave_rename_ok) differs from O(slave_rename_ok).
  - C(modprobe_file) - O(modprobe_file) is not exactly the file the C(virtnet.failover.kmod) role writes there
    (the role's plan reads the same verdict, so the rollout rewrites such a file) - it is missing, not a regular
    file (a symbolic link), its content differs by any byte from O(modprobe_content) (by default the role's
    content for O(dkms_name), O(dkms_version) and O(slave_rename_ok), so also another spelling of the same value
    such as C(yes) for C(1), a comment, spacing, a missing final newline or another module's options), or it is
    not owned by root with mode 0644. The message names the first different line.
  - C(modprobe_bad_option) - an C(options MODULE) line in any modprobe.d file modprobe reads
    (C(*.conf) in C(/etc/modprobe.d), C(/run/modprobe.d), C(/usr/local/lib/modprobe.d), C(/lib/modprobe.d),
    C(/usr/lib/modprobe.d); a file name in an earlier directory hides the same name in later ones) gives a
    parameter the module ignores at load time - an unknown name, a C(slave_rename_ok) value the kernel's
    C(kstrtobool) refuses, or any value for the read-only C(live_rename). The subject is C(FILE:LINE). A
    C(failover.PARAMETER) word of the running boot's kernel command line (C(/proc/cmdline)) is judged the same,
    with the subject C(/proc/cmdline).
  - C(boot_param) - the C(slave_rename_ok) the module gets at its next load is not O(slave_rename_ok), and it
    comes from another modprobe.d file or from the kernel command line, not from O(modprobe_file). modprobe passes
    the module the C(options) lines of every modprobe.d file in file name order, then the C(failover.*) words of
    the kernel command line, and the last value wins. The subject is the file and line, or C(/proc/cmdline). The
    next boot's command line (the boot loader's configuration) is not read.
  - Boolean values are read as the kernel reads them (C(kstrtobool) - C(1/0), C(y/n), C(yes/no), C(on/off),
    C(true/false) and any text starting like them).
  - C(initramfs) - the initramfs of the next-boot kernel carries a C(failover.ko) that is not the DKMS build
    for that kernel (the stock module would load from the initramfs at boot), or cannot be read.
  - C(slave_name) - a failover slave is not named as the policy (O(standby_template), O(primary_template),
    O(names)) says.
  - Reads files and sysfs, one rtnetlink link dump for the slave names (a netlink socket of Python's standard
    library; pyroute2 is not needed), and the initramfs of one kernel; it runs no command.
author:
  - virtnet.failover contributors (@virtnet)
requirements:
  - Linux
attributes:
  check_mode:
    support: full
    details: Runs the same checks in check mode; writes no O(textfile_dir) file.
  diff_mode:
    support: none
    details: Read-only module, nothing to show in diff mode.
  platform:
    support: full
    details: Linux only (sysfs, rtnetlink, DKMS tree).
extends_documentation_fragment:
  - virtnet.failover.attributes
  - virtnet.failover.attributes.action
  - virtnet.failover.failover_policy  # netns, master_kinds
  - virtnet.failover.failover_policy.naming  # standby_template, primary_template, names
options:
  dkms_name:
    description: DKMS package name of the patched module.
    type: str
    default: virtnet-failover
  dkms_version:
    description:
      - The DKMS version that must be installed. Empty means any version (the one installed for the running
        kernel, else the newest one in the DKMS tree).
    type: str
  module:
    description: Kernel module name (C(/sys/module) entry and file name without C(.ko)).
    type: str
    default: failover
  slave_rename_ok:
    description:
      - Wanted value of the C(slave_rename_ok) parameter, checked at run time (C(param_value)), in the content of
        O(modprobe_file) (C(modprobe_file)) and in what the module gets at its next load (C(boot_param)). Null
        skips these checks.
    type: bool
  modprobe_file:
    description: The modprobe.d file the kmod role writes. Empty skips the C(modprobe_file) check.
    type: path
    default: /etc/modprobe.d/virtnet-failover.conf
  modprobe_content:
    description:
      - Exact wanted content of O(modprobe_file), compared byte for byte (a missing final newline is a
        difference).
      - When not set, the content the C(virtnet.failover.kmod) role writes for O(dkms_name), O(dkms_version)
        (else the DKMS version found) and O(slave_rename_ok). Without a value for O(slave_rename_ok), or without
        any DKMS version, the content is not compared; the file's presence, owner and mode still are.
    type: str
  check_initramfs:
    description: Look for the module inside the next-boot kernel's initramfs (the slowest check, under a second).
    type: bool
    default: true
  check_names:
    description: Compare the failover slave names with the naming policy.
    type: bool
    default: true
  checks:
    description: Only report these kinds (default all of them).
    type: list
    elements: str
    choices: [module_builtin, dkms_running_kernel, dkms_next_kernel, module_not_patched, param_value,
              modprobe_file, modprobe_bad_option, boot_param, initramfs, slave_name]
  require_group:
    description: A host without any failover group is not healthy (RV(health)).
    type: bool
    default: true
  require_healthy:
    description:
      - Fail the module unless the host is healthy (RV(health) C(ok)), with C(health check failed:) and the
        problems in the message, or with why the host could not be read. The result keeps every return value.
      - The rollout's health check after a host was rolled out uses it; the drift report does not.
    type: bool
    default: false
  reboot_pending:
    description:
      - A reboot that activates the module is pending (the C(virtnet.failover.kmod) role's C(kmod_reboot_pending)),
        so the loaded module is left out of RV(health), as in M(virtnet.failover.failover_info). The drift items
        do not change.
    type: bool
    default: false
  textfile_dir:
    description:
      - node_exporter's textfile-collector directory (its C(--collector.textfile.directory)). When set, the module
        writes the metrics of this check to C(virtnet_failover.prom) there, as
        P(virtnet.failover.failover_host_prometheus#filter) renders them, also when the check fails
        (C(virtnet_failover_check_success 0)).
      - The file is written atomically (a temporary file in the same directory, renamed over it) and rewritten
        every run, because it carries the time of the check; that is not counted as a change. Nothing is written
        in check mode.
      - The directory must exist and the path must be absolute; otherwise the module fails before it checks
        anything, and writes nothing.
      - Empty writes no file.
    type: path
    default: ""
  from_play_vars:
    description:
      - Fill in every option listed below that the task does not give from the C(failover_*) variables of the
        C(virtnet.failover) playbooks, on the controller (the module's action plugin), with the playbooks'
        defaults when a variable is not set. The playbook C(virtnet.failover.drift) calls the module this way.
      - "The variables, and their defaults: C(failover_dkms_name) and C(failover_dkms_version) (O(dkms_name),
        O(dkms_version); the name and version in the collection's C(dkms.conf)), C(failover_slave_rename_ok)
        (O(slave_rename_ok), V(true)), C(failover_modprobe_file) (O(modprobe_file),
        C(/etc/modprobe.d/virtnet-failover.conf)), C(failover_standby_template) and C(failover_primary_template)
        (O(standby_template), O(primary_template)), C(failover_names) (O(names), V([])),
        C(failover_health_require_group) (O(require_group), V(true)), C(failover_drift_check_initramfs)
        (O(check_initramfs), V(true)), C(failover_drift_textfile_dir) (O(textfile_dir), empty),
        C(failover_drift_checks) (O(checks)), C(failover_netns) (O(netns)) and C(failover_master_kinds)
        (O(master_kinds)); the last three have no default."
      - A variable of the wrong type (for example C(failover_slave_rename_ok=maybe)) fails the task with the
        variable's name and what to set it to, before anything is read on the host.
      - An option the task gives always wins over its variable.
    type: bool
    default: false
notes:
  - The playbook C(virtnet.failover.drift) calls this module once per host and turns the results into a fleet
    report with the P(virtnet.failover.fleet_report#filter) filter.
seealso:
  - module: virtnet.failover.kmod_info
  - module: virtnet.failover.failover_info
  - module: virtnet.failover.failover_slave_name
"""

EXAMPLES = r"""
- name: Check one host against the policy of the rollout
  virtnet.failover.failover_drift:
    dkms_version: 1.0.0
    slave_rename_ok: true
  register: drift

- name: Fail when the host drifts
  ansible.builtin.assert:
    that: drift.drift | length == 0
    fail_msg: "{{ drift.drift | map(attribute='message') | list }}"

- name: Only the slave names, in a test namespace with bridge stand-ins
  virtnet.failover.failover_drift:
    checks: [slave_name]
    netns: lab0
    master_kinds: [bridge]
"""

RETURN = r"""
changed:
  description: Always false.
  returned: always
  type: bool
  sample: false
drift:
  description: One item per difference from the policy, in the order of the kinds above; empty when none.
  returned: always
  type: list
  elements: dict
  contains:
    kind: {description: "Stable kind string (see the description).", type: str, sample: dkms_next_kernel}
    subject: {description: "What drifts: a kernel release, a file, a module or an interface.", type: str}
    expected: {description: What the policy wants., type: str}
    actual: {description: What the host has., type: str}
    message: {description: One sentence for people., type: str}
    remedy: {description: What fixes it., type: str}
  sample:
    - kind: dkms_next_kernel
      subject: 6.1.0-58-cloud-amd64
      expected: virtnet-failover/1.0.0 installed
      actual: absent
      message: "virtnet-failover/1.0.0 is not installed for the next-boot kernel 6.1.0-58-cloud-amd64 (absent):
        after the next reboot the stock failover module loads"
      remedy: "run the virtnet.failover.rollout playbook for this host (or: dkms install virtnet-failover/1.0.0
        -k 6.1.0-58-cloud-amd64, then update-initramfs -u -k 6.1.0-58-cloud-amd64)"
drift_kinds:
  description: Sorted unique kinds of RV(drift).
  returned: always
  type: list
  elements: str
  sample: [dkms_next_kernel]
running_kernel:
  description: C(uname -r).
  returned: always
  type: str
  sample: 6.1.0-56-amd64
next_boot_kernel:
  description: The kernel that boots next (null when it cannot be told).
  returned: always
  type: str
  sample: 6.1.0-56-amd64
dkms_version:
  description: The DKMS version compared (O(dkms_version) or the one found), null when none is in the tree.
  returned: always
  type: str
  sample: 1.0.0
kernels:
  description: Per checked kernel (running and next boot) the DKMS state and the srcversion of the installed DKMS module.
  returned: always
  type: dict
  sample: {"6.1.0-56-amd64": {"dkms_state": installed, "srcversion": "1A2B3C4D5E6F708192A3B4C", "running": true,
           "next_boot": true}}
loaded_module:
  description: The loaded module (loaded, builtin, patched, srcversion, version, slave_rename_ok, live_rename).
  returned: always
  type: dict
  sample: {loaded: true, builtin: false, patched: true, srcversion: "1A2B3C4D5E6F708192A3B4C", version: 1.0.0,
           slave_rename_ok: true, live_rename: flag}
initramfs:
  description: What the initramfs check read (path, found, srcversion, error), null when not checked.
  returned: always
  type: dict
  sample: {path: /boot/initrd.img-6.1.0-56-amd64, kernel: 6.1.0-56-amd64, found: true, srcversion: "1A2B3C4D5E6F708192A3B4C"}
groups:
  description: The failover groups as RV(virtnet.failover.failover_info#module:groups) returns them; empty without O(check_names).
  returned: always
  type: list
  elements: dict
  sample: []
health:
  description:
    - The health verdict of RV(groups) and RV(loaded_module), as RV(virtnet.failover.failover_info#module:health)
      gives it with the same O(slave_rename_ok), O(require_group) and O(reboot_pending); null when the slave names were not read
      (O(check_names=false), or O(checks) without C(slave_name)).
  returned: always
  type: dict
  sample: {ok: false, problems: ["master enp1s0 has no primary slave"]}
converged:
  description: The host needs nothing (RV(drift) is empty and RV(health) is C(ok)); the rollout leaves such a host
    alone.
  returned: always
  type: bool
  sample: true
textfile:
  description: The node_exporter textfile written (in check mode, the one that would be written); null without
    O(textfile_dir).
  returned: always
  type: str
  sample: /var/lib/prometheus/node-exporter/virtnet_failover.prom
elapsed_seconds:
  description: Time spent.
  returned: always
  type: float
  sample: 0.21
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import (
    Scan,
    common_argument_spec,
    groups_report,
    policy_from_params,
)
from ansible_collections.virtnet.failover.plugins.module_utils.failover_group_health import health
from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import ROLES, PolicyError
from ansible_collections.virtnet.failover.plugins.module_utils.failover_netlink import FailoverError
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import KIND_ORDER
# every kernel-module fact (DKMS tree, next-boot kernel, /sys/module, built-in, .ko, initramfs, modprobe.d)
# is read by kmod_state, the reader kmod_info and kmod_plan use; Paths and gather_kmod are its names here
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_state import HostPaths as Paths, gather_kmod
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_sysfs import (
    KmodError,
    validate_dkms_module,
)
from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import (
    ROLLOUT,
    bad_option_items,
    boot_param_items,
    drift_item,
    modprobe_file_items,
    wanted_content,
)

KINDS = KIND_ORDER
TEXTFILE_NAME = "virtnet_failover.prom"


def _bool_text(value):
    if value is None:
        return "unset"
    return "1 (Y)" if value else "0 (N)"


def evaluate(params, facts, groups):
    """Drift items for gathered ``facts`` and failover ``groups`` (pure)."""
    items = []
    name = params["dkms_name"]
    version = facts["dkms_version"]
    label = "%s/%s" % (name, version) if version else name
    running = facts["running_kernel"]
    nb = facts["next_boot_kernel"]
    loaded = facts["loaded_module"]
    kernels = facts["kernels"]
    modname = params["module"]

    if loaded["builtin"]:
        items.append(drift_item(
            "module_builtin", running, "%s built as a module (CONFIG_%s=m)" % (modname, modname.upper()), "built in",
            "%s is built into the running kernel %s; a DKMS module cannot replace it" % (modname, running),
            "boot a kernel that builds %s as a module (CONFIG_%s=m)" % (modname, modname.upper())))

    if not loaded["builtin"]:
        state = kernels[running]["dkms_state"]
        if state != "installed" or not kernels[running]["module_path"]:
            actual = state if state != "installed" else "installed, but no module file under /lib/modules/%s" % running
            items.append(drift_item(
                "dkms_running_kernel", running, "%s installed" % label, actual,
                "%s is not installed for the running kernel %s (%s)" % (label, running, actual),
                "%s (or: dkms install %s -k %s)" % (ROLLOUT, label, running)))
        if nb and nb != running:
            nstate = kernels[nb]["dkms_state"]
            if nstate != "installed" or not kernels[nb]["module_path"]:
                actual = nstate if nstate != "installed" else "installed, but no module file under /lib/modules/%s" % nb
                remedy = "%s (or: dkms install %s -k %s, then update-initramfs -u -k %s)" % (ROLLOUT, label, nb, nb)
                if not kernels[nb].get("has_headers", True):
                    actual += "; no headers for it"
                    remedy = "install the headers of %s (%s), which DKMS needs to build for it; then %s" % (
                        nb, kernels[nb].get("headers_package") or "the kernel's headers package", remedy)
                items.append(drift_item(
                    "dkms_next_kernel", nb, "%s installed" % label, actual,
                    "%s is not installed for the next-boot kernel %s (%s): after the next reboot the stock %s "
                    "module loads" % (label, nb, actual, modname), remedy))

        want_src = kernels[running]["srcversion"]
        if not loaded["loaded"]:
            items.append(drift_item(
                "module_not_patched", modname, "patched %s loaded" % modname, "not loaded",
                "the %s module is not loaded" % modname,
                "load it (modprobe %s), or reboot; %s" % (modname, ROLLOUT)))
        elif not loaded["patched"]:
            items.append(drift_item(
                "module_not_patched", modname, "patched %s (srcversion %s)" % (modname, want_src or "of the DKMS build"),
                "stock module" + (" (srcversion %s)" % loaded["srcversion"] if loaded["srcversion"] else ""),
                "the loaded %s module is the stock one, not the patched DKMS build" % modname,
                "reboot the host (the patched module is active after a reboot once it is installed and in the "
                "initramfs); %s" % ROLLOUT))
        elif want_src and loaded["srcversion"] and loaded["srcversion"] != want_src:
            items.append(drift_item(
                "module_not_patched", modname, "srcversion %s (DKMS build for %s)" % (want_src, running),
                "srcversion %s" % loaded["srcversion"],
                "the loaded %s module (srcversion %s) is not the DKMS build installed for %s (%s): a reboot is "
                "pending" % (modname, loaded["srcversion"], running, want_src),
                "reboot the host; %s" % ROLLOUT))

    wanted = params["slave_rename_ok"]
    if wanted is not None and loaded["patched"] and loaded["slave_rename_ok"] != wanted:
        items.append(drift_item(
            "param_value", "%s.slave_rename_ok" % modname, _bool_text(wanted), _bool_text(loaded["slave_rename_ok"]),
            "/sys/module/%s/parameters/slave_rename_ok is %s, the policy wants %s"
            % (modname, _bool_text(loaded["slave_rename_ok"]), _bool_text(wanted)),
            "%s (or: virtnet.failover.module_param, or echo %d > /sys/module/%s/parameters/slave_rename_ok)"
            % (ROLLOUT, int(wanted), modname)))

    if facts["modprobe"] is not None:
        # the exact file the kmod role would write (the rollout's DKMS version, else the one found)
        content = params["modprobe_content"]
        if content is None:
            content = wanted_content(modname, wanted, name, version)
        items.extend(modprobe_file_items(params["modprobe_file"], content, facts["modprobe"]))
    if facts.get("modprobe_options"):
        items.extend(bad_option_items(facts["modprobe_options"], modname, params["modprobe_file"]))
        items.extend(boot_param_items(facts["modprobe_options"], modname, params["slave_rename_ok"],
                                      params["modprobe_file"]))

    ird = facts["initramfs"]
    if ird is not None and not loaded["builtin"]:
        kernel = ird["kernel"]
        want = kernels.get(kernel, {}).get("srcversion")
        remedy = "update-initramfs -u -k %s (the rollout does it)" % kernel
        if ird["error"]:
            items.append(drift_item("initramfs", ird["path"], "readable, with the DKMS %s module" % modname,
                                    "unreadable: %s" % ird["error"],
                                    "cannot read the initramfs %s of %s: %s" % (ird["path"], kernel, ird["error"]),
                                    "check the file, then %s" % remedy))
        elif want and ird["found"] and ird["srcversion"] != want:
            items.append(drift_item(
                "initramfs", ird["path"], "%s.ko srcversion %s" % (modname, want),
                "%s.ko srcversion %s (%s)" % (modname, ird["srcversion"], ird["member"]),
                "the initramfs of %s carries a %s module that is not the DKMS build, so the stock module loads "
                "at boot" % (kernel, modname), remedy))

    for group in groups:
        master = group["master"]["name"]
        for role in ROLES:
            slave = group.get(role)
            if not slave:
                continue
            if slave.get("policy_problem"):
                items.append(drift_item("slave_name", slave["name"], "a valid name", slave["name"],
                                        slave["policy_problem"], "fix the naming policy (templates or names)"))
            elif slave.get("name_ok") is False:
                items.append(drift_item(
                    "slave_name", slave["name"], slave["expected_name"], slave["name"],
                    "the %s slave of %s is %s, the policy names it %s" % (role, master, slave["name"],
                                                                          slave["expected_name"]),
                    "%s (slave_names role), or virtnet.failover.failover_slave_name" % ROLLOUT))

    if params["checks"]:
        items = [i for i in items if i["kind"] in params["checks"]]
    order = {k: n for n, k in enumerate(KINDS)}
    items.sort(key=lambda i: order[i["kind"]])
    return items


def argument_spec():
    spec = dict(
        dkms_name=dict(type="str", default="virtnet-failover"),
        dkms_version=dict(type="str"),
        module=dict(type="str", default="failover"),
        slave_rename_ok=dict(type="bool"),
        modprobe_file=dict(type="path", default="/etc/modprobe.d/virtnet-failover.conf"),
        modprobe_content=dict(type="str"),
        check_initramfs=dict(type="bool", default=True),
        check_names=dict(type="bool", default=True),
        checks=dict(type="list", elements="str", choices=list(KINDS)),
        require_group=dict(type="bool", default=True),
        require_healthy=dict(type="bool", default=False),
        reboot_pending=dict(type="bool", default=False),
        textfile_dir=dict(type="path", default=""),
        from_play_vars=dict(type="bool", default=False),  # read by the action plugin on the controller
    )
    spec.update(common_argument_spec())  # netns, master_kinds and the naming policy, as failover_info
    return spec


class Textfile:
    """The node_exporter textfile of this check (O(textfile_dir)), or nothing when it is not asked for.

    Its code (the metrics, the atomic write) is imported only when the file is asked for: a check without
    it, as on every host of a drift run without O(textfile_dir), does not pay for those imports.
    """

    def __init__(self, module):
        self.module = module
        directory = module.params["textfile_dir"]
        self.path = os.path.join(directory, TEXTFILE_NAME) if directory else None

    def refusal(self):
        if not self.path:
            return None
        from ansible_collections.virtnet.failover.plugins.module_utils.textfile_collector import refusal

        return refusal(self.path, "")

    def write(self, result):
        """Write the metrics of ``result`` (a failover_drift result, failed ones too); the path, or None.

        Output of the check that carries its time, so it is rewritten every run and never counted as a
        change; nothing is written in check mode.
        """
        if not self.path:
            return None
        from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import host_metrics
        from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import host_entry
        from ansible_collections.virtnet.failover.plugins.module_utils.textfile_collector import (
            as_bytes,
            write_if_changed,
        )

        entry = host_entry("localhost", result, require_group=self.module.params["require_group"])
        write_if_changed(self.module, self.path, as_bytes(host_metrics(entry, time.time(), KIND_ORDER)), changed=True)
        return self.path

    def fail(self, msg, **kwargs):
        """fail_json, after writing the metrics of the failed check (check_success 0)."""
        self.write(dict(failed=True, msg=msg))
        self.module.fail_json(msg=health_failure(self.module.params, msg), changed=False, **kwargs)


def health_failure(params, why):
    """The message of a failed check: with O(require_healthy), a failed health check."""
    return "health check failed: %s" % why if params["require_healthy"] else why


def unhealthy(result):
    """Why the host of a check result is not healthy, or None when it is."""
    if result["health"] is None:
        return "the failover groups were not read (check_names: false or a checks list without slave_name)"
    if not result["health"]["ok"]:
        return "; ".join(result["health"]["problems"])
    return None


def check(module, textfile, paths=None):
    """The failover_drift result of this host (fails through ``textfile``, which records the failure)."""
    params = module.params
    try:
        validate_dkms_module(params["module"], params["dkms_name"], params["dkms_version"])
    except KmodError as exc:
        textfile.fail(str(exc))
    groups, names_read = [], False
    if params["check_names"] and (not params["checks"] or "slave_name" in params["checks"]):
        try:
            policy = policy_from_params(params)
            scan = Scan(params["netns"], params["master_kinds"])
            groups, names_read = groups_report(scan, policy), True
        except (PolicyError, FailoverError) as exc:
            textfile.fail("cannot check slave names: %s" % exc)
    facts = gather_kmod(params, paths or Paths())
    items = evaluate(params, facts, groups)
    host_health = health(groups, facts["loaded_module"], params["require_group"], params["slave_rename_ok"],
                         params["reboot_pending"]) if names_read else None
    return dict(
        changed=False, drift=items, drift_kinds=sorted({i["kind"] for i in items}),
        running_kernel=facts["running_kernel"], next_boot_kernel=facts["next_boot_kernel"],
        dkms_version=facts["dkms_version"], kernels=facts["kernels"], loaded_module=facts["loaded_module"],
        initramfs=facts["initramfs"], groups=groups, health=host_health,
        converged=not items and host_health is not None and host_health["ok"])


def run(module, paths=None):
    t0 = time.monotonic()
    textfile = Textfile(module)
    refused = textfile.refusal()
    if refused:
        module.fail_json(msg="textfile_dir: %s; nothing was checked or written" % refused, changed=False)
    try:
        result = check(module, textfile, paths)
    except Exception as exc:  # a crash of the check is a failed check for the metrics too; the traceback stands
        textfile.write(dict(failed=True, msg="failover_drift crashed: %s" % exc))
        raise
    result["textfile"] = textfile.write(result)
    why = unhealthy(result) if module.params["require_healthy"] else None
    if why:
        module.fail_json(msg=health_failure(module.params, why), elapsed_seconds=round(time.monotonic() - t0, 4),
                         **result)
    module.exit_json(elapsed_seconds=round(time.monotonic() - t0, 4), **result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
