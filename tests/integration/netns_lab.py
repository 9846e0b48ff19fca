# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in failover groups in a network namespace (root only).

A Linux bridge plays the failover master, two veth ports play the slaves:
the standby port carries the ifalias ``standby`` (veth cannot set
phys_port_name), the primary port the ifalias ``primary``.  Each veth's peer
stays in the namespace, unenslaved.  Used by the integration tests and the
benchmarks::

    with NetnsLab() as lab:                       # unique name, deleted on exit
        g = lab.add_group("enp1s0", "eth1", "eth2")  # master, standby, primary
        lab.add_groups(100, ports=5)              # bulk: 100 bridges x 5 veth ports
        lab.fill(1101)                            # top up to exactly 1,101 links
        lab.names()                               # link names in the namespace
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field

IP = "ip"


@dataclass
class Group:
    master: str
    standby: str | None
    primary: str | None
    peers: list = field(default_factory=list)


def netns_exists(name):
    return os.path.exists(os.path.join("/run/netns", name))


def unique_name(prefix="vnfo"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


class NetnsLab:
    """One named network namespace holding stand-in failover groups."""

    def __init__(self, name=None, prefix="vnfo"):
        self.name = name or unique_name(prefix)
        self.groups = []
        self._peer = 0
        self.created = False

    # -- lifecycle
    def create(self):
        if netns_exists(self.name):
            raise RuntimeError("namespace %s already exists" % self.name)
        subprocess.run([IP, "netns", "add", self.name], check=True)
        self.created = True
        self.ip("link", "set", "lo", "up")
        return self

    def delete(self):
        if netns_exists(self.name):
            subprocess.run([IP, "netns", "del", self.name], check=False)
        self.created = False

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()

    # -- commands
    def ip(self, *args, check=True):
        return subprocess.run([IP, "-n", self.name, *args], check=check,
                              capture_output=True, text=True)

    def batch(self, lines):
        """Run many `ip` commands in the namespace in one process."""
        if not lines:
            return
        subprocess.run([IP, "-n", self.name, "-batch", "-"], input="\n".join(lines) + "\n",
                       check=True, capture_output=True, text=True)

    def _next_peer(self):
        self._peer += 1
        return "vp%d" % self._peer

    # -- topology
    def group_commands(self, master, standby, primary, up=True, extra_ports=()):
        """`ip -batch` lines for one stand-in group (bridge + veth ports)."""
        lines = ["link add %s type bridge" % master]
        peers = []
        for port, alias in ((standby, "standby"), (primary, "primary")) + tuple((p, None) for p in extra_ports):
            if port is None:
                continue
            peer = self._next_peer()
            peers.append(peer)
            lines.append("link add %s type veth peer name %s" % (port, peer))
            if alias:
                lines.append("link set %s alias %s" % (port, alias))
            lines.append("link set %s master %s" % (port, master))
            if up:
                lines.append("link set %s up" % port)
                lines.append("link set %s up" % peer)
        if up:
            lines.append("link set %s up" % master)
        return lines, peers

    def add_group(self, master, standby="auto", primary="auto", up=True, extra_ports=()):
        """One bridge master with a standby and a primary veth port.

        ``standby``/``primary`` default to ``<master>sb`` / ``<master>pr``
        (names that do *not* follow the default policy); None leaves it out.
        """
        standby = "%ssb" % master if standby == "auto" else standby
        primary = "%spr" % master if primary == "auto" else primary
        lines, peers = self.group_commands(master, standby, primary, up, extra_ports)
        self.batch(lines)
        group = Group(master, standby, primary, peers)
        self.groups.append(group)
        return group

    def add_groups(self, count, ports=2, prefix="br", up=True):
        """``count`` bridges named <prefix>N with ``ports`` veth ports each.

        Links added: count * (1 + 2 * ports).  The first two ports of each
        bridge are aliased standby/primary, so every bridge is a stand-in group.
        """
        lines = []
        for n in range(count):
            master = "%s%d" % (prefix, n)
            standby = "%ss%d" % (prefix, n) if ports >= 1 else None
            primary = "%sp%d" % (prefix, n) if ports >= 2 else None
            extra = ["%sx%d_%d" % (prefix, n, k) for k in range(max(0, ports - 2))]
            glines, peers = self.group_commands(master, standby, primary, up, extra)
            lines += glines
            self.groups.append(Group(master, standby, primary, peers))
        for start in range(0, len(lines), 2000):
            self.batch(lines[start:start + 2000])

    def fill(self, total, ports=5, prefix="br"):
        """Add bridges with ``ports`` veth pairs (plus filler veth pairs) until
        the namespace holds exactly ``total`` links, lo included.  Returns total.
        """
        have = len(self.links())
        per_group = 1 + 2 * ports
        groups, rest = divmod(total - have, per_group)
        if groups < 0:
            raise ValueError("namespace already has %d links (> %d)" % (have, total))
        if groups:
            self.add_groups(groups, ports=ports, prefix=prefix)
        lines = ["link add %sfa%d type veth peer name %sfb%d" % (prefix, n, prefix, n) for n in range(rest // 2)]
        if rest % 2:
            lines.append("link add %slone type bridge" % prefix)
        self.batch(lines)
        have = len(self.links())
        if have != total:
            raise RuntimeError("built %d links instead of %d" % (have, total))
        return have

    # -- inspection
    def links(self):
        out = self.ip("-j", "-d", "link", "show").stdout
        return json.loads(out)

    def names(self):
        return sorted(link["ifname"] for link in self.links())

    def link(self, name):
        for link in self.links():
            if link["ifname"] == name:
                return link
        return None

    def is_up(self, name):
        link = self.link(name)
        return bool(link) and "UP" in link.get("flags", [])

    def set_up(self, name, up=True):
        self.ip("link", "set", name, "up" if up else "down")


def created_lab(prefix):
    """Generator for a fixture: a NetnsLab created for one test, deleted after it even when it failed."""
    lab = NetnsLab(prefix=prefix)
    lab.create()
    try:
        yield lab
    finally:
        lab.delete()
    assert not netns_exists(lab.name), "namespace %s left behind" % lab.name
