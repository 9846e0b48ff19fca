# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.virtnet.failover`` importable for pytest.

Order: the tree is already under .../ansible_collections/virtnet/failover
(ansible-test), else the Makefile's .build/collections symlink, else a
throwaway symlink tree in a temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _collections_path():
    parts = ROOT.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "virtnet"] and parts[-1] == "failover":
        return os.sep.join(parts[:-3])
    build = os.path.join(ROOT, ".build", "collections")
    if os.path.isdir(os.path.join(build, "ansible_collections", "virtnet", "failover")):
        return build
    tmp = tempfile.mkdtemp(prefix="virtnet-failover-coll-")
    os.makedirs(os.path.join(tmp, "ansible_collections", "virtnet"))
    os.symlink(ROOT, os.path.join(tmp, "ansible_collections", "virtnet", "failover"))
    return tmp


COLLECTIONS_PATH = _collections_path()
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", COLLECTIONS_PATH)
