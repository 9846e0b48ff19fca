# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process, the way the module tests here do."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args


def run_main(main, args, capsys):
    """Call ``main`` with module ``args``; return its JSON result plus ``rc`` (the exit code)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            main()
    out = json.loads(capsys.readouterr().out)
    out["rc"] = exc.value.code
    return out
