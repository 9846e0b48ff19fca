#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kmod_info
short_description: Gather the state of the patched failover module on a host in one call
version_added: "1.0.0"
description:
  - Read-only. Collects what a drift check needs about a DKMS-managed kernel module (by default
    the patched C(failover) module of this collection) in one module call, reading files instead
    of running commands
  - DKMS state per kernel read from the DKMS tree (C(/var/lib/dkms/NAME/VERSION/KERNEL/ARCH/module)
    and the C(kernel-KERNEL-ARCH) install links, which is what C(dkms status) evaluates), or
    from C(dkms status) with O(dkms_status_source=command).
  - The running kernel and the kernel that boots next. Rule (Debian convention) the target of
    the C(/vmlinuz) symlink, then of C(/boot/vmlinuz); without them the newest C(/boot/vmlinuz-*)
    in version order (what C(update-grub) lists first).
  - Per kernel the installed DKMS module file (C(updates/dkms/), C(extra/) or C(updates/)) and
    its C(srcversion) read from the ELF C(.modinfo) section (C(.ko.xz) and C(.ko.gz) are
    decompressed in Python, C(.ko.zst) with the C(zstd) tool when present), the module's config option
    C(CONFIG_MODULE) (C(CONFIG_FAILOVER) for the default O(module))
    from C(/boot/config-KERNEL) (or the headers' C(.config)), and whether the module is built in.
  - The loaded module from C(/sys/module/MODULE) (srcversion, version, parameters; patched when
    C(parameters/slave_rename_ok) exists).
  - Optionally a modprobe.d file and, for chosen kernels, the C(MODULE.ko) inside the initramfs
    (streamed and decompressed on the fly; the scan stops at the first C(MODULE.ko) entry;
    nothing is cached or written).
author:
  - virtnet.failover developers (@virtnet)
options:
  dkms_name:
    description: DKMS package name of the module.
    type: str
    default: virtnet-failover
  dkms_version:
    description:
      - The wanted DKMS version. When set, per-kernel C(dkms_state) is the state of that version;
        otherwise the most advanced state of any version.
    type: str
  module:
    description: Kernel module name (file name without C(.ko)) and C(/sys/module) entry.
    type: str
    default: failover
  kernels:
    description:
      - Kernels to report in RV(kernels). Default every kernel with a C(/lib/modules) directory or
        a C(/boot/vmlinuz-*) image, plus the running and the next-boot kernel.
    type: list
    elements: str
  initramfs_kernels:
    description:
      - Kernels whose initramfs is searched for C(MODULE.ko). V(running), V(next_boot) and
        V(all) (every reported kernel) are accepted besides releases.
      - Default none (reading an initramfs is the only slow part; expect well under a second
        per image with zstd).
    type: list
    elements: str
    default: []
  modprobe_conf:
    description: A modprobe.d file to read (content and parsed C(options) lines).
    type: path
  slave_rename_ok:
    description:
      - Wanted value of C(slave_rename_ok) in O(modprobe_conf). When set, RV(modprobe_conf.drift) lists how the
        file differs from the one the C(virtnet.failover.kmod) role writes for O(dkms_name), O(dkms_version) (else
        the DKMS version installed for the running kernel, else the newest) and this value - missing, not a regular
        file, any byte of other content, or not root:root 0644 - with the same verdict as the C(modprobe_file) kind
        of M(virtnet.failover.failover_drift).
    type: bool
  dkms_status_source:
    description:
      - V(tree) reads the DKMS tree directly (fast, no subprocess).
      - V(command) runs C(dkms status -m NAME) and parses it (slower; also shows dkms's warnings
        such as a diff between built and installed module).
    type: str
    choices: [tree, command]
    default: tree
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    details: Read-only module, nothing to show in diff mode.
  platform:
    support: full
    platforms: linux
extends_documentation_fragment:
  - virtnet.failover.attributes
notes:
  - Runs as any user; as non-root some files (for example an initramfs with mode 0600) may be
    unreadable and are reported with an C(error).
seealso:
  - module: virtnet.failover.dkms
  - module: virtnet.failover.module_param
"""

EXAMPLES = r"""
- name: Gather the module state for the drift report
  virtnet.failover.kmod_info:
    dkms_version: 1.0.0
    modprobe_conf: /etc/modprobe.d/virtnet-failover.conf
    initramfs_kernels: [next_boot]
  register: kmod

- name: Flag a host whose next boot would not load the patched module
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} drifts"
  when: not kmod.summary.next_boot_ready
"""

RETURN = r"""
running_kernel:
  description: C(uname -r).
  returned: always
  type: str
  sample: 6.1.0-56-amd64
next_boot_kernel:
  description: The kernel that boots next (null when it cannot be told); see the rule above.
  returned: always
  type: str
  sample: 6.1.0-58-amd64
next_boot_source:
  description: Where RV(next_boot_kernel) came from (C(/vmlinuz), C(/boot/vmlinuz), C(/boot/vmlinuz-*)) or null.
  returned: always
  type: str
  sample: /vmlinuz
