# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The netlink operations behind down_rename_up, with every pyroute2 at hand.

This kernel (>= 6.2) never answers EBUSY, so the module's down-rename-up
path cannot be reached through Ansible here; this runs the same LinkSocket
calls (set_up / rename / dump) directly inside a lab namespace, with the
interpreters of ``pythons()`` (VIRTNET_PYROUTE2_PYTHONS adds 0.7/0.8 venvs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collections_path():
    return os.path.join(ROOT, ".build", "collections")


def pythons():
    return [sys.executable] + [p for p in os.environ.get("VIRTNET_PYROUTE2_PYTHONS", "").split(":") if p]


SNIPPET = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import pyroute2
from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn
fn.enter_netns(sys.argv[2])
sock = fn.LinkSocket()
idx = {l.name: l.index for l in sock.dump_links()}["eth1"]
sock.set_up(idx, False)
down = [l.up for l in sock.dump_links() if l.index == idx][0]
sock.rename(idx, "enp1s0nsby")
sock.set_up(idx, True)
after = [l for l in sock.dump_links() if l.index == idx][0]
try:
    sock.rename(idx, "eth2")
    clash = None
except fn.NetlinkError as exc:
    clash = exc.code
sock.close()
print(json.dumps({"version": pyroute2.__version__, "down": down, "name": after.name, "up": after.up,
                  "clash": clash}))
"""


@pytest.mark.parametrize("python", pythons())
def test_link_socket_ops(lab, python):
    lab.add_group("enp1s0", "eth1", "eth2")
    proc = subprocess.run([python, "-c", SNIPPET, collections_path(), lab.name],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["down"] is False and res["name"] == "enp1s0nsby" and res["up"] is True, res
    assert res["clash"] == 17  # EEXIST comes back as NetlinkError with the errno
    assert lab.is_up("enp1s0nsby") and "eth1" not in lab.names()
