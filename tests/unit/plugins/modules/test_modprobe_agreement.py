# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift and the kmod role agree on the modprobe.d file, over a table of hand edits.

Issue #33: on a converged host, ``slave_rename_ok=1`` hand-edited to
``slave_rename_ok=yes`` in the role's file (the kernel reads Y either way)
left drift clean while a forced rollout rewrote the file and rebuilt the
initramfs.  Now one verdict (modprobe_policy.managed_file_mismatch) decides
whether the file is the one the role writes; drift reads it (kind
``modprobe_file``) and so does the role's plan (kmod_plan preflight
``modprobe_current``: the role's copy task runs when it is false).

Each row edits a converged fake host (test_failover_drift.Host) by hand, then
asks drift with the inputs the playbooks give it (playbooks/tasks/check_host.yml)
and the role's plan with the inputs the role gives it (roles/kmod/tasks/preflight.yml),
and asserts:

- drift reports ``modprobe_file`` exactly when the role would rewrite the file;
- drift reports ``boot_param`` exactly when the role's preflight refuses the host
  (another source overrides the role's value at boot; the role does not own it);
- a clean drift report means the role neither rewrites nor refuses; the only
  rows where drift is not clean and the role does nothing are bad options in a
  file the role does not own (``modprobe_bad_option``): the kernel ignores them,
  the remedy is the operator's (the file is named);
- the role's verify (kmod_plan phase verify) names the file exactly when drift does;
- after the role's write (the plan's content, root:root 0644) drift has no
  ``modprobe_file`` item and the plan finds the file current.

Each row also states the outcome written out by hand, so the test fails when
both sides change together in the wrong direction.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import modprobe_policy as mp
from ansible_collections.virtnet.failover.plugins.modules import failover_drift as fd
from ansible_collections.virtnet.failover.plugins.modules import kmod_plan
from module_run import run_main
from test_failover_drift import Host, role_file, write

ROLE = role_file(True)  # what the role writes for the policy slave_rename_ok: true, DKMS 1.0.0


def edit(text):
    """An edit that replaces the role's file with ``text``."""
    def apply(host):
        write(host.modprobe, text)
    return apply


def value(spelling):
    return edit(ROLE.replace("slave_rename_ok=1\n", "slave_rename_ok=%s\n" % spelling))


def other_file(path, text):
    """A second modprobe.d file (``path`` under the fake root); the role's file stays as written."""
    def apply(host):
        write(host.p(path), text)
    return apply


def chmod(mode):
    def apply(host):
        os.chmod(host.modprobe, mode)
    return apply


def chown(uid, gid):
    def apply(host):
        os.chown(host.modprobe, uid, gid)
    return apply


def delete(host):
    os.unlink(host.modprobe)


def symlink(host):
    target = host.p("/etc/virtnet-failover.conf.real")
    write(target, ROLE)
    os.unlink(host.modprobe)
    os.symlink(target, host.modprobe)


def crlf(host):
    with open(host.modprobe, "wb") as fh:
        fh.write(ROLE.replace("\n", "\r\n").encode())


