# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw rtnetlink message fixtures, built byte by byte like the kernel does.

``lab_topology()`` mirrors the Debian 12 lab VM (vm-lab-notes.md): master
enp1s0 (no rtnl kind, ethtool driver net_failover), standby enp1s0nsby
(virtio_net, phys_port_name sby), primary enp2s0 (e1000e, PCI 0000:02:00.0),
a management NIC enp3s0 and lo.
"""

from __future__ import annotations

import struct

RTM_NEWLINK = 16
NLMSG_DONE = 3
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000


def rta(atype, payload):
    data = struct.pack("=HH", 4 + len(payload), atype) + payload
    return data + b"\0" * ((4 - len(data) % 4) % 4)


def rta_str(atype, text):
    return rta(atype, text.encode() + b"\0")


def rta_u32(atype, value):
    return rta(atype, struct.pack("=I", value))


def rta_u8(atype, value):
    return rta(atype, struct.pack("=B", value))


def nlmsg(mtype, body, seq=7, pid=4242, flags=2):
    return struct.pack("=IHHII", 16 + len(body), mtype, flags, seq, pid) + body


def newlink(index, name, flags=IFF_UP | IFF_LOWER_UP, mac=None, master=None, operstate=6,
            ppn=None, kind=None, slave_kind=None, alias=None, altnames=(), filler=True,
            nested_flag=True, seq=7, pid=4242):
    attrs = rta_str(3, name)
    if filler:  # the kind of attributes the kernel sends that we skip
        attrs += rta_u32(13, 1000) + rta_u32(4, 1500) + rta_u8(33, 1)
        attrs += rta(7, b"\x11" * 96) + rta(23, b"\x22" * 200)
    attrs += rta_u8(16, operstate)
    if master is not None:
        attrs += rta_u32(10, master)
    if alias is not None:
        attrs += rta_str(20, alias)
    if mac is not None:
        attrs += rta(1, bytes(int(x, 16) for x in mac.split(":")))
    if ppn is not None:
        attrs += rta_str(38, ppn)
    if kind is not None or slave_kind is not None:
        info = b""
        if kind is not None:
            info += rta_str(1, kind) + rta(2 | (NLA_F_NESTED if nested_flag else 0), rta_u32(1, 5))
        if slave_kind is not None:
            info += rta_str(4, slave_kind) + rta(5 | NLA_F_NESTED, rta_u32(1, 3))
        attrs += rta(18 | (NLA_F_NESTED if nested_flag else 0), info)
    if filler:
        attrs += rta(26 | NLA_F_NESTED, b"\x33" * 448)
    if altnames:
        attrs += rta(52 | NLA_F_NESTED, b"".join(rta_str(53, a) for a in altnames))
    body = struct.pack("=BxHiII", 0, 1, index, flags, 0) + attrs
    return nlmsg(RTM_NEWLINK, body, seq=seq, pid=pid)


def done(seq=7, pid=4242):
    return nlmsg(NLMSG_DONE, struct.pack("=i", 0), seq=seq, pid=pid)


def error(code, seq=7, pid=4242):
    return nlmsg(NLMSG_ERROR, struct.pack("=i", -code) + b"\0" * 16, seq=seq, pid=pid)


MAC = "52:54:00:12:34:56"
LAB_DRIVERS = {
    "lo": (None, None),
    "enp1s0": ("net_failover", "0000:01:00.0"),
    "enp1s0nsby": ("virtio_net", "0000:01:00.0"),
    "enp2s0": ("e1000e", "0000:02:00.0"),
    "enp3s0": ("virtio_net", "0000:03:00.0"),
}


def lab_topology(standby_name="enp1s0nsby", primary_name="enp2s0"):
    """The lab VM's link dump as the kernel sends it (one buffer)."""
    return b"".join([
        newlink(1, "lo", flags=0x49, mac="00:00:00:00:00:00", operstate=0),
        newlink(2, "enp1s0", mac=MAC),
        newlink(3, standby_name, mac=MAC, master=2, ppn="sby"),
        newlink(4, primary_name, mac=MAC, master=2),
        newlink(5, "enp3s0", mac="52:54:00:aa:bb:cc"),
        done(),
    ])


class FakeEthtool:
    """Stands in for failover_netlink.Ethtool; records which links were asked."""

    def __init__(self, drivers=None):
        self.drivers = dict(LAB_DRIVERS if drivers is None else drivers)
        self.asked = []

    def drvinfo(self, name):
        self.asked.append(name)
        return self.drivers.get(name, (None, None))

    def driver(self, name):
        return self.drvinfo(name)[0]
