# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kmod_plan run in-process against this host's real /sys, /lib/modules and
/boot (read-only), with real commands (printf) standing in for the package
query.  The verdicts themselves are tested in test_kmod_verdicts.py."""
from __future__ import annotations

import os

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import dkms_source_tree, kmod_os
from ansible_collections.virtnet.failover.plugins.modules import kmod_plan
from module_run import run_main

RUNNING = os.uname().release
# os-release ID -> (family, initramfs command), written out by hand for the hosts these tests run on
OS_FAMILIES = {
    "debian": ("Debian", ["update-initramfs", "-u", "-k"]),
    "ubuntu": ("Debian", ["update-initramfs", "-u", "-k"]),
    "fedora": ("RedHat", ["dracut", "-f", "--kver"]),
    "rocky": ("RedHat", ["dracut", "-f", "--kver"]),
    "almalinux": ("RedHat", ["dracut", "-f", "--kver"]),
}


def host_os_id():
    """ID= of this host's os-release, read with plain string operations."""
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("ID="):
                        return line[3:].strip().strip('"').strip("'")
    return None


def test_preflight_plan_names_targets_packages_and_refuses_unmanaged_dkms(tmp_path, capsys):
    res = run_main(kmod_plan.main, {
        "phase": "preflight", "dkms_version": "1.0", "modprobe_conf": str(tmp_path / "vnfo.conf"),
        "package_query": ["printf", "python3-pyroute2\\tinstalled\\n"], "base_packages": ["dkms", "python3-pyroute2"],
        "manage_packages": False, "initramfs": False, "secure_boot_check": False}, capsys)
    assert res["rc"] == 0 and not res["changed"], res
    assert res["targets"] == [RUNNING] and res["initramfs_targets"] == []
    assert res["missing_packages"][0] == "dkms" and "python3-pyroute2" not in res["missing_packages"]
    kinds = [r["kind"] for r in res["refusals"]]
    assert "package_missing" in kinds and all(r["phase"] == "preflight" for r in res["refusals"])
    assert res["modprobe_content"].endswith("options failover slave_rename_ok=1\n")
    assert res["message"].startswith("present virtnet-failover 1.0 for %s; loaded failover: " % RUNNING)
    # this host's OS family from its os-release (read here without the module's parser, the family by hand);
    # the explicit package options override the profile's
    family, initramfs_argv = OS_FAMILIES[host_os_id()]
    assert res["os"]["family"] == family and res["os"]["initramfs_argv"] == initramfs_argv
    assert res["os"]["base_packages"] == ["dkms", "python3-pyroute2"]


@pytest.mark.parametrize("os_release,family,initramfs_argv,headers", [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
     "Debian", ["update-initramfs", "-u", "-k"], "linux-headers-{kernel}"),
    ('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\n',
     "Debian", ["update-initramfs", "-u", "-k"], "linux-headers-{kernel}"),
    ('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
     "RedHat", ["dracut", "-f", "--kver"], "kernel-devel-{kernel}"),
    ('NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
     "Debian", ["update-initramfs", "-u", "-k"], "linux-headers-{kernel}"),
], ids=["debian12", "ubuntu", "rocky-id-like", "mint-id-like"])
def test_preflight_os_profile_from_os_release(tmp_path, capsys, monkeypatch, os_release, family, initramfs_argv,
                                              headers):
    path = tmp_path / "os-release"
    path.write_text(os_release)
    read = kmod_os.read_os_release
    monkeypatch.setattr(kmod_os, "read_os_release", lambda paths=None: read((str(path),)))
    res = run_main(kmod_plan.main, {
        "phase": "preflight", "dkms_version": "1.0", "modprobe_conf": str(tmp_path / "vnfo.conf"),
        "package_query": ["printf", ""], "manage_packages": True, "initramfs": False, "secure_boot_check": False},
        capsys)
    assert res["rc"] == 0, res
    assert (res["os"]["family"], res["os"]["initramfs_argv"], res["os"]["headers_package"]) == (
        family, initramfs_argv, headers)


def test_preflight_with_managed_packages_does_not_refuse_missing_ones(tmp_path, capsys):
    res = run_main(kmod_plan.main, {
        "phase": "preflight", "dkms_version": "1.0", "modprobe_conf": str(tmp_path / "vnfo.conf"),
        "package_query": ["printf", ""], "manage_packages": True, "initramfs": False, "secure_boot_check": False}, capsys)
    assert res["rc"] == 0
    assert [r["kind"] for r in res["refusals"] if r["kind"] in ("package_missing", "headers_missing")] == []
    assert res["missing_packages"][0] == "dkms"


