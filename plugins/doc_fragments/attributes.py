# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What each attribute means, for every module of the collection; a module gives its support level and,
    # under details, what it does in that mode.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Whether the module runs in check mode, and then changes nothing and reports what it would change.
  diff_mode:
    description: Whether the module shows, in diff mode, what it changed or would change.
  platform:
    description: The systems the module runs on.
    support: full
    platforms: posix
"""

    # The modules that come with an action plugin of the same name.
    ACTION = r"""
options: {}
attributes:
  action:
    description: The module has an action plugin of the same name, which runs on the controller.
    support: full
"""

    # Action modules that run on the controller only and change nothing on any host.
    CONTROLLER = r"""
options: {}
attributes:
  diff_mode:
    support: none
    details: Nothing on a host changes, so there is no diff.
  platform:
    support: full
    details: The controller; the task's host is not contacted.
"""
