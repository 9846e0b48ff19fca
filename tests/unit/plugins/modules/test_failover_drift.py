# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""failover_drift against fake host trees shaped like a Debian 12 lab guest.

The tree has what a rolled-out guest has: the DKMS tree of
virtnet-failover/1.0.0 with the built module and the kernel-<k>-<arch>
install link, /lib/modules/<k>/updates/dkms/failover.ko, /sys/module/failover
with the patched module's parameters, /vmlinuz -> boot/vmlinuz-<k>, the
modprobe.d file and a zstd/gzip initramfs (newc cpio) carrying failover.ko.
Module files are real ELF objects with a .modinfo section.  Each test breaks
one thing, the way the Molecule drift scenario does in a VM.
"""

from __future__ import annotations

import copy
import gzip
import os
import struct

import pytest

from ansible_collections.virtnet.failover.plugins.modules import failover_drift as fd
from ansible_collections.virtnet.failover.plugins.module_utils.modprobe_policy import MODPROBE_DIRS, modprobe_file_content
from module_run import run_main

K1 = "6.1.0-56-amd64"
K2 = "6.1.0-58-cloud-amd64"
SRC_PATCHED = "8E1F0A6C2B3D4E5F6A7B8C9"
SRC_PATCHED_K2 = "0D1C2B3A495867F6E5D4C3B"
SRC_STOCK = "A3C1D0B9E8F7A6B5C4D3E2F"


def elf_ko(srcversion, version="1.0.0", name="failover", kernel=K1):
    """A minimal ELF64 relocatable object with a .modinfo section."""
    modinfo = b"\0".join(("%s=%s" % kv).encode() for kv in (
        ("version", version), ("license", "GPL"), ("srcversion", srcversion), ("depends", ""),
        ("name", name), ("vermagic", "%s SMP preempt mod_unload modversions " % kernel))) + b"\0"
    shstr = b"\0.modinfo\0.shstrtab\0"
    off_modinfo = 64
    off_shstr = off_modinfo + len(modinfo)
    shoff = (off_shstr + len(shstr) + 7) & ~7
    hdr = bytearray(64)
    hdr[0:4] = b"\x7fELF"
    hdr[4], hdr[5], hdr[6] = 2, 1, 1
    struct.pack_into("<HHIQQQIHHHHHH", hdr, 16, 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, 3, 2)
    sections = struct.pack("<IIQQQQIIQQ", *([0] * 10))
    sections += struct.pack("<IIQQQQIIQQ", 1, 1, 2, 0, off_modinfo, len(modinfo), 0, 0, 1, 0)
    sections += struct.pack("<IIQQQQIIQQ", 10, 3, 0, 0, off_shstr, len(shstr), 0, 0, 1, 0)
    body = bytes(hdr) + modinfo + shstr
    body += b"\0" * (shoff - len(body))
    return body + sections


def newc(entries):
    out = bytearray()
    for ino, (name, data, mode) in enumerate(list(entries) + [("TRAILER!!!", b"", 0)], 1):
        nb = name.encode() + b"\0"
        out += ("070701" + "".join("%08X" % v for v in (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
                ).encode() + nb
        out += b"\0" * ((4 - len(out) % 4) % 4)
        out += data
        out += b"\0" * ((4 - len(out) % 4) % 4)
    return bytes(out)


def role_file(slave_rename_ok, version="1.0.0"):
    """The modprobe.d file the kmod role writes on this fake host."""
    return modprobe_file_content("failover", slave_rename_ok, "virtnet-failover", version)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as fh:
        fh.write(data)
    os.chmod(path, mode)


class Host:
    """A fake root of a rolled-out Debian 12 guest."""

    def __init__(self, base):
        self.base = str(base)
        self.paths = fd.Paths(root=self.p("/"), sys_module=self.p("/sys/module"), modules_dir=self.p("/lib/modules"),
                              boot_dir=self.p("/boot"), dkms_tree=self.p("/var/lib/dkms"), running=K1,
                              modprobe_dirs=[self.p(d) for d in MODPROBE_DIRS], cmdline=self.p("/proc/cmdline"))
        self.modprobe = self.p("/etc/modprobe.d/virtnet-failover.conf")
        write(self.p("/proc/cmdline"), "BOOT_IMAGE=/vmlinuz root=LABEL=vmroot ro quiet\n")
        self.add_kernel(K1, SRC_PATCHED)
        self.set_next(K1)
        self.initramfs(K1, SRC_PATCHED, "usr/lib/modules/%s/updates/dkms/failover.ko" % K1)
        self.load(SRC_PATCHED, patched=True, rename_ok="Y")
        write(self.modprobe, role_file(True))  # as the kmod role writes it (root:root 0644, the tests run as root)
        write(self.p("/etc/os-release"), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')

    def p(self, path):
        return os.path.join(self.base, path.lstrip("/"))

    def add_kernel(self, kernel, srcversion, dkms=True, headers=True):
        write(self.p("/boot/vmlinuz-%s" % kernel), b"kernel image")
        if headers:
            os.makedirs(self.p("/lib/modules/%s/build/include" % kernel), exist_ok=True)
        write(self.p("/boot/config-%s" % kernel), "CONFIG_FAILOVER=m\nCONFIG_NET_FAILOVER=m\n")
        write(self.p("/lib/modules/%s/kernel/net/core/failover.ko" % kernel), elf_ko(SRC_STOCK, version="", kernel=kernel))
        write(self.p("/lib/modules/%s/modules.builtin" % kernel), "kernel/net/ipv4/tcp_cubic.ko\n")
        src = self.p("/var/lib/dkms/virtnet-failover/1.0.0/source")
        os.makedirs(src, exist_ok=True)
        write(os.path.join(src, "dkms.conf"), 'PACKAGE_NAME="virtnet-failover"\nPACKAGE_VERSION="1.0.0"\n'
              'BUILT_MODULE_NAME[0]="failover"\nDEST_MODULE_LOCATION[0]="/updates/dkms"\n')
        if dkms:
            self.dkms_install(kernel, srcversion)

    def dkms_install(self, kernel, srcversion):
        ko = elf_ko(srcversion, kernel=kernel)
        write(self.p("/var/lib/dkms/virtnet-failover/1.0.0/%s/x86_64/module/failover.ko" % kernel), ko)
        link = self.p("/var/lib/dkms/virtnet-failover/kernel-%s-x86_64" % kernel)
        if not os.path.islink(link):
            os.symlink("1.0.0/%s/x86_64" % kernel, link)
        write(self.p("/lib/modules/%s/updates/dkms/failover.ko" % kernel), ko)

    def dkms_remove(self, kernel):
        os.unlink(self.p("/var/lib/dkms/virtnet-failover/kernel-%s-x86_64" % kernel))
        os.unlink(self.p("/var/lib/dkms/virtnet-failover/1.0.0/%s/x86_64/module/failover.ko" % kernel))
        os.unlink(self.p("/lib/modules/%s/updates/dkms/failover.ko" % kernel))

    def set_next(self, kernel):
        link = self.p("/vmlinuz")
        if os.path.islink(link):
            os.unlink(link)
        os.symlink("boot/vmlinuz-%s" % kernel, link)

    def initramfs(self, kernel, srcversion, member):
        early = newc([("kernel", b"", 0o40755), ("kernel/x86/microcode/AuthenticAMD.bin", b"\0" * 700, 0o100644)])
        early += b"\0" * ((512 - len(early) % 512) % 512)
        main = newc([("usr", b"", 0o40755), ("usr/lib/modules/%s/modules.dep" % kernel, b"x\n", 0o100644),
                     (member, elf_ko(srcversion, kernel=kernel), 0o100644)])
        write(self.p("/boot/initrd.img-%s" % kernel), early + gzip.compress(main), 0o600)

    def load(self, srcversion, patched=True, rename_ok="Y", builtin=False):
        d = self.p("/sys/module/failover")
        if os.path.isdir(d):
            for root, dirs, files in os.walk(d, topdown=False):
                for f in files:
                    os.unlink(os.path.join(root, f))
                for sub in dirs:
                    os.rmdir(os.path.join(root, sub))
        os.makedirs(os.path.join(d, "parameters"), exist_ok=True)
        write(os.path.join(d, "srcversion"), srcversion + "\n")
        if not builtin:
            write(os.path.join(d, "initstate"), "live\n")
            write(os.path.join(d, "refcnt"), "1\n")
        if patched:
            write(os.path.join(d, "version"), "1.0.0\n")
            write(os.path.join(d, "parameters/slave_rename_ok"), rename_ok + "\n")
            write(os.path.join(d, "parameters/live_rename"), "flag\n")


def params(host, **over):
    base = dict(dkms_name="virtnet-failover", dkms_version="1.0.0", module="failover", slave_rename_ok=True,
                modprobe_file=host.modprobe, modprobe_content=None, check_initramfs=True, check_names=False,
                checks=None, netns=None, master_kinds=["net_failover"], standby_template="{master}nsby",
                primary_template="{master}npri", names=[])
    base.update(over)
    return base


def drift(host, groups=(), **over):
    p = params(host, **over)
    facts = fd.gather_kmod(p, host.paths)
    return fd.evaluate(p, facts, list(groups)), facts


def kinds(items):
    return [i["kind"] for i in items]


# groups as failover_common.groups_report returns them on the Debian 12 lab guest
GROUP_OK = {
    "master": {"name": "enp1s0", "ifindex": 2, "kind": "net_failover", "mac": "52:54:00:00:0f:01",
               "operstate": "UP", "up": True},
    "standby": {"name": "enp1s0nsby", "ifindex": 3, "role": "standby", "mac": "52:54:00:00:0f:01",
                "driver": "virtio_net", "bus_info": "0000:01:00.0", "pci_address": "0000:01:00.0",
                "phys_port_name": "sby", "alias": None, "operstate": "UP", "up": True,
                "expected_name": "enp1s0nsby", "name_ok": True, "policy_problem": None},
    "primary": {"name": "enp1s0npri", "ifindex": 5, "role": "primary", "mac": "52:54:00:00:0f:01",
                "driver": "e1000e", "bus_info": "0000:02:00.0", "pci_address": "0000:02:00.0",
                "phys_port_name": None, "alias": None, "operstate": "UP", "up": True,
                "expected_name": "enp1s0npri", "name_ok": True, "policy_problem": None},
    "other_slaves": [],
    "names_ok": True,
}


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def test_rolled_out_host_has_no_drift(host):
    items, facts = drift(host, [GROUP_OK])
    assert items == []
    assert facts["kernels"][K1] == {"dkms_state": "installed", "srcversion": SRC_PATCHED,
                                    "module_path": host.p("/lib/modules/%s/updates/dkms/failover.ko" % K1),
                                    "running": True, "next_boot": True, "has_headers": True,
                                    "headers_package": "linux-headers-%s" % K1}
    assert facts["loaded_module"]["patched"] and facts["loaded_module"]["slave_rename_ok"] is True
    assert facts["initramfs"]["found"] and facts["initramfs"]["srcversion"] == SRC_PATCHED
    assert facts["next_boot_kernel"] == K1


def test_every_item_has_the_contract_keys(host):
    os.unlink(host.modprobe)
    items, _facts = drift(host)
    assert items and all(set(i) == {"kind", "subject", "expected", "actual", "message", "remedy"} for i in items)
    assert all(isinstance(i[k], str) and i[k] for i in items for k in i)


def test_modprobe_file_deleted(host):
    os.unlink(host.modprobe)
    items, _facts = drift(host)
    assert kinds(items) == ["modprobe_file"]
    assert items[0]["actual"] == "missing" and items[0]["subject"] == host.modprobe


def test_modprobe_file_wrong_value_and_exact_content(host):
    write(host.modprobe, "options failover slave_rename_ok=0\n")
    items, _facts = drift(host)
    assert kinds(items) == ["modprobe_file"] and items[0]["actual"] == "options failover slave_rename_ok=0\n"
    assert items[0]["expected"] == role_file(True)
    items, _facts = drift(host, modprobe_content="options failover slave_rename_ok=0\n")
    assert items == []
    # exact, byte for byte: a missing final newline is a difference too
    items, _facts = drift(host, modprobe_content="options failover slave_rename_ok=0")
    assert kinds(items) == ["modprobe_file"]
    items, _facts = drift(host, modprobe_content="options failover slave_rename_ok=1\n")
    assert kinds(items) == ["modprobe_file"]
    # no role file to judge: the value the module gets at boot still comes from that file, and is not the policy's
    items, _facts = drift(host, modprobe_file="")
    assert kinds(items) == ["boot_param"] and items[0]["subject"] == host.modprobe + ":1"
    items, _facts = drift(host, modprobe_file="", slave_rename_ok=False)
    assert kinds(items) == ["param_value"]  # only the run-time value (Y) is not the policy's now


@pytest.mark.parametrize("cmdline, other, role, want", [
    # the kernel command line comes after every modprobe.d file: it wins
    ("ro failover.slave_rename_ok=0 quiet", None, "1", [("boot_param", "/proc/cmdline", "slave_rename_ok=0")]),
    ('ro "failover.slave-rename-ok=no"', None, "1", [("boot_param", "/proc/cmdline", "slave-rename-ok=no")]),
    ("ro failover.slave_rename_ok=1", ("zz-local.conf", "0"), "1", []),
    ("ro failover.slave_rename_ok=maybe", None, "1",
     [("modprobe_bad_option", "/proc/cmdline", "slave_rename_ok=maybe")]),
    ("ro failover.colour=blue", None, "1", [("modprobe_bad_option", "/proc/cmdline", "colour=blue")]),
    ("ro -- failover.slave_rename_ok=0", None, "1", []),  # after "--": init's arguments, not the kernel's
    ("ro net_failover.slave_rename_ok=0", None, "1", []),  # another module
    # a file modprobe reads after the role's file wins over it; one read before it does not
    ("ro", ("zz-local.conf", "0"), "1", [("boot_param", "zz-local.conf:1", "slave_rename_ok=0")]),
    ("ro", ("zz-local.conf", "1"), "1", []),
    ("ro", ("aa-local.conf", "0"), "1", []),
    # the role's file itself is modprobe_file's business, also when the command line repeats its wrong value
    ("ro", None, "0", [("modprobe_file", "virtnet-failover.conf", "options failover slave_rename_ok=0")]),
    ("ro failover.slave_rename_ok=0", None, "0", [("modprobe_file", "virtnet-failover.conf",
                                                   "options failover slave_rename_ok=0"),
                                                  ("boot_param", "/proc/cmdline", "slave_rename_ok=0")]),
])
def test_boot_value_from_the_kernel_command_line_and_other_files(host, cmdline, other, role, want):
    write(host.modprobe, role_file(role == "1"))
    write(host.p("/proc/cmdline"), cmdline + "\n")
    if other:
        write(host.p("/etc/modprobe.d/" + other[0]), "options failover slave_rename_ok=%s\n" % other[1])
    items, _facts = drift(host)
    got = [(i["kind"], i["subject"].replace(host.p("/etc/modprobe.d/"), "").replace(host.p("/proc"), "/proc"),
            i["actual"].splitlines()[-1] if i["kind"] == "modprobe_file" else i["actual"]) for i in items]
    assert got == want, items
    for i in items:
        assert i["remedy"] and ("kernel command line" in i["remedy"]) == (i["subject"].endswith("cmdline"))


def test_param_set_at_run_time(host):
    host.load(SRC_PATCHED, rename_ok="N")
    items, _facts = drift(host)
    assert kinds(items) == ["param_value"]
    assert items[0]["expected"] == "1 (Y)" and items[0]["actual"] == "0 (N)"
    items, _facts = drift(host, slave_rename_ok=None, modprobe_file="")
    assert items == []


def test_dkms_removed_for_running_kernel(host):
    host.dkms_remove(K1)
    items, facts = drift(host)
    assert kinds(items) == ["dkms_running_kernel"]
    assert facts["kernels"][K1]["dkms_state"] == "added" and items[0]["subject"] == K1
    assert "dkms install virtnet-failover/1.0.0 -k %s" % K1 in items[0]["remedy"]


def test_kernel_update_without_dkms_build(host):
    # a second kernel installed and made the boot default, no DKMS build for it;
    # its initramfs has the stock module
    host.add_kernel(K2, None, dkms=False)
    host.set_next(K2)
    host.initramfs(K2, SRC_STOCK, "usr/lib/modules/%s/kernel/net/core/failover.ko" % K2)
    items, facts = drift(host)
    assert kinds(items) == ["dkms_next_kernel"]
    assert items[0]["subject"] == K2 and items[0]["actual"] == "added"
    assert facts["next_boot_kernel"] == K2 and facts["initramfs"]["kernel"] == K2


def test_kernel_update_without_headers_names_the_headers_package(host):
    """DKMS cannot build for a new kernel without its headers: the remedy starts with installing them."""
    host.add_kernel(K2, None, dkms=False, headers=False)
    host.set_next(K2)
    host.initramfs(K2, SRC_STOCK, "usr/lib/modules/%s/kernel/net/core/failover.ko" % K2)
    items, facts = drift(host)
    assert kinds(items) == ["dkms_next_kernel"]
    assert items[0]["actual"] == "added; no headers for it"
    assert items[0]["remedy"].startswith("install the headers of %s (linux-headers-%s), which DKMS needs" % (K2, K2))
    assert "dkms install virtnet-failover/1.0.0 -k %s" % K2 in items[0]["remedy"]
    assert facts["kernels"][K2]["has_headers"] is False and facts["kernels"][K1]["has_headers"] is True


def test_kernel_update_with_dkms_but_stale_initramfs(host):
    host.add_kernel(K2, SRC_PATCHED_K2)
    host.set_next(K2)
    host.initramfs(K2, SRC_STOCK, "usr/lib/modules/%s/kernel/net/core/failover.ko" % K2)
    items, _facts = drift(host)
    assert kinds(items) == ["initramfs"]
    assert SRC_PATCHED_K2 in items[0]["expected"] and SRC_STOCK in items[0]["actual"]
    host.initramfs(K2, SRC_PATCHED_K2, "usr/lib/modules/%s/updates/dkms/failover.ko" % K2)
    assert drift(host)[0] == []


def test_initramfs_without_failover_is_fine_and_unreadable_is_drift(host):
    write(host.p("/boot/initrd.img-%s" % K1), gzip.compress(newc([("init", b"#!/bin/sh\n", 0o100755)])))
    assert drift(host)[0] == []
    write(host.p("/boot/initrd.img-%s" % K1), b"garbage that is no archive")
    items, _facts = drift(host)
    assert kinds(items) == ["initramfs"] and items[0]["actual"].startswith("unreadable")
    assert drift(host, check_initramfs=False)[0] == []


def test_initramfs_not_read_when_checks_leave_it_out(host):
    write(host.p("/boot/initrd.img-%s" % K1), b"garbage that is no archive")
    items, facts = drift(host, checks=["slave_name"])
    assert facts["initramfs"] is None and "initramfs" not in kinds(items)
    items, facts = drift(host, checks=["initramfs"])
    assert facts["initramfs"]["error"] and kinds(items) == ["initramfs"]


def test_stock_module_loaded(host):
    host.load(SRC_STOCK, patched=False)
    items, _facts = drift(host)
    assert kinds(items) == ["module_not_patched"]
    assert SRC_STOCK in items[0]["actual"] and "reboot" in items[0]["remedy"]


def test_reboot_pending_patched_but_other_build(host):
    host.load("FFFFFFFFFFFFFFFFFFFFFFF", patched=True)
    items, _facts = drift(host)
    assert kinds(items) == ["module_not_patched"] and "reboot is pending" in items[0]["message"]


def test_module_not_loaded(host):
    import shutil
    shutil.rmtree(host.p("/sys/module/failover"))
    items, _facts = drift(host)
    assert kinds(items) == ["module_not_patched"] and items[0]["actual"] == "not loaded"


def test_builtin_failover(host):
    host.load(SRC_STOCK, patched=False, builtin=True)
    items, _facts = drift(host, modprobe_file="")
    assert kinds(items) == ["module_builtin"]


def test_no_dkms_at_all(host):
    import shutil
    shutil.rmtree(host.p("/var/lib/dkms"))
    os.unlink(host.p("/lib/modules/%s/updates/dkms/failover.ko" % K1))
    host.load(SRC_STOCK, patched=False)
    items, facts = drift(host, dkms_version=None)
    assert facts["dkms_version"] is None
    assert kinds(items) == ["dkms_running_kernel", "module_not_patched"]
    assert items[0]["expected"] == "virtnet-failover installed"


def test_any_version_picks_the_installed_one(host):
    items, facts = drift(host, dkms_version=None)
    assert facts["dkms_version"] == "1.0.0" and items == []  # the role's file of the version found
    items, _facts = drift(host, dkms_version="2.0.0")
    # the role writes its version into the file's header: a rollout of 2.0.0 rewrites the file too
    assert kinds(items) == ["dkms_running_kernel", "modprobe_file"] and items[0]["actual"] == "absent"
    assert "(virtnet-failover 2.0.0, DKMS)" in items[1]["expected"]


def test_slave_names(host):
    renamed = copy.deepcopy(GROUP_OK)
    renamed["primary"].update(name="eth1", name_ok=False)
    items, _facts = drift(host, [renamed])
    assert kinds(items) == ["slave_name"]
    assert items[0]["expected"] == "enp1s0npri" and items[0]["actual"] == "eth1" and items[0]["subject"] == "eth1"
    bad = copy.deepcopy(GROUP_OK)
    bad["standby"].update(expected_name=None, name_ok=None,
                          policy_problem="standby of master enp1s0: name 'enp1s0-standby-x' from ... is too long")
    items, _facts = drift(host, [bad])
    assert kinds(items) == ["slave_name"] and "too long" in items[0]["message"]


def test_order_and_checks_filter(host):
    os.unlink(host.modprobe)
    host.load(SRC_PATCHED, rename_ok="N")
    renamed = copy.deepcopy(GROUP_OK)
    renamed["standby"].update(name="eth0", name_ok=False)
    items, _facts = drift(host, [renamed])
    assert kinds(items) == ["param_value", "modprobe_file", "slave_name"]
    items, _facts = drift(host, [renamed], checks=["slave_name", "param_value"])
    assert kinds(items) == ["param_value", "slave_name"]


def run_module(args, capsys, monkeypatch, host):
    monkeypatch.setattr(fd, "Paths", lambda: host.paths)
    return run_main(fd.main, args, capsys)


def tree_digest(base):
    out = {}
    for root, _dirs, files in os.walk(base):
        for f in files:
            p = os.path.join(root, f)
            st = os.lstat(p)
            out[p] = (st.st_mtime_ns, st.st_size)
    return out


def test_module_main_reports_and_changes_nothing(host, capsys, monkeypatch):
    os.unlink(host.modprobe)
    before = tree_digest(host.base)
    res = run_module({"check_names": False, "slave_rename_ok": True, "dkms_version": "1.0.0",
                      "modprobe_file": host.modprobe, "_ansible_check_mode": False}, capsys, monkeypatch, host)
    assert res["rc"] == 0 and res["changed"] is False
    assert res["drift_kinds"] == ["modprobe_file"] and len(res["drift"]) == 1
    assert res["running_kernel"] == K1 and res["next_boot_kernel"] == K1
    assert tree_digest(host.base) == before


def test_module_rejects_bad_input(host, capsys, monkeypatch):
    res = run_module({"check_names": False, "dkms_name": "../etc"}, capsys, monkeypatch, host)
    assert res["rc"] == 1 and "invalid DKMS module name" in res["msg"] and res["changed"] is False
    res = run_module({"checks": ["nonsense"]}, capsys, monkeypatch, host)
    assert res["rc"] == 1 and "checks" in res["msg"]


def test_module_bad_template_is_a_clear_error(host, capsys, monkeypatch):
    res = run_module({"standby_template": "{mastr}x"}, capsys, monkeypatch, host)
    assert res["rc"] == 1 and "unknown placeholder {mastr}" in res["msg"]


def test_module_on_this_host_names_check(host, capsys, monkeypatch):
    """Real netlink dump of this host's namespace: no failover master here."""
    res = run_module({"modprobe_file": host.modprobe, "slave_rename_ok": True}, capsys, monkeypatch, host)
    assert res["rc"] == 0 and res["groups"] == [] and res["drift"] == []


