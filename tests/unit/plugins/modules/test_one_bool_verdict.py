# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One verdict for every spelling of slave_rename_ok in the kmod role's modprobe.d file.

The same file is judged by three callers with the inputs each one passes:
the drift playbook (failover_drift), the rollout fast path (failover_drift
with the rollout's options) and the kmod role's verify (kmod_plan phase
verify, whose problems the role asserts empty).  All three judge the file
the role owns byte for byte (modprobe_policy.managed_file_mismatch): only
the role's own spelling (1 or 0) matches, every other one is a hand edit
the role overwrites, even when the kernel reads it the same.  What the
kernel makes of the value (kstrtobool) still decides modprobe_bad_option.
The role's plan against the same edits: test_modprobe_agreement.py.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.virtnet.failover.plugins.modules import failover_drift as fd
from ansible_collections.virtnet.failover.plugins.modules import kmod_info, kmod_plan
from module_run import run_main
from test_failover_drift import Host, params, role_file

# spelling -> the kernel's value (None: -EINVAL, the module ignores it); written out by hand
SPELLINGS = [
    ('1', True), ('0', False), ('y', True), ('n', False), ('Y', True), ('N', False),
    ('yes', True), ('no', False), ('on', True), ('off', False), ('true', True), ('false', False),
    ('TRUE', True), ('Off', False),
    ('2', None), ('bogus', None), ('', None), ('oops', None), ('-1', None),
]


def drift_playbook_verdict(host, wanted):
    # playbooks/drift.yml: modprobe_file and slave_rename_ok, no modprobe_content
    p = params(host, slave_rename_ok=wanted, check_initramfs=True)
    items = fd.evaluate(p, fd.gather_kmod(p, host.paths), [])
    return [i for i in items if i["kind"] == "modprobe_file"] == [], items


def fast_path_verdict(host, wanted):
    # playbooks/rollout.yml fast path: the same module, the rollout's options, check mode
    p = params(host, slave_rename_ok=wanted, check_initramfs=True, checks=None)
    items = fd.evaluate(p, fd.gather_kmod(p, host.paths), [])
    return [i for i in items if i["kind"] == "modprobe_file"] == []


def role_verify_verdict(host, wanted, capsys):
    # roles/kmod/tasks/verify_read.yml: kmod_plan phase verify; verify_assert.yml asserts it found no problem
    res = run_main(kmod_plan.main, {"phase": "verify", "modprobe_conf": host.modprobe, "slave_rename_ok": wanted,
                                    "dkms_name": "virtnet-failover", "dkms_version": "1.0.0", "initramfs": False},
                   capsys)
    assert res["rc"] == 0, res
    return [i for i in res["verify"]["items"] if i["kind"] == "modprobe_file"] == []


@pytest.mark.parametrize("wanted", [True, False])
@pytest.mark.parametrize("spelling,kernel_value", SPELLINGS)
def test_every_spelling_one_verdict(tmp_path, capsys, spelling, kernel_value, wanted):
    host = Host(tmp_path)
    with open(host.modprobe, "w") as fh:
        fh.write(role_file(wanted).replace("slave_rename_ok=%d\n" % wanted, "slave_rename_ok=%s\n" % spelling))
    expected_ok = spelling == str(int(wanted))  # the role's own spelling; yes/on/Y... are hand edits
    drift_ok, items = drift_playbook_verdict(host, wanted)
    assert drift_ok is expected_ok
    assert fast_path_verdict(host, wanted) is expected_ok
    assert role_verify_verdict(host, wanted, capsys) is expected_ok
    # a value the kernel refuses is also named where it is written
    bad = [i for i in items if i["kind"] == "modprobe_bad_option"]
    assert [i["subject"] for i in bad] == ([] if kernel_value is not None else ["%s:4" % host.modprobe])  # line 4: the options line


def test_role_verify_without_wanted_value_judges_nothing(tmp_path, capsys):
    host = Host(tmp_path)
    os.unlink(host.modprobe)
    res = run_main(kmod_info.main, {"modprobe_conf": host.modprobe, "kernels": [os.uname().release]}, capsys)
    assert res["rc"] == 0 and res["modprobe_conf"]["drift"] == []
    res = run_main(kmod_info.main, {"modprobe_conf": host.modprobe, "slave_rename_ok": True,
                                    "kernels": [os.uname().release]}, capsys)
    assert [i["actual"] for i in res["modprobe_conf"]["drift"]] == ["missing"]
