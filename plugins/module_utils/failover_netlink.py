# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fast netlink view of failover groups.

pyroute2 renames links and sets them up or down (imported only then); the
link dump is one RTM_GETLINK request on a plain rtnetlink socket with IFLA_EXT_MASK =
RTEXT_FILTER_SKIP_STATS, decoded here with ``struct`` for only the
attributes the failover modules need.  Driver names come from the
ETHTOOL_GDRVINFO ioctl, asked only for links that are masters or slaves.
Works with pyroute2 0.7, 0.8 and 0.9.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import socket
import struct
import sys
import traceback

from ansible_collections.virtnet.failover.plugins.module_utils.failover_naming import slave_roles
from ansible_collections.virtnet.failover.plugins.module_utils.kmod_sysfs import loaded_module

# netlink / rtnetlink constants (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h)
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_GETLINK = 18
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLA_TYPE_MASK = 0x3FFF

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MASTER = 10
IFLA_OPERSTATE = 16
IFLA_LINKINFO = 18
IFLA_IFALIAS = 20
IFLA_EXT_MASK = 29
IFLA_PHYS_PORT_NAME = 38
IFLA_PROP_LIST = 52
IFLA_ALT_IFNAME = 53
IFLA_INFO_KIND = 1
IFLA_INFO_SLAVE_KIND = 4
RTEXT_FILTER_SKIP_STATS = 1 << 3

IFF_UP = 0x1
IFF_LOWER_UP = 0x10000

OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")

# master kind (module option value) <- IFLA_INFO_KIND / ethtool driver
MASTER_KINDS = ("net_failover", "bridge", "bonding", "team")
_KIND_BY_LINKINFO = {"bridge": "bridge", "bond": "bonding", "team": "team"}
_KIND_BY_DRIVER = {"net_failover": "net_failover", "bridge": "bridge", "bonding": "bonding", "team": "team"}

NETNS_DIRS = ("/run/netns", "/var/run/netns")
CLONE_NEWNET = 0x40000000

_NLHDR = struct.Struct("=IHHII")
_IFINFO = struct.Struct("=BxHiII")
_RTA = struct.Struct("=HH")
_U32 = struct.Struct("=I")
_WANTED = frozenset((IFLA_ADDRESS, IFLA_IFNAME, IFLA_MASTER, IFLA_OPERSTATE, IFLA_LINKINFO,
                     IFLA_IFALIAS, IFLA_PHYS_PORT_NAME, IFLA_PROP_LIST))


class FailoverError(Exception):
    """A clear, user-facing error (the modules pass it to fail_json)."""


class NetlinkError(FailoverError):
    def __init__(self, code, msg=None):
        self.code = code
        super().__init__(msg or "netlink error %d (%s)" % (code, os.strerror(code)))


class Link:
    """One decoded RTM_NEWLINK message (only the attributes we need)."""

    __slots__ = ("index", "flags", "name", "address", "master", "operstate",
                 "phys_port_name", "kind", "slave_kind", "alias", "altnames")

    def __init__(self, index, flags, name=None, address=None, master=None, operstate=0,
                 phys_port_name=None, kind=None, slave_kind=None, alias=None, altnames=()):
        self.index = index
        self.flags = flags
        self.name = name
        self.address = address
        self.master = master
        self.operstate = operstate
        self.phys_port_name = phys_port_name
        self.kind = kind
        self.slave_kind = slave_kind
        self.alias = alias
        self.altnames = altnames

    @property
    def mac(self):
        if not self.address:
            return None
        return ":".join("%02x" % b for b in self.address)

    @property
    def up(self):
        return bool(self.flags & IFF_UP)

    @property
    def operstate_name(self):
        if 0 <= self.operstate < len(OPERSTATES):
            return OPERSTATES[self.operstate]
        return str(self.operstate)

    def __repr__(self):
        return "Link(%d, %r, master=%r, kind=%r)" % (self.index, self.name, self.master, self.kind)


def _cstr(buf, start, end):
    raw = bytes(buf[start:end])
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def _decode_nested_kinds(buf, pos, end):
    kind = slave_kind = None
    while pos + 4 <= end:
        alen, atype = _RTA.unpack_from(buf, pos)
        if alen < 4:
            break
        atype &= NLA_TYPE_MASK
        if atype == IFLA_INFO_KIND:
            kind = _cstr(buf, pos + 4, pos + alen)
        elif atype == IFLA_INFO_SLAVE_KIND:
            slave_kind = _cstr(buf, pos + 4, pos + alen)
        pos += (alen + 3) & ~3
    return kind, slave_kind


