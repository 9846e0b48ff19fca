# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import errno
import os
import shutil
import struct
import subprocess
import sys

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn
from ansible_collections.virtnet.failover.plugins.module_utils import ethtool_drvinfo
from ansible_collections.virtnet.failover.plugins.module_utils.failover_common import Scan

from failover_nlfixtures import (
    FakeEthtool,
    LAB_DRIVERS,
    MAC,
    done,
    error,
    lab_topology,
    newlink,
    nlmsg,
    rta,
    rta_str,
)


def parse(data, seq=None, port=None):
    out = []
    finished = fn.parse_messages(data, len(data), out, seq, port)
    return out, finished


# ---------------------------------------------------------------- decoding

def test_lab_dump_decodes_every_link():
    links, finished = parse(lab_topology())
    assert finished
    assert [lk.name for lk in links] == ["lo", "enp1s0", "enp1s0nsby", "enp2s0", "enp3s0"]
    master, standby, primary = links[1], links[2], links[3]
    assert master.kind is None and master.master is None and master.mac == MAC
    assert master.up and master.operstate_name == "UP"
    assert standby.master == 2 and standby.phys_port_name == "sby"
    assert primary.master == 2 and primary.phys_port_name is None
    assert links[0].operstate_name == "UNKNOWN" and links[0].up


def test_linkinfo_kind_and_slave_kind_with_and_without_nested_flag():
    for nested in (True, False):
        data = newlink(7, "br0", kind="bridge", nested_flag=nested) + \
            newlink(8, "vp", kind="veth", slave_kind="bridge", master=7, nested_flag=nested) + done()
        links, _finished = parse(data)
        assert (links[0].kind, links[0].slave_kind) == ("bridge", None)
        assert (links[1].kind, links[1].slave_kind) == ("veth", "bridge")


def test_alias_altnames_and_empty_alias():
    data = newlink(3, "eth1", alias="standby", altnames=("enp0s1f0", "sby0")) + newlink(4, "eth2", alias="") + done()
    links, _finished = parse(data)
    assert links[0].alias == "standby"
    assert links[0].altnames == ("enp0s1f0", "sby0")
    assert links[1].alias is None and links[1].altnames == ()


def test_master_zero_means_no_master_and_down_flags():
    data = newlink(3, "eth1", master=0, flags=0, operstate=2) + done()
    (link,), _finished = parse(data)
    assert link.master is None and not link.up and link.operstate_name == "DOWN"


def test_unknown_operstate_number_is_kept():
    (link,), _finished = parse(newlink(3, "x", operstate=42) + done())
    assert link.operstate_name == "42"


def test_name_without_nul_and_unknown_attributes():
    body = struct.pack("=BxHiII", 0, 1, 9, 1, 0) + rta(3, b"abc") + rta(999, b"\x01\x02\x03") + rta(0x3FF0, b"")
    (link,), finished = parse(nlmsg(16, body) + done())
    assert link.name == "abc" and finished is True


def test_notifications_of_other_sequence_or_port_are_skipped():
    data = newlink(50, "noise", seq=0, pid=0) + newlink(51, "other", seq=8) + newlink(2, "enp1s0") + done()
    links, finished = parse(data, seq=7, port=4242)
    assert finished and [lk.name for lk in links] == ["enp1s0"]


def test_multipart_without_done_is_not_finished():
    links, finished = parse(newlink(2, "enp1s0"))
    assert not finished and len(links) == 1


def test_netlink_error_raises_with_code():
    with pytest.raises(fn.NetlinkError) as exc:
        parse(error(16))
    assert exc.value.code == 16 and "busy" in str(exc.value).lower()


def test_interrupted_dump_raises_eintr_for_a_retry():
    data = newlink(2, "enp1s0") + nlmsg(3, struct.pack("=i", 0), flags=2 | 0x10)
    with pytest.raises(fn.NetlinkError) as exc:
        parse(data)
    assert exc.value.code == 4 and "interrupted" in str(exc.value)


