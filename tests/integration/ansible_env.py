# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the integration tests find ansible-playbook and this collection, and
the environment they run ansible-playbook in."""

from __future__ import annotations

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN, "ansible-playbook")
if not os.path.exists(ANSIBLE_PLAYBOOK):
    ANSIBLE_PLAYBOOK = shutil.which("ansible-playbook") or "ansible-playbook"
BUILD_COLLECTIONS = os.path.join(ROOT, ".build", "collections")  # the Makefile's symlink tree


def collections_path():
    """.build/collections when it holds the collection, else $ANSIBLE_COLLECTIONS_PATH."""
    if os.path.isdir(os.path.join(BUILD_COLLECTIONS, "ansible_collections", "virtnet", "failover")):
        return BUILD_COLLECTIONS
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH", BUILD_COLLECTIONS)


def playbook_env(collections, **extra):
    """os.environ for ansible-playbook: only ``collections``, no colour, retry files or
    localhost warning, the venv's binaries first on PATH; ``extra`` on top."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.update(extra)
    return env