@pytest.fixture
def prom_dir(tmp_path):
    """node_exporter's textfile directory, beside the fake host tree."""
    directory = tmp_path / "node-exporter"
    directory.mkdir()
    return directory


def prom_samples(path):
    with open(path) as fh:
        return dict(line.rstrip("\n").rsplit(" ", 1) for line in fh if line.strip() and not line.startswith("#"))


def test_textfile_carries_the_metrics_of_the_check(host, prom_dir, capsys, monkeypatch):
    """textfile_dir: the check's own metrics, rewritten every run, never counted as a change."""
    os.unlink(host.modprobe)
    args = {"check_names": False, "slave_rename_ok": True, "dkms_version": "1.0.0", "modprobe_file": host.modprobe,
            "textfile_dir": str(prom_dir)}
    res = run_module(args, capsys, monkeypatch, host)
    path = str(prom_dir / fd.TEXTFILE_NAME)
    assert res["rc"] == 0 and res["changed"] is False and res["textfile"] == path
    assert os.listdir(str(prom_dir)) == [fd.TEXTFILE_NAME]  # no temporary file left
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    samples = prom_samples(path)
    assert samples["virtnet_failover_check_success"] == "1"
    assert samples['virtnet_failover_drift_items{kind="modprobe_file"}'] == "1"
    assert samples['virtnet_failover_drift_items{kind="slave_name"}'] == "0"
    first = samples["virtnet_failover_last_check_timestamp_seconds"]
    res = run_module(args, capsys, monkeypatch, host)
    assert res["changed"] is False and prom_samples(path)["virtnet_failover_last_check_timestamp_seconds"] != first