def test_interrupt_mark_on_a_link_message_of_an_earlier_chunk_raises_eintr_at_done():
    # the kernel flags the message it was filling when the links changed: here a link message
    # of the first chunk; the dump is only known torn at its end, in the next chunk
    first = bytearray(newlink(2, "enp1s0"))
    struct.pack_into("=H", first, 6, struct.unpack_from("=H", first, 6)[0] | fn.NLM_F_DUMP_INTR)
    second = newlink(3, "enp2s0") + nlmsg(3, struct.pack("=i", 0), flags=2)
    marks, out = fn.DumpMarks(), []
    assert fn.parse_messages(bytes(first), len(first), out, None, None, marks) is False
    with pytest.raises(fn.NetlinkError) as exc:
        fn.parse_messages(second, len(second), out, None, None, marks)
    assert exc.value.code == errno.EINTR and [link.name for link in out] == ["enp1s0", "enp2s0"]


def test_unmarked_chunks_end_the_dump_without_error():
    marks, out = fn.DumpMarks(), []
    first = newlink(2, "enp1s0")
    second = newlink(3, "enp2s0") + nlmsg(3, struct.pack("=i", 0), flags=2)
    assert fn.parse_messages(first, len(first), out, None, None, marks) is False
    assert fn.parse_messages(second, len(second), out, None, None, marks) is True
    assert not marks.interrupted and [link.name for link in out] == ["enp1s0", "enp2s0"]


class FakeNetlinkSocket:
    """Mock (a real kernel cannot be made to tear a dump on demand): answers each RTM_GETLINK dump request
    with the next canned dump, as chunks with the request's sequence number and this socket's port."""

    PORT = 4242

    def __init__(self, dumps):
        self.dumps = list(dumps)  # one list of chunk builders (seq -> bytes) per request
        self.requests = 0
        self.chunks = []

    def sendto(self, data, addr):
        seq = struct.unpack_from("=I", data, 8)[0]
        self.chunks = [build(seq) for build in self.dumps[self.requests]]
        self.requests += 1

    def getsockname(self):
        return (self.PORT, 0)

    def recv_into(self, view):
        chunk = self.chunks.pop(0)
        view[:len(chunk)] = chunk
        return len(chunk)


def fake_link_socket(dumps):
    sock = fn.LinkSocket.__new__(fn.LinkSocket)
    sock._ipr, sock._seq, sock._buf = None, 100, bytearray(1 << 16)
    sock._sock = FakeNetlinkSocket(dumps)
    return sock


def torn_dump(name):
    """A dump whose first link message carries NLM_F_DUMP_INTR, ended by NLMSG_DONE in a second chunk."""
    def first(seq):
        return newlink(2, name, seq=seq, pid=FakeNetlinkSocket.PORT)

    def second(seq):
        return nlmsg(3, struct.pack("=i", 0), flags=2 | fn.NLM_F_DUMP_INTR, seq=seq, pid=FakeNetlinkSocket.PORT)
    return [first, second]


def whole_dump(*names):
    def chunk(seq):
        links = b"".join(newlink(i + 2, n, seq=seq, pid=FakeNetlinkSocket.PORT) for i, n in enumerate(names))
        return links + nlmsg(3, struct.pack("=i", 0), flags=2, seq=seq, pid=FakeNetlinkSocket.PORT)
    return [chunk]


def test_dump_links_dumps_again_after_torn_dumps_fake_socket():
    sock = fake_link_socket([torn_dump("old0"), torn_dump("old1"), whole_dump("enp1s0", "enp2s0")])
    assert [link.name for link in sock.dump_links()] == ["enp1s0", "enp2s0"]  # nothing of the torn dumps
    assert sock._sock.requests == 3


def test_dump_links_gives_up_after_every_attempt_was_torn_fake_socket():
    sock = fake_link_socket([torn_dump("x%d" % i) for i in range(fn.DUMP_ATTEMPTS)] + [whole_dump("late")])
    with pytest.raises(fn.FailoverError, match="interrupted %d times" % fn.DUMP_ATTEMPTS):
        sock.dump_links()
    assert sock._sock.requests == fn.DUMP_ATTEMPTS


