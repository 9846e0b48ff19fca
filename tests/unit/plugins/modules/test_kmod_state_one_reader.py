# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One reader of the kernel-module facts: kmod_state reads them for kmod_info and kmod_plan
(gather_state) and for failover_drift (gather_kmod), from the directories a HostPaths names.

Run against the fake Debian 12 guest of test_failover_drift, both views must tell the same
srcversions, DKMS states, next-boot kernel, built-in verdict and initramfs copy."""

from __future__ import annotations

import os
import shutil

from ansible_collections.virtnet.failover.plugins.module_utils import kmod_state as ks
from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import MODPROBE_DIRS
from ansible_collections.virtnet.failover.plugins.modules import failover_drift as fd
from test_failover_drift import K1, K2, SRC_PATCHED, SRC_PATCHED_K2, SRC_STOCK, Host, params, write


def state(host, **over):
    p = dict(dict(dkms_name="virtnet-failover", dkms_version="1.0.0", module="failover",
                  initramfs_kernels=["next_boot"]), **over)
    return ks.gather_state(p, lambda name: None, None, paths=host.paths)


def agree(host):
    """The facts drift reads and the state kmod_info reads, compared where they overlap."""
    facts = fd.gather_kmod(params(host), host.paths)
    st = state(host)
    assert st["running_kernel"] == facts["running_kernel"] == K1
    assert st["next_boot_kernel"] == facts["next_boot_kernel"]
    assert st["next_boot_source"] == facts["next_boot_source"]
    for kernel, k in facts["kernels"].items():
        assert st["kernels"][kernel]["dkms_state"] == k["dkms_state"], kernel
        assert st["kernels"][kernel]["dkms_module"]["srcversion"] == k["srcversion"], kernel
        assert st["kernels"][kernel]["dkms_module"]["path"] == k["module_path"], kernel
    for key in ("loaded", "patched", "srcversion", "version", "slave_rename_ok", "live_rename"):
        assert st["loaded"][key] == facts["loaded_module"][key], key
    assert st["summary"]["failover_builtin_running"] == facts["loaded_module"]["builtin"]
    ird = st["kernels"][facts["initramfs"]["kernel"]]["initramfs"]
    for key in ("path", "exists", "found", "member", "srcversion", "error"):
        assert ird[key] == facts["initramfs"][key], key
    return facts, st


def test_drift_facts_of_a_rolled_out_host(tmp_path):
    """What drift reads from the fake guest, written out by hand from how Host builds it."""
    host = Host(tmp_path)
    facts = fd.gather_kmod(params(host), host.paths)
    modprobe = ("# Managed by virtnet.failover.kmod: local changes are overwritten.\n"
                "# Options of the patched failover module (virtnet-failover 1.0.0, DKMS).\n"
                "# slave_rename_ok=1: UP failover slaves may be renamed; 0: such renames fail with EBUSY.\n"
                "options failover slave_rename_ok=1\n")
    assert facts == {
        "running_kernel": K1, "next_boot_kernel": K1, "next_boot_source": host.p("/vmlinuz"),
        "dkms_version": "1.0.0", "dkms_versions": ["1.0.0"],
        "kernels": {K1: {"dkms_state": "installed", "srcversion": SRC_PATCHED,
                         "module_path": host.p("/lib/modules/%s/updates/dkms/failover.ko" % K1),
                         "running": True, "next_boot": True, "has_headers": True,
                         "headers_package": "linux-headers-%s" % K1}},
        "loaded_module": {"loaded": True, "builtin": False, "patched": True, "srcversion": SRC_PATCHED,
                          "version": "1.0.0", "slave_rename_ok": True, "live_rename": "flag"},
        "modprobe": {"path": host.modprobe, "exists": True, "type": "file", "uid": os.getuid(), "gid": os.getgid(),
                     "mode": 0o644, "error": None, "content": modprobe,
                     "options": {"failover": {"slave_rename_ok": "1"}}},
        "modprobe_options": [{"path": host.modprobe, "line": 4, "name": "slave_rename_ok", "value": "1"}],
        "initramfs": {"kernel": K1, "path": host.p("/boot/initrd.img-%s" % K1), "exists": True, "found": True,
                      "member": "usr/lib/modules/%s/updates/dkms/failover.ko" % K1, "srcversion": SRC_PATCHED,
                      "error": None},
    }


def test_drift_reads_the_module_files_through_kmod_state(tmp_path, monkeypatch):
    """Drift's module facts come from kmod_state's reader: a different srcversion read there shows up in drift."""
    host = Host(tmp_path)
    real = ks.read_ko

    def read_ko(*args, **kwargs):
        info = real(*args, **kwargs)
        return dict(info, srcversion="READ-BY-KMOD-STATE") if info.get("srcversion") else info

    monkeypatch.setattr(ks, "read_ko", read_ko)
    facts = fd.gather_kmod(params(host), host.paths)
    assert facts["kernels"][K1]["srcversion"] == "READ-BY-KMOD-STATE"


def test_host_paths_default_to_the_host():
    p = ks.HostPaths()
    assert (p.root, p.sys_module, p.modules_dir, p.boot_dir, p.dkms_tree) == (
        "/", "/sys/module", "/lib/modules", "/boot", "/var/lib/dkms")
    assert p.running == os.uname().release and p.modprobe_dirs == MODPROBE_DIRS


def test_gather_state_reads_a_fake_root(tmp_path):
    host = Host(tmp_path)
    st = state(host, initramfs_kernels=["all"], modprobe_conf=host.modprobe, slave_rename_ok=True)
    k = st["kernels"][K1]
    assert list(st["kernels"]) == [K1] and st["next_boot_kernel"] == K1
    assert k["dkms_state"] == "installed" and k["dkms_version"] == "1.0.0"
    assert k["dkms_module"]["srcversion"] == SRC_PATCHED and k["stock_module"]["srcversion"] == SRC_STOCK
    assert k["config_failover"] == "m" and k["failover_builtin"] is False
    assert k["initramfs"]["patched"] is True and k["dkms_matches_loaded"] is True
    assert st["loaded"]["patched"] and st["loaded"]["matches_dkms"] is True
    assert st["modprobe_conf"]["drift"] == []
    assert st["summary"]["next_boot_ready"] and not st["summary"]["reboot_required"]


def test_both_views_agree_on_a_rolled_out_host(tmp_path):
    facts, _st = agree(Host(tmp_path))
    assert facts["kernels"][K1]["srcversion"] == SRC_PATCHED


def test_both_views_agree_after_a_kernel_update(tmp_path):
    host = Host(tmp_path)
    host.add_kernel(K2, SRC_PATCHED_K2)
    host.set_next(K2)
    host.initramfs(K2, SRC_STOCK, "usr/lib/modules/%s/kernel/net/core/failover.ko" % K2)
    facts, st = agree(host)
    assert facts["kernels"][K2]["srcversion"] == SRC_PATCHED_K2 and facts["initramfs"]["srcversion"] == SRC_STOCK
    assert st["kernels"][K2]["initramfs"]["patched"] is False and st["summary"]["reboot_required"]


def test_both_views_agree_without_dkms_and_with_a_builtin_module(tmp_path):
    host = Host(tmp_path)
    host.add_kernel(K2, None, dkms=False)
    host.set_next(K2)
    host.initramfs(K2, SRC_STOCK, "usr/lib/modules/%s/kernel/net/core/failover.ko" % K2)
    facts, _st = agree(host)
    assert facts["kernels"][K2]["dkms_state"] == "added" and facts["kernels"][K2]["srcversion"] is None
    write(host.p("/boot/config-%s" % K1), "CONFIG_FAILOVER=y\n")
    shutil.rmtree(host.p("/sys/module/failover"))
    facts, _st = agree(host)
    assert facts["loaded_module"]["builtin"] is True and facts["loaded_module"]["loaded"] is False


def test_drift_falls_back_to_the_dkms_build_kmod_info_does_not(tmp_path):
    """Without a module file under /lib/modules drift compares the DKMS build output
    (its module_path points into the DKMS tree); kmod_info's dkms_module stays absent."""
    host = Host(tmp_path)
    os.unlink(host.p("/lib/modules/%s/updates/dkms/failover.ko" % K1))
    facts = fd.gather_kmod(params(host), host.paths)
    assert facts["kernels"][K1]["srcversion"] == SRC_PATCHED
    assert facts["kernels"][K1]["module_path"] == host.p(
        "/var/lib/dkms/virtnet-failover/1.0.0/%s/x86_64/module/failover.ko" % K1)
    assert state(host)["kernels"][K1]["dkms_module"]["exists"] is False


def test_pick_version():
    tree = {"1.0.0": {"state": "added", "kernels": {K1: {"state": "installed"}}},
            "2.0.0": {"state": "added", "kernels": {K1: {"state": "built"}}}}
    assert ks.pick_version(tree, "3.0.0", K1) == "3.0.0"
    assert ks.pick_version(tree, None, K1) == "1.0.0"
    assert ks.pick_version(tree, None, K2) == "2.0.0"
    assert ks.pick_version({}, None, K1) is None