loaded:
  description: The module as C(/sys/module/MODULE) shows it.
  returned: always
  type: dict
  contains:
    name:
      description: "Module name."
      type: str
    loaded:
      description: "C(/sys/module/MODULE) exists (loaded or built in)."
      type: bool
    builtin:
      description: "Compiled into the running kernel (no C(initstate))."
      type: bool
    patched:
      description: "The patched module is loaded (C(parameters/slave_rename_ok) exists)."
      type: bool
    srcversion:
      description: "srcversion of the loaded module (null when unknown)."
      type: str
    version:
      description: "MODULE_VERSION of the loaded module (null when none)."
      type: str
    initstate:
      description: "C(live), C(coming), C(going) or null."
      type: str
    refcnt:
      description: "Reference count."
      type: int
    holders:
      description: "Modules holding it (for example C(net_failover))."
      type: list
      elements: str
    parameters:
      description: "Every parameter name -> value as the kernel shows it."
      type: dict
    slave_rename_ok:
      description: "C(slave_rename_ok) as a boolean, null when absent."
      type: bool
    live_rename:
      description: "The C(live_rename) parameter (mechanism in use), null when absent."
      type: str
    matches_dkms:
      description: "srcversion equals the DKMS module installed for the running kernel (null if either is unknown)."
      type: bool
dkms:
  description: DKMS view of O(dkms_name).
  returned: always
  type: dict
  contains:
    name:
      description: "DKMS package name."
      type: str
    wanted_version:
      description: "O(dkms_version)."
      type: str
    source:
      description: "C(tree) or C(command)."
      type: str
    installed:
      description: "The C(dkms) command exists."
      type: bool
    versions:
      description: version -> {state (added or broken), kernels (kernel -> built, installed or installed-weak)}.
      type: dict
    flags:
      description: "version -> kernel -> dkms notes (C(diff), C(original_module), C(missing_built)); O(dkms_status_source=command) only."
      type: dict
kernels:
  description: Per kernel release.
  returned: always
  type: dict
  contains:
    running:
      description: "It is the running kernel."
      type: bool
    next_boot:
      description: "It is the next-boot kernel."
      type: bool
    modules_dir:
      description: "C(/lib/modules/KERNEL) exists."
      type: bool
    has_headers:
      description: "C(/lib/modules/KERNEL/build) resolves to a headers tree."
      type: bool
    config_failover:
      description: "The config option of O(module) (C(CONFIG_FAILOVER) by default): y, m, not set, or null when no config file was found."
      type: str
    config_source:
      description: "File C(config_failover) was read from."
      type: str
    failover_builtin:
      description: "O(module) is built in (its config option is y, or modules.builtin lists it); null if unknown."
      type: bool
    dkms_state:
      description: "DKMS state (absent, added, built, installed, installed-weak, broken) of the wanted version, or the most advanced of any version."
      type: str
    dkms_version:
      description: "The DKMS version installed (or built) for this kernel, null if none."
      type: str
    dkms_module:
      description: "The installed DKMS module file: path (null if none), exists, compressed (null, xz, gzip, zstd), srcversion, version, vermagic, error."
      type: dict
    dkms_matches_loaded:
      description: "The installed DKMS module's srcversion equals the loaded module's (null when either is unknown)."
      type: bool
    stock_module:
      description: The distribution module (C(kernel/net/core/MODULE.ko*)) with the same keys.
      type: dict
    initramfs:
      description:
        - Only for O(initramfs_kernels). path, exists, found (MODULE.ko inside), member (its path in the image),
          compressed_member, srcversion, version, vermagic, archives (list of offset/compression),
          error, seconds, patched (srcversion equals the installed DKMS module; null when unknown).
      type: dict
modprobe_conf:
  description:
    - "O(modprobe_conf) read: path, exists, type (file, link, other; null when missing), uid, gid, mode (an int),
      content (exact, line ends kept), error (why a file could not be read), options (module -> param -> value).
      Null without O(modprobe_conf)."
  returned: always
  type: dict
  contains:
    drift:
      description:
        - Drift items (kind C(modprobe_file), the keys of RV(virtnet.failover.failover_drift#module:drift)) of
          the file against the one the kmod role writes (O(slave_rename_ok)); empty when it matches or
          O(slave_rename_ok) is not set.
      type: list
      elements: dict
summary:
  description: Derived booleans for a drift check.
  returned: always
  type: dict
  contains:
    patched_loaded:
      description: "The loaded module has C(slave_rename_ok)."
      type: bool
    loaded_matches_dkms:
      description: "Same as RV(loaded.matches_dkms)."
      type: bool
    running_dkms_installed:
      description: "DKMS state is installed for the running kernel."
      type: bool
    next_boot_dkms_installed:
      description: "DKMS state is installed for the next-boot kernel (null when unknown)."
      type: bool
    next_boot_initramfs_patched:
      description: "The next-boot initramfs has the DKMS module (null when not read or unknown)."
      type: bool
    next_boot_ready:
      description: "next_boot_dkms_installed and next_boot_initramfs_patched is not false."
      type: bool
    failover_builtin_running:
      description: "failover is built into the running kernel (C(/sys/module) without initstate, or config y)."
      type: bool
    reboot_required:
      description: "The patched module is installed for the next-boot kernel but the loaded module differs from it."
      type: bool
elapsed_seconds:
  description: Time the module spent gathering.
  returned: always
  type: float
  sample: 0.012
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtnet.failover.plugins.module_utils.host_command import run
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_state import gather_state
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_sysfs import KmodError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dkms_name=dict(type='str', default='virtnet-failover'),
            dkms_version=dict(type='str'),
            module=dict(type='str', default='failover'),
            kernels=dict(type='list', elements='str'),
            initramfs_kernels=dict(type='list', elements='str', default=[]),
            modprobe_conf=dict(type='path'),
            slave_rename_ok=dict(type='bool'),
            dkms_status_source=dict(type='str', choices=['tree', 'command'], default='tree'),
        ),
        supports_check_mode=True,
    )
    try:
        state = gather_state(module.params, module.get_bin_path,
                             run)  # reads all the output (see module_utils/host_command.py)
    except KmodError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **state)


if __name__ == '__main__':
    main()