def test_textfile_of_a_failed_check_says_so(host, prom_dir, capsys, monkeypatch):
    res = run_module({"standby_template": "{mastr}x", "textfile_dir": str(prom_dir)}, capsys, monkeypatch, host)
    assert res["rc"] == 1 and "unknown placeholder {mastr}" in res["msg"]
    assert prom_samples(str(prom_dir / fd.TEXTFILE_NAME))["virtnet_failover_check_success"] == "0"


def test_textfile_of_a_crashed_check_says_so(host, prom_dir, capsys, monkeypatch):
    """An unexpected error still leaves check_success 0 behind, and the error itself propagates."""
    def broken(*_args):
        raise OSError("disk on fire")
    monkeypatch.setattr(fd, "gather_kmod", broken)
    with pytest.raises(OSError, match="disk on fire"):
        run_module({"check_names": False, "textfile_dir": str(prom_dir)}, capsys, monkeypatch, host)
    assert prom_samples(str(prom_dir / fd.TEXTFILE_NAME))["virtnet_failover_check_success"] == "0"


def test_textfile_not_written_in_check_mode(host, prom_dir, capsys, monkeypatch):
    res = run_module({"check_names": False, "modprobe_file": host.modprobe, "textfile_dir": str(prom_dir),
                      "_ansible_check_mode": True}, capsys, monkeypatch, host)
    assert res["rc"] == 0 and res["textfile"] == str(prom_dir / fd.TEXTFILE_NAME)
    assert os.listdir(str(prom_dir)) == []


