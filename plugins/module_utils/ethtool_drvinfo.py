# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver of a network interface, as ethtool -i shows it (ETHTOOL_GDRVINFO).

Standard library only: failover_netlink uses it inside modules, and the
slave_names role installs this same file next to its udev helper.
"""

from __future__ import annotations

import array
import fcntl
import socket
import struct

SIOCETHTOOL = 0x8946
ETHTOOL_GDRVINFO = 0x00000003
_DRVINFO_LEN = 196  # struct ethtool_drvinfo


def _cstr(raw, start, end):
    return raw[start:end].split(b"\0", 1)[0].decode("utf-8", "replace")


class Ethtool:
    """ETHTOOL_GDRVINFO through one AF_INET datagram socket (current netns)."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
        self._cache = {}

    def close(self):
        self._sock.close()

    def drvinfo(self, ifname):
        """Return (driver, bus_info) or (None, None) when not available."""
        if ifname in self._cache:
            return self._cache[ifname]
        data = array.array("B", struct.pack("=I", ETHTOOL_GDRVINFO) + b"\0" * (_DRVINFO_LEN - 4))
        addr = data.buffer_info()[0]
        ifreq = struct.pack("16sP16x", ifname.encode("utf-8")[:15], addr)  # struct ifreq, 40 bytes
        try:
            fcntl.ioctl(self._sock.fileno(), SIOCETHTOOL, ifreq)
            raw = data.tobytes()
            result = (_cstr(raw, 4, 36) or None, _cstr(raw, 100, 132) or None)
        except OSError:
            result = (None, None)
        self._cache[ifname] = result
        return result

    def driver(self, ifname):
        return self.drvinfo(ifname)[0]