def test_dump_links_does_not_retry_other_netlink_errors_fake_socket():
    sock = fake_link_socket([[lambda seq: error(errno.EPERM, seq=seq, pid=FakeNetlinkSocket.PORT)],
                             whole_dump("enp1s0")])
    with pytest.raises(fn.NetlinkError) as exc:
        sock.dump_links()
    assert exc.value.code == errno.EPERM and sock._sock.requests == 1


def test_ack_error_zero_ends_without_error():
    assert parse(error(0)) == ([], True)


def test_truncated_message_is_an_error():
    data = newlink(2, "enp1s0")
    with pytest.raises(fn.FailoverError, match="malformed"):
        fn.parse_messages(data, len(data) - 8, [], None, None)


def test_attribute_running_past_message_end_is_an_error():
    body = struct.pack("=BxHiII", 0, 1, 9, 1, 0) + struct.pack("=HH", 64, 3) + b"abc\0"
    with pytest.raises(fn.FailoverError, match="truncated"):
        parse(nlmsg(16, body))


def test_zero_length_attribute_stops_walk():
    body = struct.pack("=BxHiII", 0, 1, 9, 1, 0) + rta_str(3, "ok") + struct.pack("=HH", 0, 1) + b"\0" * 8
    (link,), _finished = parse(nlmsg(16, body) + done())
    assert link.name == "ok"


def test_getlink_request_asks_to_skip_stats():
    req = fn.build_getlink_dump(99)
    length, mtype, flags, seq, _pid = struct.unpack_from("=IHHII", req)
    assert (length, mtype, seq) == (len(req), 18, 99)
    assert flags == fn.NLM_F_REQUEST | fn.NLM_F_DUMP
    alen, atype, mask = struct.unpack_from("=HHI", req, 32)
    assert (alen, atype, mask) == (8, 29, fn.RTEXT_FILTER_SKIP_STATS)


# ------------------------------------------------------------ group detection

def test_lab_group_detection():
    links, _finished = parse(lab_topology())
    eth = FakeEthtool()
    (group,) = fn.find_groups(links, eth)
    assert group.kind == "net_failover" and group.master.name == "enp1s0"
    assert group.standby.name == "enp1s0nsby" and group.primary.name == "enp2s0"
    assert group.drivers == {3: "virtio_net", 4: "e1000e"}
    assert group.bus_info[4] == "0000:02:00.0"
    # ethtool only for the master and its slaves, never lo or enp3s0
    assert sorted(set(eth.asked)) == ["enp1s0", "enp1s0nsby", "enp2s0"]


def test_lab_group_found_regardless_of_slave_names_and_order():
    data = b"".join([newlink(4, "eth9", master=2), newlink(3, "eth0", master=2, ppn="sby"),
                     newlink(2, "enp1s0"), done()])
    links, _finished = parse(data)
    drivers = {"enp1s0": ("net_failover", None), "eth0": ("virtio_net", None), "eth9": ("e1000e", None)}
    (group,) = fn.find_groups(links, FakeEthtool(drivers))
    assert (group.standby.name, group.primary.name) == ("eth0", "eth9")


def test_master_with_other_driver_is_not_a_group():
    links, _finished = parse(lab_topology())
    drivers = dict(LAB_DRIVERS, enp1s0=("virtio_net", None))
    assert fn.find_groups(links, FakeEthtool(drivers)) == []


def test_standby_by_driver_when_phys_port_name_missing():
    data = newlink(2, "m") + newlink(3, "a", master=2) + newlink(4, "b", master=2) + done()
    links, _finished = parse(data)
    drivers = {"m": ("net_failover", None), "a": ("e1000e", None), "b": ("virtio_net", None)}
    (group,) = fn.find_groups(links, FakeEthtool(drivers))
    assert (group.standby.name, group.primary.name) == ("b", "a")


