# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugin_utils/report_files: the fleet report files and their writer behind virtnet.failover.fleet_report_files,
on real trees."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import fleet_report
from ansible_collections.virtnet.failover.plugins.filter.fleet_report_markdown import fleet_report_markdown
from ansible_collections.virtnet.failover.plugins.plugin_utils.report_files import (
    ReportFilesError,
    report_files,
    write_files,
)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_creates_missing_parents_0755_and_files_0644(tmp_path):
    old = os.umask(0o077)  # as a strict controller umask: the modes must not depend on it
    try:
        dest = str(tmp_path / "a" / "b")
        written = write_files(dest, {"r.json": "{}\n", "r.md": "# r\n"})
    finally:
        os.umask(old)
    assert written == [dest + "/r.json", dest + "/r.md"]
    assert mode(str(tmp_path / "a")) == 0o755 and mode(dest) == 0o755
    assert mode(dest + "/r.json") == 0o644 and open(dest + "/r.json").read() == "{}\n"
    assert open(dest + "/r.md").read() == "# r\n"
    assert [n for n in os.listdir(dest) if n.startswith(".")] == []  # no temporary file left


def test_second_run_writes_nothing_but_fixes_the_mode(tmp_path):
    dest = str(tmp_path)
    write_files(dest, {"r.json": "x"})
    inode = os.stat(dest + "/r.json").st_ino
    os.chmod(dest + "/r.json", 0o600)
    assert write_files(dest, {"r.json": "x"}) == []
    assert os.stat(dest + "/r.json").st_ino == inode and mode(dest + "/r.json") == 0o644
    assert write_files(dest, {"r.json": "y"}) == [dest + "/r.json"] and open(dest + "/r.json").read() == "y"


@pytest.mark.parametrize("dest, files, text", [
    ("relative/dir", {"r": ""}, "absolute"),
    ("/tmp", {}, "non-empty"),
    ("/tmp", {"../r": ""}, "without '/'"),
    ("/tmp", {"r": 1}, "must be text"),
])
def test_bad_input_is_refused_before_anything_is_written(tmp_path, dest, files, text):
    with pytest.raises(ReportFilesError, match=text):
        write_files(dest, files)


def test_dest_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ReportFilesError, match="not a directory"):
        write_files(str(tmp_path / "f" / "sub"), {"r": ""})


def test_report_files_are_sorted_json_and_the_markdown_of_the_same_report():
    report = fleet_report({"vm2": {"drift": []}, "vm1": None}, ["vm1", "vm2"], title="T \u00e9",
                          generated_at="2026-12-03T00:00:00Z")
    files = report_files("fleet-report", report)
    assert sorted(files) == ["fleet-report.json", "fleet-report.md"]
    text = files["fleet-report.json"]
    assert json.loads(text) == report
    assert text == json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert '"title": "T \u00e9"' in text  # UTF-8, not \u escapes, as to_nice_json wrote it
    assert text.index('"by_kind"') < text.index('"clean"') < text.index('"hosts"')
    assert files["fleet-report.md"] == fleet_report_markdown(report)


@pytest.mark.parametrize("name", ["", "a/b", ".hidden", None])
def test_report_name_that_is_not_a_plain_file_name_is_refused(name):
    with pytest.raises(ReportFilesError, match="plain file name"):
        report_files(name, {"hosts": []})
