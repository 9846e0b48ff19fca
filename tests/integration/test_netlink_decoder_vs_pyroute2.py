# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's link-dump decoder (failover_netlink.parse_messages) agrees with pyroute2's.

Each test builds links in a namespace of its own (vnfo-nl-*), takes real
RTM_GETLINK dumps as raw bytes (netlink_raw_dump) and compares, link by
link, every field the project's decoder returns with what pyroute2's
ifinfmsg parser reads from the same bytes (netlink_decoder_views):

* every link kind this kernel offers, with bridge ports (stand-in masters),
  altnames, aliases, links down and up, MTU and MAC changes;
* 4,001 links (2,000 veth pairs and lo);
* 20 dumps of about 500 links taken while a background `ip -batch` creates, changes
  and deletes links (the bytes are decoded after the churn has been stopped).

Kinds whose kernel module is not loaded and whose loading creates links in
the host namespace (dummy, bonding, ifb, ip_gre) are not probed; the test
prints the kinds it built and those it could not.
"""

from __future__ import annotations

import errno
import os
import subprocess
import tempfile
import time

import pytest

from netlink_decoder_views import disagreements, project_rows, pyroute2_rows
from netlink_raw_dump import RawLinkDump
from netns_lab import IP, created_lab

from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn

LOWER = "low0"  # veth the stacked kinds (macvlan, vlan, ...) sit on
# kind -> (kernel module, `ip link` arguments creating one link of it)
KINDS = {
    "veth": ("veth", "add kveth0 type veth peer name kveth1"),
    "bridge": ("bridge", "add kbridge type bridge"),
    "macvlan": ("macvlan", "add kmacvlan link %s type macvlan mode bridge" % LOWER),
    "macvtap": ("macvtap", "add kmacvtap link %s type macvtap" % LOWER),
    "vlan": ("8021q", "add kvlan link %s type vlan id 5" % LOWER),
    "ipvlan": ("ipvlan", "add kipvlan link %s type ipvlan mode l2" % LOWER),
    "ifb": ("ifb", "add kifb type ifb"),
    "dummy": ("dummy", "add kdummy type dummy"),
    "bond": ("bonding", "add kbond type bond"),
    "team": ("team", "add kteam type team"),
    "vxlan": ("vxlan", "add kvxlan type vxlan id 42 dstport 4789"),
    "vrf": ("vrf", "add kvrf type vrf table 10"),
    "geneve": ("geneve", "add kgeneve type geneve id 42 remote 192.0.2.1"),
    "gretap": ("ip_gre", "add kgretap type gretap remote 192.0.2.1 local 192.0.2.2"),
    "nlmon": ("nlmon", "add knlmon type nlmon"),
    "wireguard": ("wireguard", "add kwireguard type wireguard"),
    "vcan": ("vcan", "add kvcan type vcan"),
}
# loading these modules creates links in the host namespace (dummy0, bond0, ifb0/1, gre0...)
HOST_LINKS_ON_LOAD = {"dummy", "bonding", "ifb", "ip_gre"}
REQUIRED_KINDS = ("veth", "bridge")  # what every namespace test of this project builds

UTF8_ALIAS = "primär ✓ standby"
LONG_ALIAS = "a" * 255  # IFALIASZ - 1
LONG_ALTNAME = "alt-" + "x" * 123  # ALTIFNAMSIZ - 1 = 127
MTU_MAC = "02:00:5e:10:00:01"
CHURN_PAIRS = 250  # veth pairs present during the churn
CHURN_DUMPS = 20


@pytest.fixture
def marshal_class():
    module = pytest.importorskip("pyroute2.netlink.rtnl.marshal",
                                 reason="pyroute2 is not installed in this interpreter (make setup installs it)")
    return module.MarshalRtnl


@pytest.fixture
def nl_lab():
    yield from created_lab("vnfo-nl")


def _module_present(module):
    """True when the module is loaded or built in, or the kernel cannot load modules at all."""
    if not os.path.exists("/proc/modules"):
        return True
    with open("/proc/modules") as fh:
        if any(line.split(" ", 1)[0] == module for line in fh):
            return True
    try:
        with open("/lib/modules/%s/modules.builtin" % os.uname().release) as fh:
            return any(os.path.basename(line.strip()) == module + ".ko" for line in fh)
    except OSError:
        return False


def _build_every_kind(lab):
    """One link of every kind the kernel offers; returns (built, not offered: {kind: reason})."""
    lab.ip("link", "add", LOWER, "type", "veth", "peer", "name", "low1")
    built, missing = [], {}
    for kind, (module, args) in KINDS.items():
        if module in HOST_LINKS_ON_LOAD and not _module_present(module):
            missing[kind] = "module %s not loaded (loading it adds links to the host namespace)" % module
            continue
        res = lab.ip("link", *args.split(), check=False)
        if res.returncode == 0:
            built.append(kind)
        elif "Unknown device type" in res.stderr or "not supported" in res.stderr.lower():
            missing[kind] = res.stderr.strip()
        else:
            raise AssertionError("ip link %s failed: %s" % (args, res.stderr))
    return built, missing


def _variations(bond):
    """`ip -batch` lines: stand-in masters, aliases, altnames, down/up, MTU, MAC, odd names."""
    lines = ["link add brm0 type bridge"]
    for port, peer, alias in (("sb0", "sbp0", "standby"), ("pr0", "prp0", "primary"), ("xp0", "xpp0", None)):
        lines.append("link add %s type veth peer name %s" % (port, peer))
        if alias:
            lines.append("link set %s alias %s" % (port, alias))
        lines += ["link set %s master brm0" % port, "link set %s up" % port, "link set %s up" % peer]
    lines += ["link set brm0 up", "link set xp0 down"]
    if bond:
        lines += ["link add bnd1 type bond", "link add bp1 type veth peer name bpp1",
                  "link set bp1 master bnd1", "link set bnd1 up"]
    lines += [
        "link add mtu0 type veth peer name mtu1",
        "link set mtu0 mtu 9000", "link set mtu0 address %s" % MTU_MAC, "link set mtu0 up", "link set mtu1 up",
        "link add down0 type veth peer name down1",
        "link set down0 up", "link set down1 up", "link set down0 down",
        "link add al0 type veth peer name al1",
        'link set al0 alias "%s"' % UTF8_ALIAS, "link set al1 alias %s" % LONG_ALIAS,
        "link add al2 type veth peer name al3", "link set al2 alias gone", 'link set al2 alias ""',
        "link add an0 type veth peer name an1",
        "link property add dev an0 altname an0-alt-one", "link property add dev an0 altname an0-alt-two",
        "link property add dev an1 altname %s" % LONG_ALTNAME,
        "link add n123456789abcde type veth peer name vé0",
    ]
    return lines


def _compare(dump, marshal_class):
    ours = project_rows(dump)
    theirs = pyroute2_rows(dump, marshal_class)
    diff = disagreements(ours.rows, theirs)
    assert diff == [], "the project's decoder disagrees with pyroute2 on the same bytes:\n" + "\n".join(diff[:40])
    return ours, theirs


def test_every_link_kind_agrees_with_pyroute2(nl_lab, marshal_class):
    built, missing = _build_every_kind(nl_lab)
    for kind in REQUIRED_KINDS:
        assert kind in built, "this kernel cannot create %s links: %s" % (kind, missing.get(kind))
    nl_lab.batch(_variations(bond="bond" in built))
    with RawLinkDump(nl_lab.name) as raw:
        dump = raw.take()
    ours, theirs = _compare(dump, marshal_class)
    assert ours.done and ours.error is None

    by_name = {row["name"]: row for row in theirs}
    assert sorted(by_name) == nl_lab.names(), "the dump does not hold exactly the namespace's links"
    kinds_seen = {row["kind"] for row in theirs}
    assert set(built) <= kinds_seen, "built kinds missing from the dump: %s" % (set(built) - kinds_seen)
    # the dump really exercised what was built (so agreement is not vacuous)
    brm0 = by_name["brm0"]["index"]
    assert by_name["sb0"]["master"] == brm0 and by_name["sb0"]["slave_kind"] == "bridge"
    assert by_name["sb0"]["alias"] == "standby" and by_name["xp0"]["up"] is False
    assert by_name["al0"]["alias"] == UTF8_ALIAS and by_name["al1"]["alias"] == LONG_ALIAS
    assert by_name["al2"]["alias"] is None
    assert by_name["an0"]["altnames"] == ("an0-alt-one", "an0-alt-two")
    assert by_name["an1"]["altnames"] == (LONG_ALTNAME,)
    assert by_name["mtu0"]["mac"] == MTU_MAC and by_name["mtu0"]["up"] is True
    assert by_name["down0"]["up"] is False and by_name["down1"]["up"] is True
    assert by_name["down1"]["operstate"] == "LOWERLAYERDOWN" and by_name["mtu0"]["operstate"] == "UP"
    assert "vé0" in by_name and "n123456789abcde" in by_name
    print("\n%s: %d links compared in %d chunk(s); kinds built: %s; not offered: %s"
          % (nl_lab.name, len(theirs), len(dump.chunks), ", ".join(built),
             "; ".join("%s (%s)" % item for item in missing.items()) or "none"))


def test_4000_links_agree_with_pyroute2(nl_lab, marshal_class):
    lines = []
    for n in range(2000):
        lines.append("link add bk%da type veth peer name bk%db" % (n, n))
        if n % 10 == 0:
            lines.append("link set bk%da alias bulk-%d" % (n, n))
        if n % 25 == 0:
            lines.append("link property add dev bk%db altname bulk-alt-%d" % (n, n))
        if n % 7 == 0:
            lines += ["link set bk%da up" % n, "link set bk%db up" % n]
    started = time.monotonic()
    for start in range(0, len(lines), 2000):
        nl_lab.batch(lines[start:start + 2000])
    built_in = time.monotonic() - started
    with RawLinkDump(nl_lab.name) as raw:
        dump = raw.take()
    ours, theirs = _compare(dump, marshal_class)
    assert ours.done and ours.error is None
    assert len(theirs) == 4001
    assert sum(1 for row in theirs if row["alias"]) == 200
    assert sum(1 for row in theirs if row["altnames"]) == 80
    print("\n%s: %d links compared in %d chunk(s) (built in %.1f s)"
          % (nl_lab.name, len(theirs), len(dump.chunks), built_in))


def _churn_lines(count):
    lines = []
    for n in range(count):
        lines += [
            "link add ch%da type veth peer name ch%db" % (n, n),
            "link set ch%da alias churn-%d" % (n, n),
            "link property add dev ch%db altname churn-alt-%d" % (n, n),
            "link set ch%da up" % n,
            "link set bk%da %s" % (n % CHURN_PAIRS, "up" if n % 2 else "down"),
            "link del ch%da" % n,
        ]
    return lines


def test_dump_during_link_churn_agrees_with_pyroute2(nl_lab, marshal_class):
    nl_lab.batch(["link add bk%da type veth peer name bk%db" % (n, n) for n in range(CHURN_PAIRS)])
    dumps = []
    with tempfile.NamedTemporaryFile("w", prefix="vnfo-nl-churn-", suffix=".batch") as batch:
        batch.write("\n".join(_churn_lines(20000)) + "\n")
        batch.flush()
        churner = subprocess.Popen([IP, "-n", nl_lab.name, "-force", "-batch", batch.name],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.2)  # let the churn begin
            with RawLinkDump(nl_lab.name) as raw:  # raw bytes only here: decoding comes after the churn
                while len(dumps) < CHURN_DUMPS:
                    dumps.append(raw.take())
            still_running = churner.poll() is None
        finally:
            churner.kill()
            churner.wait()
    assert still_running, "the churning ip -batch ended before the dumps did: the last dumps saw no churn"

    compared, counts, intr_in_links, intr_on_done, eintr = 0, set(), 0, 0, 0
    for dump in dumps:
        ours, theirs = _compare(dump, marshal_class)
        headers = dump.headers()
        done_flagged = headers[-1][0] == fn.NLMSG_DONE and bool(headers[-1][1] & fn.NLM_F_DUMP_INTR)
        if ours.error is not None:
            assert ours.error.code == errno.EINTR, "the decoder failed on a churned dump: %r" % ours.error
            eintr += 1
        # the decoder's contract: EINTR exactly when a message of the dump carries NLM_F_DUMP_INTR,
        # wherever the kernel put it (on 6.18 it flags the RTM_NEWLINK message it was filling when the
        # table changed, rarely NLMSG_DONE), so LinkSocket.dump_links dumps again
        flagged = any(mflags & fn.NLM_F_DUMP_INTR for _mtype, mflags in headers)
        assert (ours.error is not None) == flagged, (ours.error, headers[-3:])
        intr_in_links += any(mtype == fn.RTM_NEWLINK and mflags & fn.NLM_F_DUMP_INTR for mtype, mflags in headers)
        intr_on_done += done_flagged
        counts.add(len(theirs))
        compared += len(theirs)
    assert len(counts) > 1 or intr_in_links or intr_on_done, \
        "no churn seen in %d dumps (link counts %s)" % (len(dumps), sorted(counts))
    print("\n%s: %d dumps during churn, %d links compared, link counts %d..%d; NLM_F_DUMP_INTR on a link "
          "message in %d dumps, on NLMSG_DONE in %d; decoder EINTR in %d"
          % (nl_lab.name, len(dumps), compared, min(counts), max(counts), intr_in_links, intr_on_done, eintr))