# (name, hand edit, drift kinds written out by hand, the role: clean / rewrite / refuse / operator)
#   clean     drift clean; the role changes nothing and refuses nothing
#   rewrite   drift reports modprobe_file; the role's plan rewrites the file
#   refuse    drift reports boot_param; the role's preflight refuses the host
#   operator  drift reports a bad option in a file the role does not own; the role leaves it alone
TABLE = [
    ("as the role writes it", lambda host: None, [], "clean"),
    # spellings of the same value (the kernel reads Y) and of the other one (N)
    ("1 -> yes", value("yes"), ["modprobe_file"], "rewrite"),
    ("1 -> y", value("y"), ["modprobe_file"], "rewrite"),
    ("1 -> Y", value("Y"), ["modprobe_file"], "rewrite"),
    ("1 -> on", value("on"), ["modprobe_file"], "rewrite"),
    ("1 -> true", value("true"), ["modprobe_file"], "rewrite"),
    ("1 -> bare name", edit(ROLE.replace("slave_rename_ok=1\n", "slave_rename_ok\n")), ["modprobe_file"], "rewrite"),
    ("1 -> 0", value("0"), ["modprobe_file"], "rewrite"),
    ("1 -> no", value("no"), ["modprobe_file"], "rewrite"),
    ("1 -> off", value("off"), ["modprobe_file"], "rewrite"),
    ("1 -> N", value("N"), ["modprobe_file"], "rewrite"),
    ("1 -> maybe (the kernel refuses it)", value("maybe"), ["modprobe_file", "modprobe_bad_option"], "rewrite"),
    # comments
    ("comment appended", edit(ROLE + "# changed by ops, ticket 42\n"), ["modprobe_file"], "rewrite"),
    ("comment after the value", value("1 # ops"), ["modprobe_file", "modprobe_bad_option"], "rewrite"),
    ("header comment removed", edit(ROLE.split("\n", 1)[1]), ["modprobe_file"], "rewrite"),
    ("only the options line", edit("options failover slave_rename_ok=1\n"), ["modprobe_file"], "rewrite"),
    ("header of another DKMS version", edit(role_file(True, version="0.9.0")), ["modprobe_file"], "rewrite"),
    # spacing and line ends
    ("two spaces", edit(ROLE.replace("options failover", "options  failover")), ["modprobe_file"], "rewrite"),
    ("tabs", edit(ROLE.replace("options failover slave", "options\tfailover\tslave")), ["modprobe_file"], "rewrite"),
    ("trailing blanks", edit(ROLE.replace("=1\n", "=1 \t\n")), ["modprobe_file"], "rewrite"),
    ("leading blank", edit(ROLE.replace("options failover", " options failover")), ["modprobe_file"], "rewrite"),
    ("final newline missing", edit(ROLE.rstrip("\n")), ["modprobe_file"], "rewrite"),
    ("blank line appended", edit(ROLE + "\n"), ["modprobe_file"], "rewrite"),
    ("CRLF line ends", crlf, ["modprobe_file"], "rewrite"),
    # other options in the role's file
    ("options of another module appended", edit(ROLE + "options virtio_net napi_tx=1\n"), ["modprobe_file"],
     "rewrite"),
    ("options line duplicated", edit(ROLE + "options failover slave_rename_ok=1\n"), ["modprobe_file"], "rewrite"),
    ("live_rename added", value("1 live_rename=flag"), ["modprobe_file", "modprobe_bad_option"], "rewrite"),
    # the file itself
    ("emptied", edit(""), ["modprobe_file"], "rewrite"),
    ("deleted", delete, ["modprobe_file"], "rewrite"),
    ("mode 0600", chmod(0o600), ["modprobe_file"], "rewrite"),
    ("mode 0664", chmod(0o664), ["modprobe_file"], "rewrite"),
    ("owner 1000:1000", chown(1000, 1000), ["modprobe_file"], "rewrite"),
    ("a symbolic link to the same content", symlink, ["modprobe_file"], "rewrite"),
    # a second file modprobe reads (file name order; the last value wins; the role's file is untouched)
    ("zz-local.conf: yes (read after, the same value)",
     other_file("/etc/modprobe.d/zz-local.conf", "options failover slave_rename_ok=yes\n"), [], "clean"),
    ("zz-local.conf: 1 (read after, the same value)",
     other_file("/etc/modprobe.d/zz-local.conf", "options failover slave_rename_ok=1\n"), [], "clean"),
    ("aa-local.conf: 0 (read before, the role's file wins)",
     other_file("/etc/modprobe.d/aa-local.conf", "options failover slave_rename_ok=0\n"), [], "clean"),
    ("zz-local.conf: 0 (read after, it wins)",
     other_file("/etc/modprobe.d/zz-local.conf", "options failover slave_rename_ok=0\n"), ["boot_param"], "refuse"),
    ("zz-local.conf: off (read after, it wins)",
     other_file("/etc/modprobe.d/zz-local.conf", "options failover slave_rename_ok=off\n"), ["boot_param"], "refuse"),
    ("/run/modprobe.d/zz.conf: n (read after, it wins)",
     other_file("/run/modprobe.d/zz.conf", "options failover slave_rename_ok=n\n"), ["boot_param"], "refuse"),
    ("/usr/lib/modprobe.d/virtnet-failover.conf: 0 (hidden by the role's file of the same name)",
     other_file("/usr/lib/modprobe.d/virtnet-failover.conf", "options failover slave_rename_ok=0\n"), [], "clean"),
    ("zz-local.conf: options of another module",
     other_file("/etc/modprobe.d/zz-local.conf", "options virtio_net napi_tx=1\n"), [], "clean"),
    ("zz-local.conf: maybe (the kernel ignores it)",
     other_file("/etc/modprobe.d/zz-local.conf", "options failover slave_rename_ok=maybe\n"),
     ["modprobe_bad_option"], "operator"),
    ("zz-local.conf: an unknown parameter",
     other_file("/etc/modprobe.d/zz-local.conf", "options failover colour=blue\n"), ["modprobe_bad_option"],
     "operator"),
]


