# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""probe.sh against synthetic header trees.

Real headers of every Debian kernel series are compiled against by
tests/kmod/compile-check.sh and tests/kmod/matrix.py; kernels that Debian
does not ship (a 5.14 with the flag removal backported, as RHEL 9 may carry,
a 4.18 without the flag, a built-in failover) exist here only as the few
header lines the probe reads.  The net_failover.ko files are real ELF
objects compiled by gcc, importing the symbols each case needs.
"""
from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parents[2] / "roles" / "kmod" / "files" / "virtnet-failover" / "probe.sh"
KREL = "9.9.9-vnftest"

FLAG_DEFINE = "#define IFF_LIVE_RENAME_OK\t\tIFF_LIVE_RENAME_OK\n"
NO_ADDRCONF_ENUM = "enum netdev_priv_flags {\n\tIFF_NO_ADDRCONF\t\t\t= BIT_ULL(30),\n};\n"
LOCK_OPS = "static inline void netdev_lock_ops(struct net_device *dev)\n{\n}\n"


def version_code(version: str) -> int:
    major, minor = (int(x) for x in version.split(".")[:2])
    return (major << 16) + (minor << 8)


def make_tree(tmp: Path, version: str = "6.12", netdevice: str = NO_ADDRCONF_ENUM, failover_config: str = "m",
              lock_h: str | None = None) -> tuple[Path, Path]:
    src, obj = tmp / "src", tmp / "obj"
    (src / "include/linux").mkdir(parents=True)
    (src / "include/net").mkdir(parents=True)
    (obj / "include/generated/uapi/linux").mkdir(parents=True)
    (src / "include/linux/netdevice.h").write_text("/* synthetic */\n" + netdevice)
    (src / "include/net/failover.h").write_text("struct failover {\n\tnetdevice_tracker\tdev_tracker;\n};\n")
    if lock_h is not None:
        (src / "include/net/netdev_lock.h").write_text(lock_h)
    config = {"m": "#define CONFIG_FAILOVER_MODULE 1\n", "y": "#define CONFIG_FAILOVER 1\n", "": ""}[failover_config]
    (obj / "include/generated/autoconf.h").write_text(config)
    (obj / "include/generated/uapi/linux/version.h").write_text(
        f"#define LINUX_VERSION_CODE {version_code(version)}\n")
    return src, obj


def make_net_failover(modules_root: Path, calls: str, compress: str = "") -> Path:
    """A real ELF object importing CALLS, installed as KREL's net_failover.ko[.COMPRESS]."""
    kdir = modules_root / KREL / "kernel/drivers/net"
    kdir.mkdir(parents=True)
    c = kdir / "nf.c"
    c.write_text(f"extern int {calls}(void *dev);\nint nf_slave_register(void *dev) {{ return {calls}(dev); }}\n")
    ko = kdir / "net_failover.ko"
    subprocess.run(["gcc", "-c", "-o", str(ko), str(c)], check=True)
    c.unlink()
    if compress == "gz":
        out = ko.with_name("net_failover.ko.gz")
        out.write_bytes(gzip.compress(ko.read_bytes()))
        ko.unlink()
        return out
    if compress in ("xz", "zst"):
        tool = {"xz": ["xz", "-q"], "zst": ["zstd", "-q", "--rm"]}[compress]
        subprocess.run([*tool, str(ko)], check=True)
        return ko.with_name(f"net_failover.ko.{compress}")
    return ko


def run_probe(tmp: Path, src: Path, obj: Path, force: str = "", ops_lock: str = "",
              modules_root: Path | None = None) -> tuple[int, str, str]:
    dkms_conf = tmp / "dkms.conf"
    dkms_conf.write_text('PACKAGE_VERSION="1.2.3"\n')
    out = tmp / "vnf_config.h"
    env = {"PATH": "/usr/bin:/bin", "VNF_MODULES_ROOT": str(modules_root or tmp / "no-modules")}
    res = subprocess.run(["sh", str(PROBE), str(src), str(obj), str(out), str(dkms_conf), force, KREL, ops_lock],
                         capture_output=True, text=True, env=env, check=False)
    return res.returncode, out.read_text() if out.exists() else "", res.stderr


def mech(config: str) -> str:
    for line in config.splitlines():
        if line.startswith("#define VNF_MECH_NAME"):
            return line.split('"')[1]
    return ""


@pytest.mark.parametrize(
    ("version", "netdevice", "expected"),
    [
        ("6.1", FLAG_DEFINE, "flag"),               # Debian 12: the flag exists
        ("5.14", NO_ADDRCONF_ENUM, "notifier"),      # flag removal backported, with IFF_NO_ADDRCONF
        ("5.14", "/* neither */\n", "notifier"),     # flag removal backported alone: 5.1+ without the flag
        ("4.18", "/* neither */\n", "unsupported"),  # before the flag existed
        ("4.18", FLAG_DEFINE, "flag"),               # the flag backported to an old kernel
        ("7.2", NO_ADDRCONF_ENUM, "notifier"),
    ],
)
def test_mechanism_is_decided_by_features(tmp_path, version, netdevice, expected):
    src, obj = make_tree(tmp_path, version=version, netdevice=netdevice)
    rc, config, err = run_probe(tmp_path, src, obj)
    assert rc == 0, err
    assert mech(config) == expected
    assert '#define VNF_VERSION "1.2.3"' in config
    assert "VNF_EXISTING_SLAVE_OPS_LOCK" not in config