def test_bridge_stand_in_uses_alias_and_needs_master_kind():
    data = b"".join([
        newlink(10, "br0", kind="bridge"),
        newlink(11, "p0", master=10, kind="veth", slave_kind="bridge"),
        newlink(12, "s0", master=10, kind="veth", slave_kind="bridge", alias="standby"),
        newlink(13, "x0", master=10, kind="veth", slave_kind="bridge"),
        newlink(14, "q0", master=10, kind="veth", slave_kind="bridge", alias="Primary"),
        done()])
    links, _finished = parse(data)
    drivers = {n: ("veth", None) for n in ("p0", "s0", "x0", "q0")}
    eth = FakeEthtool(drivers)
    assert fn.find_groups(links, eth) == []
    assert eth.asked == []  # the bridge is known from its rtnl kind: no ioctl
    (group,) = fn.find_groups(links, eth, ("bridge",))
    assert group.kind == "bridge"
    assert (group.standby.name, group.primary.name) == ("s0", "q0")
    assert [lk.name for lk in group.others] == ["p0", "x0"]


def test_bridge_without_aliases_primary_is_lowest_ifindex():
    data = newlink(10, "br0", kind="bridge") + newlink(12, "b", master=10) + newlink(11, "a", master=10) + done()
    links, _finished = parse(data)
    (group,) = fn.find_groups(links, FakeEthtool({}), ("bridge",))
    assert group.standby is None and group.primary.name == "a" and [lk.name for lk in group.others] == ["b"]


def test_bond_and_team_kinds_and_driver_fallback():
    data = b"".join([newlink(20, "bond0", kind="bond"), newlink(21, "e0", master=20),
                     newlink(30, "team0", kind="team"), newlink(31, "e1", master=30),
                     newlink(40, "vrf0", kind="vrf"), newlink(41, "e2", master=40),
                     newlink(50, "odd0"), newlink(51, "e3", master=50), done()])
    links, _finished = parse(data)
    eth = FakeEthtool({"odd0": ("bonding", None), "vrf0": ("bridge", None)})
    kinds = {g.master.name: g.kind for g in fn.find_groups(links, eth, fn.MASTER_KINDS)}
    assert kinds == {"bond0": "bonding", "team0": "team", "odd0": "bonding"}
    assert "vrf0" not in eth.asked


def test_slave_whose_master_is_missing_is_ignored():
    links, _finished = parse(newlink(3, "orphan", master=99) + done())
    assert fn.find_groups(links, FakeEthtool({})) == []


# ------------------------------------------------------------ ethtool / netns

def test_ethtool_on_loopback_has_no_driver():
    eth = ethtool_drvinfo.Ethtool()
    try:
        assert eth.drvinfo("lo") == (None, None)
        assert eth.drvinfo("no-such-if0") == (None, None)
    finally:
        eth.close()