def _decode_altnames(buf, pos, end):
    names = []
    while pos + 4 <= end:
        alen, atype = _RTA.unpack_from(buf, pos)
        if alen < 4:
            break
        if atype & NLA_TYPE_MASK == IFLA_ALT_IFNAME:
            names.append(_cstr(buf, pos + 4, pos + alen))
        pos += (alen + 3) & ~3
    return tuple(names)


def decode_link(buf, off, end):
    """Decode one RTM_NEWLINK message whose netlink header starts at ``off``."""
    index, flags = _IFINFO.unpack_from(buf, off + 16)[2:4]
    link = Link(index, flags)
    pos = off + 32
    unpack = _RTA.unpack_from
    wanted = _WANTED
    while pos + 4 <= end:
        alen, atype = unpack(buf, pos)
        if alen < 4:
            break
        atype &= NLA_TYPE_MASK
        if atype in wanted:
            aend = pos + alen
            if aend > end:
                raise FailoverError("truncated netlink attribute %d in link %d" % (atype, index))
            if atype == IFLA_IFNAME:
                link.name = _cstr(buf, pos + 4, aend)
            elif atype == IFLA_ADDRESS:
                link.address = bytes(buf[pos + 4:aend])
            elif atype == IFLA_MASTER:
                link.master = _U32.unpack_from(buf, pos + 4)[0] or None
            elif atype == IFLA_OPERSTATE:
                link.operstate = buf[pos + 4]
            elif atype == IFLA_PHYS_PORT_NAME:
                link.phys_port_name = _cstr(buf, pos + 4, aend)
            elif atype == IFLA_IFALIAS:
                link.alias = _cstr(buf, pos + 4, aend) or None
            elif atype == IFLA_LINKINFO:
                link.kind, link.slave_kind = _decode_nested_kinds(buf, pos + 4, aend)
            elif atype == IFLA_PROP_LIST:
                link.altnames = _decode_altnames(buf, pos + 4, aend)
        pos += (alen + 3) & ~3
    return link


class DumpMarks(object):
    """What the messages of one link dump said about the dump, read chunk by chunk.

    The kernel flags NLM_F_DUMP_INTR on whichever message it was filling when
    the link table changed under the dump (a link message as often as
    NLMSG_DONE), so the mark has to outlive the chunk it came in.
    """

    __slots__ = ("interrupted",)

    def __init__(self):
        self.interrupted = False


def parse_messages(buf, size, out, seq=None, port=None, marks=None):
    """Decode the netlink messages in ``buf[:size]`` into ``out`` (Link list).

    Returns True when NLMSG_DONE was seen.  Messages of other sequence
    numbers / ports (multicast notifications) are skipped.  An NLMSG_ERROR
    with a non-zero code raises NetlinkError.  When any message of the dump
    (in this chunk or, with the same ``marks``, an earlier one) carries
    NLM_F_DUMP_INTR, the links changed during the dump and NLMSG_DONE raises
    EINTR, so the caller dumps again instead of using a torn snapshot.
    """
    if marks is None:
        marks = DumpMarks()
    off = 0
    hdr = _NLHDR.unpack_from
    while off + 16 <= size:
        mlen, mtype, mflags, mseq, mpid = hdr(buf, off)
        if mlen < 16 or off + mlen > size:
            raise FailoverError("malformed netlink message (length %d at offset %d)" % (mlen, off))
        if (seq is None or mseq == seq) and (port is None or mpid == port):
            if mflags & NLM_F_DUMP_INTR:
                marks.interrupted = True
            if mtype == RTM_NEWLINK:
                out.append(decode_link(buf, off, off + mlen))
            elif mtype == NLMSG_DONE:
                if marks.interrupted:
                    raise NetlinkError(errno.EINTR, "link dump interrupted by a concurrent change")
                return True
            elif mtype == NLMSG_ERROR:
                code = -struct.unpack_from("=i", buf, off + 16)[0]
                if code:
                    raise NetlinkError(code)
                return True
        off += (mlen + 3) & ~3
    return False