def drift_kinds(host):
    """failover_drift as playbooks/tasks/check_host.yml calls it (the drift playbook and the rollout's fast path)."""
    p = {"dkms_name": "virtnet-failover", "dkms_version": "1.0.0", "module": "failover", "slave_rename_ok": True,
         "modprobe_file": host.modprobe, "modprobe_content": None, "check_initramfs": True, "check_names": False,
         "checks": None}
    return fd.evaluate(p, fd.gather_kmod(p, host.paths), [])


def role_plan(host, capsys, monkeypatch):
    """kmod_plan preflight as roles/kmod/tasks/preflight.yml calls it, modprobe.d and the kernel command line read
    from the fake host (the rest is this machine's, read-only)."""
    monkeypatch.setattr(kmod_plan, "boot_options",
                        lambda module: mp.boot_options(module, host.paths.modprobe_dirs, host.paths.cmdline))
    res = run_main(kmod_plan.main, {
        "phase": "preflight", "dkms_name": "virtnet-failover", "dkms_version": "1.0.0", "module": "failover",
        "modprobe_conf": host.modprobe, "slave_rename_ok": True, "initramfs": False, "manage_packages": True,
        "secure_boot_check": False, "package_query": ["printf", ""]}, capsys)
    assert res["rc"] == 0, res
    return res


def role_verify_names_the_file(host, capsys):
    """kmod_plan verify as roles/kmod/tasks/verify_read.yml calls it."""
    res = run_main(kmod_plan.main, {
        "phase": "verify", "dkms_name": "virtnet-failover", "dkms_version": "1.0.0", "module": "failover",
        "modprobe_conf": host.modprobe, "slave_rename_ok": True, "initramfs": False}, capsys)
    assert res["rc"] == 0, res
    return [i for i in res["verify"]["items"] if i["kind"] == "modprobe_file"] != []


@pytest.mark.skipif(os.getuid() != 0, reason="the role's file is root:root; the unit tests run as root")
@pytest.mark.parametrize("name, hand_edit, want_kinds, want_role", TABLE, ids=[row[0] for row in TABLE])
def test_drift_and_the_role_plan_agree(tmp_path, capsys, monkeypatch, name, hand_edit, want_kinds, want_role):
    host = Host(tmp_path)
    hand_edit(host)
    items = drift_kinds(host)
    kinds = sorted({i["kind"] for i in items}, key=fd.KINDS.index)
    plan = role_plan(host, capsys, monkeypatch)
    assert plan["modprobe_content"] == ROLE  # the role writes what drift compares with
    assert plan["modprobe_file_attributes"] == {"owner": 0, "group": 0, "mode": "0644"}  # and with these
    rewrites = not plan["modprobe_current"]
    refuses = [r for r in plan["refusals"] if r["kind"] == "boot_param"]

    # what the row says, by hand
    assert kinds == want_kinds, (name, items)
    assert (rewrites, bool(refuses)) == {"clean": (False, False), "rewrite": (True, False),
                                         "refuse": (False, True), "operator": (False, False)}[want_role], name
    # the agreement, whatever the row
    assert ("modprobe_file" in kinds) is rewrites, name
    assert ("boot_param" in kinds) is bool(refuses), name
    if not kinds:
        assert not rewrites and not refuses, name  # a clean drift report: a converge changes nothing
    if kinds and not rewrites and not refuses:
        # drift names a file the role does not own, whose bad option the kernel ignores
        assert kinds == ["modprobe_bad_option"] and all(i["subject"].split(":")[0] != host.modprobe for i in items)
    assert role_verify_names_the_file(host, capsys) is rewrites, name
    for item in items:
        if item["kind"] == "modprobe_file":
            assert item["subject"] == host.modprobe and "rollout" in item["remedy"]
            assert item["expected"] in (ROLE, "present")

    if rewrites:  # the role's copy task: the plan's content, root:root 0644, a link replaced by a file
        if os.path.islink(host.modprobe):
            os.unlink(host.modprobe)
        write(host.modprobe, plan["modprobe_content"])
        attrs = plan["modprobe_file_attributes"]
        os.chown(host.modprobe, attrs["owner"], attrs["group"])
        os.chmod(host.modprobe, int(attrs["mode"], 8))
        assert "modprobe_file" not in {i["kind"] for i in drift_kinds(host)}, name
        assert role_plan(host, capsys, monkeypatch)["modprobe_current"] is True, name
