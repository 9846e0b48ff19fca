# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The same raw link dump read by the project's decoder and by pyroute2's, as comparable rows.

A row holds every field failover_netlink.Link carries (and its derived
properties), named after the attribute it comes from::

    ours = project_rows(dump)            # Decoded(rows=[...], error=None or NetlinkError)
    theirs = pyroute2_rows(dump)         # the same through pyroute2's MarshalRtnl / ifinfmsg
    assert disagreements(ours.rows, theirs) == []

The project's side is fed chunk by chunk exactly as LinkSocket.dump_links
feeds it (parse_messages with the dump's seq and port).  pyroute2's side
reads every chunk with MarshalRtnl.parse and keeps the RTM_NEWLINK messages
of the same seq and port.  pyroute2 keeps a string that is not UTF-8 as
bytes; the project decodes with errors="replace", so the pyroute2 side maps
bytes the same way (no link this suite builds has such a name).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn

FIELDS = ("index", "flags", "up", "name", "mac", "master", "operstate", "phys_port_name", "kind",
          "slave_kind", "alias", "altnames")


@dataclass
class Decoded:
    rows: list = field(default_factory=list)
    done: bool = False
    error: Exception | None = None


def project_rows(dump):
    """failover_netlink.parse_messages over the dump's chunks; NetlinkError is kept, not raised."""
    links = []
    marks = fn.DumpMarks()
    result = Decoded()
    try:
        for chunk in dump.chunks:
            if fn.parse_messages(chunk, len(chunk), links, dump.seq, dump.port, marks):
                result.done = True
                break
    except fn.NetlinkError as exc:
        result.error = exc
    result.rows = [{
        "index": link.index,
        "flags": link.flags,
        "up": link.up,
        "name": link.name,
        "mac": link.mac,
        "master": link.master,
        "operstate": link.operstate_name,
        "phys_port_name": link.phys_port_name,
        "kind": link.kind,
        "slave_kind": link.slave_kind,
        "alias": link.alias,
        "altnames": tuple(link.altnames),
    } for link in links]
    return result


def _text(value):
    if isinstance(value, bytes):
        return value.split(b"\0", 1)[0].decode("utf-8", "replace")
    return value


def _pyroute2_row(msg):
    if msg["header"].get("error") is not None:
        raise AssertionError("pyroute2 could not decode link %s: %r" % (msg.get("index"), msg["header"]["error"]))
    linkinfo = msg.get_attr("IFLA_LINKINFO")
    proplist = msg.get_attr("IFLA_PROP_LIST")
    operstate = msg.get_attr("IFLA_OPERSTATE")
    if operstate is None:
        raise AssertionError("the kernel sent no IFLA_OPERSTATE for link %s" % msg["index"])
    return {
        "index": msg["index"],
        "flags": msg["flags"],
        "up": bool(msg["flags"] & 1),  # IFF_UP
        "name": _text(msg.get_attr("IFLA_IFNAME")),
        "mac": msg.get_attr("IFLA_ADDRESS"),
        "master": msg.get_attr("IFLA_MASTER") or None,
        "operstate": operstate,
        "phys_port_name": _text(msg.get_attr("IFLA_PHYS_PORT_NAME")),
        "kind": _text(linkinfo.get_attr("IFLA_INFO_KIND")) if linkinfo else None,
        "slave_kind": _text(linkinfo.get_attr("IFLA_INFO_SLAVE_KIND")) if linkinfo else None,
        "alias": _text(msg.get_attr("IFLA_IFALIAS")) or None,
        "altnames": tuple(_text(n) for n in proplist.get_attrs("IFLA_ALT_IFNAME")) if proplist else (),
    }


def pyroute2_rows(dump, marshal_class):
    """Rows of the dump's RTM_NEWLINK messages as pyroute2 (``marshal_class`` = MarshalRtnl) decodes them."""
    marshal = marshal_class()
    rows = []
    for chunk in dump.chunks:
        for msg in marshal.parse(chunk):
            header = msg["header"]
            if header["type"] == fn.RTM_NEWLINK and header["sequence_number"] == dump.seq \
                    and header["pid"] == dump.port:
                rows.append(_pyroute2_row(msg))
    return rows


def disagreements(ours, theirs):
    """Human-readable differences, link by link and field by field; [] when both agree."""
    out = []
    if len(ours) != len(theirs):
        out.append("link count: project %d, pyroute2 %d" % (len(ours), len(theirs)))
    for n, (mine, other) in enumerate(zip(ours, theirs)):
        for name in FIELDS:
            if mine[name] != other[name]:
                out.append("message %d (ifindex %s, %r) %s: project %r, pyroute2 %r"
                           % (n, other["index"], other["name"], name, mine[name], other[name]))
    return out