def build_getlink_dump(seq):
    """RTM_GETLINK dump request asking the kernel to skip statistics."""
    attr = _RTA.pack(8, IFLA_EXT_MASK) + _U32.pack(RTEXT_FILTER_SKIP_STATS)
    body = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr
    return _NLHDR.pack(16 + len(body), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


# ------------------------------------------------------------------ pyroute2

_PR2 = {}


def load_pyroute2():
    """Import what we use of pyroute2: IPRoute, pyroute2.netns, NetlinkError.

    pyroute2/__init__.py imports every API of the library (conntrack, ipset,
    nftables, NDB, ...), about 40 % of its import time, which is most of
    what failover_info costs over an Ansible ping.  When nothing has
    imported pyroute2 yet, the package is registered without running its
    __init__ and only the needed submodules are loaded; any problem with
    that falls back to a plain ``import pyroute2``.  Raises ImportError
    when pyroute2 is not installed.  Works with pyroute2 0.7, 0.8 and 0.9.
    """
    if _PR2:
        return _PR2
    if "pyroute2" not in sys.modules:
        spec = importlib.util.find_spec("pyroute2")
        if spec is None:
            raise ImportError("No module named 'pyroute2'")
        sys.modules["pyroute2"] = importlib.util.module_from_spec(spec)
        try:
            _load_parts()
            return _PR2
        except Exception:  # pylint: disable=broad-exception-caught
            for name in [m for m in sys.modules if m == "pyroute2" or m.startswith("pyroute2.")]:
                del sys.modules[name]
            _PR2.clear()
    import pyroute2  # noqa: F401  pylint: disable=unused-import

    _load_parts()
    return _PR2


def pyroute2_import_error():
    """Load pyroute2 (lean, see load_pyroute2) for a module at import time.

    Returns None when it loads, else the traceback of the ImportError, for
    ``missing_required_lib`` (``HAS_PYROUTE2 = PYROUTE2_IMPORT_ERROR is None``).
    """
    try:
        load_pyroute2()
    except ImportError:
        return traceback.format_exc()
    return None


def pyroute2_missing_error():
    """For read-only modules: None when pyroute2 is installed, else the reason, without importing it.

    A link dump needs only the socket (LinkSocket opens it itself); pyroute2 is imported when a
    link is renamed or set up/down, so a read-only run does not pay for its import.
    """
    if "pyroute2" in sys.modules or importlib.util.find_spec("pyroute2") is not None:
        return None
    return "ImportError: No module named 'pyroute2'"


def _load_parts():
    from pyroute2.iproute.linux import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError as PR2NetlinkError
    import pyroute2.netns as pr2_netns

    _PR2.update(IPRoute=IPRoute, NetlinkError=PR2NetlinkError, netns=pr2_netns)


# --------------------------------------------------------------------- netns


def netns_path(name):
    """Path of an existing named namespace; FailoverError when there is none.

    Never creates a namespace (pyroute2's own helpers create one by default).
    """
    if not name or "/" in name or name in (".", ".."):
        raise FailoverError(
            "netns %r is not a valid namespace name: give the name shown by 'ip netns list'" % (name,))
    for base in NETNS_DIRS:
        path = os.path.join(base, name)
        if os.path.exists(path):
            return path
    raise FailoverError(
        "network namespace %r does not exist (no %s/%s); this module never creates namespaces: "
        "create it first (ip netns add %s) or fix the name" % (name, NETNS_DIRS[0], name, name))


def enter_netns(name):
    """Move this (module) process into the named, existing namespace.

    The fd is opened here and handed to pyroute2.netns.setns as an integer,
    which never creates a namespace in pyroute2 0.7, 0.8 or 0.9.
    """
    path = netns_path(name)
    fd = os.open(path, os.O_RDONLY)
    try:
        _setns(fd)
    except OSError as exc:
        raise FailoverError("cannot enter network namespace %r: %s" % (name, exc))
    finally:
        os.close(fd)
    if os.stat("/proc/self/ns/net").st_ino != os.stat(path).st_ino:
        raise FailoverError("entering network namespace %r did not take effect" % name)


def _setns(fd):
    """setns(2) into the network namespace open as ``fd`` (os.setns from Python 3.12, else libc by ctypes)."""
    if hasattr(os, "setns"):
        os.setns(fd, CLONE_NEWNET)  # pylint: disable=no-member
        return
    import ctypes  # pylint: disable=import-outside-toplevel

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def pci_address(link_name, bus_info, in_netns):
    """PCI address from ethtool bus_info, else from sysfs (host netns only)."""
    if bus_info and _looks_pci(bus_info):
        return bus_info
    if in_netns or not link_name:
        return None
    try:
        target = os.readlink("/sys/class/net/%s/device" % link_name)
    except OSError:
        return None
    base = os.path.basename(target)
    return base if _looks_pci(base) else None


def _looks_pci(text):
    parts = text.split(":")
    return len(parts) == 3 and "." in parts[2] and len(parts[0]) == 4


# ------------------------------------------------------------------- netlink


# How many times dump_links asks for the link table when the kernel says each dump was torn.
DUMP_ATTEMPTS = 5


class LinkSocket:
    """rtnetlink access: the link dump on our own socket in raw bytes; renames and up/down through
    pyroute2 IPRoute, opened (and pyroute2 imported) on the first such call.

    Call enter_netns() before creating it to work inside a namespace.
    """

    def __init__(self):
        self._ipr = None
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self._sock.bind((0, 0))  # the kernel picks the port
        self._seq = (os.getpid() & 0xFFFF) << 12
        self._buf = bytearray(1 << 20)

    @property
    def ipr(self):
        if self._ipr is None:
            self._ipr = load_pyroute2()["IPRoute"]()  # the modules check for pyroute2 (missing_required_lib)
        return self._ipr

    def close(self):
        try:
            self._sock.close()
        finally:
            if self._ipr is not None:
                self._ipr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def dump_links(self):
        """All links of the current namespace as a list of Link.  A dump the kernel flags as interrupted (the
        link table changed under it) is dumped again, DUMP_ATTEMPTS times in all, then FailoverError."""
        for _attempt in range(DUMP_ATTEMPTS):
            self._seq += 1
            seq = self._seq
            self._sock.sendto(build_getlink_dump(seq), (0, 0))
            port = self._sock.getsockname()[0]
            links = []
            marks = DumpMarks()
            buf = self._buf
            view = memoryview(buf)
            try:
                while True:
                    size = self._sock.recv_into(view)
                    if parse_messages(buf, size, links, seq, port, marks):
                        return links
            except NetlinkError as exc:
                if exc.code != errno.EINTR:
                    raise
                # interrupted: parse_messages read it to NLMSG_DONE, so the socket holds nothing of it
        raise FailoverError("the link dump was interrupted %d times in a row by links changing under it; run "
                            "again when the host's links have settled" % DUMP_ATTEMPTS)

    def rename(self, index, name):
        self._link_set(index=index, ifname=name)

    def set_up(self, index, up):
        self._link_set(index=index, state="up" if up else "down")

    def _link_set(self, **kwarg):
        try:
            self.ipr.link("set", **kwarg)
        except load_pyroute2()["NetlinkError"] as exc:
            raise NetlinkError(exc.code)


# --------------------------------------------------------- failover groups


def master_kind(link, ethtool):
    """Master kind of a link that has slaves (net_failover/bridge/...)."""
    if link.kind in _KIND_BY_LINKINFO:
        return _KIND_BY_LINKINFO[link.kind]
    if link.kind:
        return None  # some other rtnl kind (vrf, ...): never a failover master
    return _KIND_BY_DRIVER.get(ethtool.driver(link.name))


class Group:
    __slots__ = ("master", "kind", "standby", "primary", "others", "drivers", "bus_info")

    def __init__(self, master, kind, standby, primary, others, drivers, bus_info):
        self.master = master
        self.kind = kind
        self.standby = standby
        self.primary = primary
        self.others = others
        self.drivers = drivers
        self.bus_info = bus_info

    def slave(self, role):
        return self.standby if role == "standby" else self.primary


def find_groups(links, ethtool, master_kinds=("net_failover",)):
    """Failover groups among ``links``; ethtool is asked only for masters/slaves."""
    by_index = {}
    slaves_of = {}
    for link in links:
        by_index[link.index] = link
        if link.master:
            slaves_of.setdefault(link.master, []).append(link)
    groups = []
    for mindex in sorted(slaves_of):
        master = by_index.get(mindex)
        if master is None:
            continue
        kind = master_kind(master, ethtool)
        if kind not in master_kinds:
            continue
        slaves = slaves_of[mindex]
        drivers = {}
        bus_info = {}
        for lk in slaves:
            drivers[lk.index], bus_info[lk.index] = ethtool.drvinfo(lk.name)
        standby, primary, others = slave_roles(slaves, drivers)
        groups.append(Group(master, kind, standby, primary, others, drivers, bus_info))
    return groups


# ------------------------------------------------------ kernel module state


def kernel_module_state(sys_root="/sys", modules_root="/lib/modules", release=None):
    """State of the host's 'failover' kernel module (kmod_sysfs.loaded_module,
    built in also when kmod_files.kernel_builtin says so).

    Contract with the patched module: parameters/slave_rename_ok (bool),
    parameters/live_rename ('flag'|'notifier'|'unsupported'), version.
    """
    # imported here: kmod_files (with kmod_dkms) is the largest source a link scan would compile
    # otherwise, and only this read needs it
    from ansible_collections.virtnet.failover.plugins.module_utils.kmod_files import kernel_builtin

    info = loaded_module("failover", os.path.join(sys_root, "module"))
    release = release or os.uname().release
    builtin = bool(info["builtin"] or kernel_builtin(release, "failover", modules_dir=modules_root)[0])
    return {
        "loaded": bool(builtin or info["initstate"] == "live"),
        "builtin": builtin,
        "patched": info["patched"],
        "version": info["version"] or None,
        "srcversion": info["srcversion"] or None,
        "slave_rename_ok": info["slave_rename_ok"],
        "live_rename": info["live_rename"] or None,
    }
