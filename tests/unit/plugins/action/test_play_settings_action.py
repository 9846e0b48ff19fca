# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of virtnet.failover.play_settings, in-process with a stand-in task: failover_report_slice=awx passes
under AWX (the run has awx_job_id) and is refused, before any host is touched, outside it."""

from __future__ import annotations

from unittest import mock

from ansible_collections.virtnet.failover.plugins.action import play_settings


class Templar:
    def template(self, value):
        return value


def check(hostvars, extra=None):
    task = mock.MagicMock(args={"hosts": sorted(hostvars), "pattern": "all"}, async_val=0, check_mode=False)
    connection = mock.MagicMock()
    connection._shell.tmpdir = "/nonexistent"
    action = play_settings.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), Templar(),
                                        mock.MagicMock())
    return action.run(task_vars=dict(extra or {}, hostvars=hostvars))


def test_awx_slice_id_passes_under_awx():
    result = check({"vm1": {"failover_report_slice": "awx"}, "vm2": {}}, {"awx_job_id": 4711})
    assert not result.get("failed"), result
    assert result["msg"] == "the failover_* settings of 2 host(s) are valid"


def test_awx_slice_id_is_refused_outside_awx():
    result = check({"vm1": {"failover_report_slice": "awx"}})
    assert result["failed"]
    assert result["msg"].startswith("refused before any host is touched: failover_report_slice is 'awx': awx takes "
                                    "the slice id from AWX's awx_job_id, and this run has none"), result["msg"]


def test_a_bad_slice_id_is_refused_with_its_hosts():
    result = check({"vm1": {"failover_report_slice": "../x"}, "vm2": {"failover_report_slice": "../x"}})
    assert result["failed"] and "failover_report_slice is '../x': not a slice id" in result["msg"]
    assert result["msg"].endswith("(hosts vm1, vm2)")