def test_activation_and_verify_of_an_absent_module_on_this_host(tmp_path, capsys):
    args = {"state": "absent", "dkms_name": "vnfo-plan-none", "modprobe_conf": str(tmp_path / "vnfo.conf"),
            "initramfs": False}
    res = run_main(kmod_plan.main, dict(args, phase="activation", targets=[RUNNING]), capsys)
    assert res["rc"] == 0
    assert res["activation"] == {"runtime_param": False, "reboot_required": False, "reboot_reason": ""}
    res = run_main(kmod_plan.main, dict(args, phase="verify"), capsys)
    assert res["rc"] == 0 and res["verify"]["ok"] and res["message"] == "failover absent and active", res


def test_verify_present_names_the_missing_modprobe_file(tmp_path, capsys):
    res = run_main(kmod_plan.main, {"phase": "verify", "dkms_name": "vnfo-plan-none", "dkms_version": "1.0",
                                    "modprobe_conf": str(tmp_path / "vnfo.conf"), "initramfs": False}, capsys)
    assert res["rc"] == 0 and not res["verify"]["ok"]
    assert "modprobe_file" in [i["kind"] for i in res["verify"]["items"]]
    assert ("%s is missing: the module loads with its built-in default at the next boot" % (tmp_path / "vnfo.conf")
            in res["verify"]["problems"])
    assert res["message"].startswith(("BROKEN: ", "PENDING REBOOT"))


def test_bad_input_fails_with_what_to_do(capsys):
    res = run_main(kmod_plan.main, {"phase": "preflight", "headers_package": "kernel-devel"}, capsys)
    assert res["rc"] == 1 and "has no {kernel}" in res["msg"]
    res = run_main(kmod_plan.main, {"phase": "activation", "targets": ["a/b"]}, capsys)
    assert res["rc"] == 1 and res["msg"] == "invalid kernel name 'a/b': it must be a single name without '/' or '..'"


def test_preflight_answers_what_a_run_that_changes_nothing_needs(tmp_path, capsys):
    conf = tmp_path / "vnfo.conf"
    args = {"dkms_name": "vnfo-plan-none", "dkms_version": "1.0", "modprobe_conf": str(conf), "initramfs": False}
    pre = dict(args, phase="preflight", manage_packages=True, secure_boot_check=False, package_query=["printf", ""])
    res = run_main(kmod_plan.main, pre, capsys)
    assert res["rc"] == 0 and res["modprobe_current"] is False
    # nothing in the DKMS tree: add, build and install, read from the tree without running dkms
    assert res["dkms_actions"] == ["dkms add -m vnfo-plan-none -v 1.0", "dkms build -m vnfo-plan-none -v 1.0 -k %s"
                                   % RUNNING, "dkms install -m vnfo-plan-none -v 1.0 -k %s" % RUNNING]
    # the same verdicts as the activation and verify phases give on the same host
    for phase in ("activation", "verify"):
        other = run_main(kmod_plan.main, dict(args, phase=phase), capsys)
        assert res[phase] == other[phase], phase
    assert res["verify_message"] == other["message"] and not res["verify"]["ok"]
    conf.write_text(res["modprobe_content"])
    conf.chmod(0o644)
    assert run_main(kmod_plan.main, pre, capsys)["modprobe_current"] is (os.getuid() == 0)


def test_preflight_compares_the_source_tree_as_dkms_source_would(tmp_path, capsys):
    src = tmp_path / "virtnet-failover-1.0"
    files = {"dkms.conf": 'PACKAGE_NAME="virtnet-failover"\nPACKAGE_VERSION="1.0"\n', "failover.c": "int x;\n"}
    pre = {"phase": "preflight", "dkms_name": "vnfo-plan-none", "dkms_version": "1.0", "initramfs": False,
           "modprobe_conf": str(tmp_path / "vnfo.conf"), "manage_packages": True, "secure_boot_check": False,
           "package_query": ["printf", ""], "source_dir": str(src), "source_files": files}
    res = run_main(kmod_plan.main, pre, capsys)
    assert res["rc"] == 0 and [(d["what"], d["name"]) for d in res["source_differs"]] == [("missing", ".")]
    assert res["dkms_stale_builds"] == []  # nothing built
    dkms_source_tree.deploy(str(src), files, 0, 0)  # as the role deploys it (the unit tests run as root)
    assert run_main(kmod_plan.main, pre, capsys)["source_differs"] == []
    changed = dict(files, **{"failover.c": "int y;\n"})
    res = run_main(kmod_plan.main, dict(pre, source_files=changed), capsys)
    assert [(d["what"], d["name"]) for d in res["source_differs"]] == [("changed", "failover.c")]
    # bad input says what to do and reads nothing
    res = run_main(kmod_plan.main, dict(pre, source_files={"a/b": "x"}), capsys)
    assert res["rc"] == 1 and res["msg"].startswith("source_files: file name 'a/b' is not a plain file name")