def test_ethtool_matches_the_ethtool_command_on_this_host():
    if not shutil.which("ethtool"):
        pytest.skip("the ethtool command is not installed")
    eth = ethtool_drvinfo.Ethtool()
    compared = 0
    try:
        for name in sorted(os.listdir("/sys/class/net")):
            proc = subprocess.run(["ethtool", "-i", name], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                assert eth.drvinfo(name)[0] is None
                continue
            fields = dict(line.split(": ", 1) for line in proc.stdout.splitlines() if ": " in line)
            assert eth.drvinfo(name) == (fields.get("driver") or None, fields.get("bus-info") or None), name
            compared += 1
    finally:
        eth.close()
    if not compared:
        pytest.skip("no interface with an ethtool driver on this host")


@pytest.mark.parametrize("text,ok", [("0000:02:00.0", True), ("virtio0", False), ("", False),
                                     ("usb-0000:00:14.0-1", False)])
def test_pci_address_from_bus_info(text, ok):
    assert (fn.pci_address(None, text, in_netns=True) == text) is ok


def test_pci_address_not_from_sysfs_inside_netns():
    assert fn.pci_address("lo", None, in_netns=True) is None
    assert fn.pci_address("lo", None, in_netns=False) is None  # lo has no device link


@pytest.mark.parametrize("name", ["", ".", "..", "a/b"])
def test_netns_invalid_names(name):
    with pytest.raises(fn.FailoverError, match="not a valid namespace name"):
        fn.netns_path(name)


def test_netns_missing_is_a_clear_error_and_creates_nothing():
    name = "vnfo-missing-%d" % os.getpid()
    with pytest.raises(fn.FailoverError, match="does not exist.*never creates"):
        fn.netns_path(name)
    assert not os.path.exists("/run/netns/" + name)


# ---------------------------------------------------------- kernel module

def _tree(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path / "sys"), str(tmp_path / "lib/modules")


def test_kernel_module_absent(tmp_path):
    sys_root, mods = _tree(tmp_path, {"sys/module/other/initstate": "live\n"})
    state = fn.kernel_module_state(sys_root, mods, release="6.1.0-1")
    assert state == {"loaded": False, "builtin": False, "patched": False, "version": None,
                     "srcversion": None, "slave_rename_ok": None, "live_rename": None}


def test_kernel_module_in_tree(tmp_path):
    sys_root, mods = _tree(tmp_path, {"sys/module/failover/initstate": "live\n",
                                      "sys/module/failover/srcversion": "ABC123\n"})
    state = fn.kernel_module_state(sys_root, mods, release="6.1.0-1")
    assert state["loaded"] and not state["builtin"] and not state["patched"]
    assert state["srcversion"] == "ABC123" and state["slave_rename_ok"] is None


@pytest.mark.parametrize("raw,value", [("Y", True), ("N", False), ("1", True), ("0", False)])
def test_kernel_module_patched(tmp_path, raw, value):
    sys_root, mods = _tree(tmp_path, {
        "sys/module/failover/initstate": "live\n",
        "sys/module/failover/version": "1.0.0\n",
        "sys/module/failover/parameters/slave_rename_ok": raw + "\n",
        "sys/module/failover/parameters/live_rename": "notifier\n"})
    state = fn.kernel_module_state(sys_root, mods, release="6.12.0-1")
    assert state["patched"] and state["slave_rename_ok"] is value
    assert state["live_rename"] == "notifier" and state["version"] == "1.0.0"


def test_kernel_module_builtin_by_modules_builtin(tmp_path):
    sys_root, mods = _tree(tmp_path, {"lib/modules/6.8.0-1/modules.builtin": "kernel/net/core/failover.ko\n",
                                      "sys/module/.keep": ""})
    state = fn.kernel_module_state(sys_root, mods, release="6.8.0-1")
    assert state["builtin"] and state["loaded"] and not state["patched"]


def test_kernel_module_builtin_by_missing_initstate(tmp_path):
    sys_root, mods = _tree(tmp_path, {"sys/module/failover/parameters/.keep": ""})
    state = fn.kernel_module_state(sys_root, mods, release="x")
    assert state["builtin"] and state["loaded"]


def test_kernel_module_state_on_this_host_has_contract_keys():
    assert set(fn.kernel_module_state()) == {"loaded", "builtin", "patched", "version", "srcversion",
                                             "slave_rename_ok", "live_rename"}


# ---------------------------------------------------------- lean pyroute2 import

LOAD = r"""
import sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "preloaded":
    import pyroute2
from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn
parts = fn.load_pyroute2()
from pyroute2.iproute.linux import IPRoute
assert parts["IPRoute"] is IPRoute
full = hasattr(sys.modules["pyroute2"], "IPRoute")
heavy = "pyroute2.ndb.main" in sys.modules
print("full" if full else "lean", "heavy" if heavy else "light")
"""


@pytest.mark.parametrize("mode,expected", [("fresh", "lean light"), ("preloaded", "full heavy")])
def test_load_pyroute2_is_lean_unless_already_imported(mode, expected):
    root = os.path.dirname(os.path.dirname(os.path.dirname(fn.__file__)))
    coll = os.path.dirname(os.path.dirname(os.path.dirname(root)))
    proc = subprocess.run([sys.executable, "-c", LOAD, coll, mode], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == expected.split()


@pytest.mark.parametrize("name", ["", ".", "..", "a/b"])
def test_scan_refuses_an_invalid_netns_name_before_opening_anything(name):
    with pytest.raises(fn.FailoverError) as err:
        Scan(netns=name)
    assert str(err.value) == (
        "netns %r is not a valid namespace name: give the name shown by 'ip netns list'" % (name,))
