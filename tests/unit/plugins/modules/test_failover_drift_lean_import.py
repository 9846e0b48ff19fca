# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""failover_drift is read-only: loading it and dumping links must not import pyroute2 (its import is
~200 ms of CPU per host, most of what the drift play costs over a ping play), and it runs whole on a
host where pyroute2 cannot be imported at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.virtnet.failover.plugins.module_utils import failover_netlink as fn

# the directory holding ansible_collections/, as this test imports it
COLLECTIONS = fn.__file__.rsplit(os.sep + "ansible_collections" + os.sep, 1)[0]

PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.virtnet.failover.plugins.modules import failover_drift as fd
from ansible_collections.virtnet.failover.plugins.module_utils.failover_netlink import LinkSocket
with LinkSocket() as sock:
    names = [link.name for link in sock.dump_links()]
print(json.dumps({"imported": sorted(m for m in sys.modules if m.startswith("pyroute2")), "lo": "lo" in names}))
"""


def test_drift_module_and_link_dump_do_not_import_pyroute2():
    out = subprocess.run([sys.executable, "-c", PROBE, COLLECTIONS], check=True, capture_output=True, text=True)
    res = json.loads(out.stdout)
    assert res == {"imported": [], "lo": True}


def test_pyroute2_missing_error_says_so_without_importing(monkeypatch):
    monkeypatch.delitem(sys.modules, "pyroute2", raising=False)
    monkeypatch.setattr(fn.importlib.util, "find_spec", lambda name: None)
    assert "pyroute2" in fn.pyroute2_missing_error()
    monkeypatch.setattr(fn.importlib.util, "find_spec", lambda name: object())
    assert fn.pyroute2_missing_error() is None


RUN_PROBE = r"""
import contextlib, io, json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[4:] == ["block-pyroute2"]:
    class NoPyroute2:  # pyroute2 cannot be imported, as on a host without it
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "pyroute2":
                raise ModuleNotFoundError("No module named %r" % name)
            return None
    sys.meta_path.insert(0, NoPyroute2())
from ansible.module_utils.testing import patch_module_args
import importlib
module = importlib.import_module("ansible_collections.virtnet.failover.plugins.modules." + sys.argv[2])
out = io.StringIO()
with patch_module_args(json.loads(sys.argv[3])), contextlib.redirect_stdout(out):
    try:
        module.main()
    except SystemExit:
        pass
res = json.loads(out.getvalue())
print(json.dumps({"failed": res.get("failed", False), "msg": res.get("msg"),
                  "imported": sorted(m for m in sys.modules if m.startswith("pyroute2"))}))
"""


def test_modules_run_whole_without_importing_pyroute2_when_nothing_is_renamed():
    """The whole run of each module (scan of this host's links, verdicts, the rename plan), not only the dump;
    failover_slave_name imports pyroute2 only to rename (tests/integration/test_failover_slave_name.py renames)."""
    for name, args in (("failover_info", {"master_kinds": ["bridge"], "require_group": False}),
                       ("failover_drift", {"master_kinds": ["bridge"], "check_initramfs": False}),
                       ("failover_slave_name", {"master_kinds": ["bridge"]})):
        out = subprocess.run([sys.executable, "-c", RUN_PROBE, COLLECTIONS, name, json.dumps(args)], check=True,
                             capture_output=True, text=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        assert res["imported"] == [] and not res["failed"], (name, res)


def test_drift_runs_whole_where_pyroute2_cannot_be_imported():
    args = {"master_kinds": ["bridge"], "check_initramfs": False}
    out = subprocess.run([sys.executable, "-c", RUN_PROBE, COLLECTIONS, "failover_drift", json.dumps(args),
                          "block-pyroute2"], check=True, capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert not res["failed"] and res["imported"] == [], res
