# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One RTM_GETLINK dump of a named network namespace, kept as the raw bytes the kernel sent.

The request is the project's own (failover_netlink.build_getlink_dump); each
recv() is kept as one chunk, so both decoders can be fed exactly what
LinkSocket.dump_links would have read::

    with RawLinkDump("vnfo-nl-1234") as raw:
        dump = raw.take()         # Dump(chunks=[bytes, ...], seq=..., port=...)

The socket is opened by a short-lived thread that enters the namespace
(setns is per thread), so the test process itself never leaves its own
namespace; the socket stays bound to the namespace it was opened in.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from dataclasses import dataclass, field

from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn

_HEADER = struct.Struct("=IHHII")


@dataclass
class Dump:
    chunks: list = field(default_factory=list)
    seq: int = 0
    port: int = 0

    def headers(self):
        """(type, flags) of every message of this dump (its seq and port), in order."""
        out = []
        for chunk in self.chunks:
            off = 0
            while off + 16 <= len(chunk):
                mlen, mtype, mflags, mseq, mport = _HEADER.unpack_from(chunk, off)
                if mlen < 16:
                    raise AssertionError("malformed netlink header at offset %d" % off)
                if mseq == self.seq and mport == self.port:
                    out.append((mtype, mflags))
                off += (mlen + 3) & ~3
        return out

    def ended(self):
        """True once the last chunk holds this dump's NLMSG_DONE or NLMSG_ERROR."""
        last = Dump(self.chunks[-1:], self.seq, self.port)
        return any(mtype in (fn.NLMSG_DONE, fn.NLMSG_ERROR) for mtype, _flags in last.headers())


def _socket_in_netns(name):
    box = {}

    def opener():
        try:
            fd = os.open(os.path.join("/run/netns", name), os.O_RDONLY)
            try:
                fn._setns(fd)  # pylint: disable=protected-access  # the project's setns (Python 3.11 and 3.12+)
            finally:
                os.close(fd)
            if os.stat("/proc/thread-self/ns/net").st_ino != os.stat(os.path.join("/run/netns", name)).st_ino:
                raise AssertionError("the opener thread did not enter namespace %s" % name)
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
            sock.bind((0, 0))
            box["sock"] = sock
        except BaseException as exc:  # pylint: disable=broad-exception-caught  # re-raised below
            box["error"] = exc

    thread = threading.Thread(target=opener, name="netns-opener-" + name)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["sock"]


class RawLinkDump:
    """A netlink route socket in the namespace ``name``; take() runs one link dump."""

    def __init__(self, name):
        self.sock = _socket_in_netns(name)
        self.port = self.sock.getsockname()[0]
        self._seq = 1000
        self._buf = bytearray(1 << 20)  # the size LinkSocket reads with

    def take(self):
        self._seq += 1
        dump = Dump(seq=self._seq, port=self.port)
        self.sock.sendto(fn.build_getlink_dump(dump.seq), (0, 0))
        while True:
            size = self.sock.recv_into(self._buf)
            dump.chunks.append(bytes(self._buf[:size]))
            if dump.ended():
                return dump

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
