# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rename executor against a fake kernel that can say EBUSY.

A >= 6.2 kernel (this test host) renames UP interfaces freely, so the EBUSY
path of older kernels / the patched module's protection is simulated here;
the real renames are covered by tests/integration.
"""

from __future__ import annotations

import errno

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils.failover_rename import (
    RenameFailed,
    ebusy_explanation,
    execute,
)


class KernelError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class FakeKernel:
    """ifindex -> [name, up]; refuses renames of UP links when protect=True."""

    def __init__(self, links, protect=True, fail_on=None):
        self.links = {i: [n, up] for i, (n, up) in links.items()}
        self.protect = protect
        self.fail_on = fail_on
        self.log = []

    def rename(self, index, name):
        if name == self.fail_on:
            raise KernelError(errno.EEXIST)
        if any(n == name for i, (n, _u) in self.links.items() if i != index):
            raise KernelError(errno.EEXIST)
        if self.protect and self.links[index][1]:
            raise KernelError(errno.EBUSY)
        self.log.append(("rename", index, name))
        self.links[index][0] = name

    def set_up(self, index, up):
        self.log.append(("up" if up else "down", index))
        self.links[index][1] = up

    def names(self):
        return {i: n for i, (n, _u) in self.links.items()}


INFO = {3: ("enp1s0", "standby"), 4: ("enp1s0", "primary")}
STEPS = [(3, "eth1", "enp1s0nsby"), (4, "eth2", "enp1s0npri")]


def test_down_slaves_are_renamed():
    kernel = FakeKernel({3: ("eth1", False), 4: ("eth2", False)})
    done = execute(kernel, STEPS, INFO, error_class=KernelError)
    assert kernel.names() == {3: "enp1s0nsby", 4: "enp1s0npri"}
    assert [d[3] for d in done] == [False, False]


def test_ebusy_on_up_slave_undoes_and_explains_protection():
    kernel = FakeKernel({3: ("eth1", False), 4: ("eth2", True)})
    kstate = {"patched": True, "slave_rename_ok": False, "live_rename": "notifier"}
    with pytest.raises(RenameFailed) as exc:
        execute(kernel, STEPS, INFO, kstate=kstate, error_class=KernelError)
    msg = str(exc.value)
    assert "cannot rename UP slave eth2 -> enp1s0npri (primary of enp1s0)" in msg
    assert "slave_rename_ok is N" in msg and "down_rename_up: true" in msg
    assert "were undone, so nothing changed" in msg
    assert kernel.names() == {3: "eth1", 4: "eth2"}


def test_ebusy_first_step_says_nothing_renamed():
    kernel = FakeKernel({3: ("eth1", True), 4: ("eth2", True)})
    with pytest.raises(RenameFailed, match="Nothing was renamed"):
        execute(kernel, STEPS, INFO, kstate={}, error_class=KernelError)
    assert kernel.log == []


def test_down_rename_up_bounces_only_busy_slaves():
    kernel = FakeKernel({3: ("eth1", True), 4: ("eth2", False)})
    done = execute(kernel, STEPS, INFO, down_rename_up=True, error_class=KernelError)
    assert kernel.names() == {3: "enp1s0nsby", 4: "enp1s0npri"}
    assert kernel.links[3][1] is True  # back up
    assert kernel.log[:3] == [("down", 3), ("rename", 3, "enp1s0nsby"), ("up", 3)]
    assert [d[3] for d in done] == [True, False]


def test_other_error_undoes_bounced_rename_too():
    kernel = FakeKernel({3: ("eth1", True), 4: ("eth2", False)}, fail_on="enp1s0npri")
    with pytest.raises(RenameFailed) as exc:
        execute(kernel, STEPS, INFO, down_rename_up=True, error_class=KernelError)
    assert "File exists" in str(exc.value) and "undone" in str(exc.value)
    assert kernel.names() == {3: "eth1", 4: "eth2"} and kernel.links[3][1] is True


def test_failed_undo_is_reported():
    kernel = FakeKernel({3: ("eth1", False), 4: ("eth2", False)}, protect=False)

    def rename(index, name, orig=kernel.rename):
        if name in ("enp1s0npri", "eth1") and index in (4, 3) and (index, name) != (3, "enp1s0nsby"):
            raise KernelError(errno.EPERM)
        orig(index, name)
    kernel.rename = rename
    with pytest.raises(RenameFailed, match="Undoing the 1 rename.*could not rename enp1s0nsby back to eth1"):
        execute(kernel, STEPS, INFO, error_class=KernelError)


@pytest.mark.parametrize("kstate,cause", [
    ({"patched": True, "slave_rename_ok": False}, "rename protection is on"),
    ({"patched": True, "slave_rename_ok": True, "live_rename": "unsupported"}, "before 5.1"),
    ({"patched": False}, "either rename protection is on"),
    (None, "either rename protection is on"),
])
def test_ebusy_explanations(kstate, cause):
    text, fix = ebusy_explanation(kstate)
    assert cause in text and "down_rename_up" in fix