@pytest.mark.parametrize("directory, message", [
    ("relative/dir", "must be absolute"),
    ("/nonexistent-vnfo-textfile", "directory /nonexistent-vnfo-textfile does not exist: give the directory "
     "node_exporter reads"),
])
def test_textfile_dir_refused_before_the_check(host, capsys, monkeypatch, directory, message):
    monkeypatch.setattr(fd, "gather_kmod", lambda *a: pytest.fail("the host was read after a refused textfile_dir"))
    res = run_module({"check_names": False, "textfile_dir": directory}, capsys, monkeypatch, host)
    assert res["rc"] == 1 and message in res["msg"] and "nothing was checked or written" in res["msg"]
    assert not os.path.exists(directory)


def test_bad_failover_options_anywhere_in_modprobe_config(host):
    write(host.p("/usr/lib/modprobe.d/vendor.conf"), "options failover slave_rename_ok=bogus\n")
    write(host.p("/run/modprobe.d/tuning.conf"), "options failover live_rename=notifier\n")
    # shadowed by /etc/modprobe.d/local.conf: modprobe never reads it
    write(host.p("/lib/modprobe.d/local.conf"), "options failover typo=1\n")
    write(host.p("/etc/modprobe.d/local.conf"), "# nothing for failover\n")
    items, _facts = drift(host, [GROUP_OK])
    assert kinds(items) == ["modprobe_bad_option", "modprobe_bad_option"]
    assert [i["subject"] for i in items] == [host.p("/run/modprobe.d/tuning.conf") + ":1",
                                             host.p("/usr/lib/modprobe.d/vendor.conf") + ":1"]
    assert items[1]["actual"] == "slave_rename_ok=bogus" and items[1]["expected"] == "slave_rename_ok=1 or slave_rename_ok=0"
    items, facts = drift(host, [GROUP_OK], checks=["modprobe_file"])
    assert items == [] and facts["modprobe_options"] is None


