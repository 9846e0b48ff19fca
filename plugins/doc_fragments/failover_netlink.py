# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Requirements and platform of the modules that work through module_utils.failover_netlink
    # (failover_info, failover_slave_name).
    DOCUMENTATION = r"""
requirements:
  - pyroute2 >= 0.7 (0.7, 0.8 and 0.9 are supported)
  - Linux
attributes:
  platform:
    support: full
    platforms: posix
    details: Linux only (rtnetlink, ethtool ioctl, sysfs).
"""