@pytest.mark.parametrize(("failover_config", "message"), [
    ("y", "this kernel has failover built in (CONFIG_FAILOVER=y): a module cannot replace it; "
          "only kernels with CONFIG_FAILOVER=m are supported"),
    ("", "this kernel is built without CONFIG_FAILOVER: nothing to replace"),
])
def test_kernels_without_a_failover_module_are_refused(tmp_path, failover_config, message):
    src, obj = make_tree(tmp_path, failover_config=failover_config)
    rc, config, err = run_probe(tmp_path, src, obj)
    assert rc == 1
    assert err.strip() == f"virtnet-failover: {message}"
    assert config == ""


@pytest.mark.parametrize("compress", ["", "xz", "zst", "gz"])
def test_ops_lock_taken_when_net_failover_imports_netif_open(tmp_path, compress):
    src, obj = make_tree(tmp_path, version="7.2", lock_h=LOCK_OPS)
    modules = tmp_path / "modules"
    make_net_failover(modules, "netif_open", compress)
    rc, config, err = run_probe(tmp_path, src, obj, modules_root=modules)
    assert rc == 0, err
    assert "#define VNF_EXISTING_SLAVE_OPS_LOCK 1" in config
    assert "#define VNF_HAVE_NETDEV_LOCK_OPS 1" in config
    assert "#define VNF_HAVE_NETDEV_LOCK_H 1" in config
    assert "existing-slave ops lock 1" in err


def test_ops_lock_not_taken_when_net_failover_still_calls_dev_open(tmp_path):
    # 6.15 - 6.17 without b84c5632c7b3: net_failover takes the lock itself.
    src, obj = make_tree(tmp_path, version="6.16", lock_h=LOCK_OPS)
    modules = tmp_path / "modules"
    make_net_failover(modules, "dev_open", "xz")
    rc, config, err = run_probe(tmp_path, src, obj, modules_root=modules)
    assert rc == 0, err
    assert "VNF_EXISTING_SLAVE_OPS_LOCK" not in config
    assert "#define VNF_HAVE_NETDEV_LOCK_OPS 1" in config


def test_ops_lock_declared_in_netdevice_h_counts_too(tmp_path):
    src, obj = make_tree(tmp_path, version="6.15", netdevice=NO_ADDRCONF_ENUM + LOCK_OPS)
    modules = tmp_path / "modules"
    make_net_failover(modules, "netif_open")
    rc, config, err = run_probe(tmp_path, src, obj, modules_root=modules)
    assert rc == 0, err
    assert "#define VNF_EXISTING_SLAVE_OPS_LOCK 1" in config
    assert "VNF_HAVE_NETDEV_LOCK_H" not in config


def test_ops_lock_kernel_without_its_net_failover_is_refused(tmp_path):
    src, obj = make_tree(tmp_path, version="7.2", lock_h=LOCK_OPS)
    rc, config, err = run_probe(tmp_path, src, obj)
    assert rc == 1
    assert err.strip() == (
        f"virtnet-failover: kernel {KREL} has the netdev ops lock, and whether failover may take it depends on "
        f"its own net_failover.ko, which is not installed under {tmp_path}/no-modules/{KREL}/kernel/drivers/net: "
        f"install the kernel image package of {KREL} (or build with VNF_OPS_LOCK=1 if its net_failover imports "
        "netif_open, 0 if not)")
    assert config == ""


@pytest.mark.parametrize(("ops_lock", "expect_lock"), [("1", True), ("0", False)])
def test_ops_lock_override(tmp_path, ops_lock, expect_lock):
    src, obj = make_tree(tmp_path, version="7.2", lock_h=LOCK_OPS)
    rc, config, err = run_probe(tmp_path, src, obj, ops_lock=ops_lock)
    assert rc == 0, err
    assert ("#define VNF_EXISTING_SLAVE_OPS_LOCK 1" in config) is expect_lock


@pytest.mark.parametrize(("lock_h", "ops_lock", "force", "message"), [
    (None, "1", "", "VNF_OPS_LOCK=1 needs netdev_lock_ops(), which these headers lack"),
    (LOCK_OPS, "yes", "", "VNF_OPS_LOCK must be 0 or 1, not 'yes'"),
    (None, "", "flag", "VNF_FORCE_MECH=flag needs IFF_LIVE_RENAME_OK, which these headers lack"),
    (None, "", "bogus", "VNF_FORCE_MECH must be flag, notifier or unsupported, not 'bogus'"),
])
def test_bad_build_variables_are_refused(tmp_path, lock_h, ops_lock, force, message):
    src, obj = make_tree(tmp_path, version="7.2", lock_h=lock_h)
    rc, config, err = run_probe(tmp_path, src, obj, force=force, ops_lock=ops_lock)
    assert rc == 1
    assert err.strip() == f"virtnet-failover: {message}"
    assert config == ""


def test_tools_the_cases_need_are_present():
    missing = [t for t in ("gcc", "nm", "xz", "zstd") if not shutil.which(t)]
    assert not missing, f"missing {missing}: 'make setup' installs them (tests/host-packages.txt)"