def test_require_healthy_fails_when_the_groups_were_not_read(host, capsys, monkeypatch):
    args = {"check_names": False, "slave_rename_ok": True, "modprobe_file": host.modprobe, "require_healthy": True}
    res = run_module(args, capsys, monkeypatch, host)
    assert res["rc"] == 1 and res["msg"] == ("health check failed: the failover groups were not read (check_names: "
                                             "false or a checks list without slave_name)")
    assert res["drift"] == [] and res["converged"] is False  # the result keeps every return value
    res = run_module(dict(args, require_healthy=False), capsys, monkeypatch, host)
    assert res["rc"] == 0 and res["converged"] is False


def test_require_healthy_prefixes_a_failed_read(host, capsys, monkeypatch):
    res = run_module({"dkms_name": "../etc", "require_healthy": True}, capsys, monkeypatch, host)
    assert res["rc"] == 1 and res["msg"].startswith("health check failed: invalid DKMS module name")


def fake_groups(monkeypatch, groups):
    """Stands in for the netlink read: this host has no net_failover master (tests/integration reads real
    bridge groups through playbooks/tasks/check_host.yml)."""
    monkeypatch.setattr(fd, "Scan", lambda *_args: None)
    monkeypatch.setattr(fd, "groups_report", lambda _scan, _policy: copy.deepcopy(groups))


def test_converged_and_require_healthy_with_fake_groups(host, capsys, monkeypatch):
    args = {"slave_rename_ok": True, "modprobe_file": host.modprobe, "require_healthy": True}
    fake_groups(monkeypatch, [GROUP_OK])
    res = run_module(args, capsys, monkeypatch, host)
    assert res["rc"] == 0 and res["drift"] == [] and res["health"]["ok"] and res["converged"] is True
    renamed = copy.deepcopy(GROUP_OK)
    renamed["primary"].update(name="eth1", name_ok=False)
    renamed["names_ok"] = False
    fake_groups(monkeypatch, [renamed])
    res = run_module(args, capsys, monkeypatch, host)
    assert res["rc"] == 1 and res["msg"] == "health check failed: slaves of enp1s0 are not named per policy"
    assert res["drift_kinds"] == ["slave_name"] and res["converged"] is False
    # drift alone (healthy groups) is not converged, and not a failed health check
    fake_groups(monkeypatch, [GROUP_OK])
    os.unlink(host.modprobe)
    res = run_module(args, capsys, monkeypatch, host)
    assert res["rc"] == 0 and res["drift_kinds"] == ["modprobe_file"] and res["converged"] is False
