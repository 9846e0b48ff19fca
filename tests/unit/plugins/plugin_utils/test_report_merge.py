# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The merge of slice reports behind virtnet.failover.fleet_report_merge (plugin_utils/report_files), on real
trees: a fleet split the way AWX splits an inventory into slices, each slice's report built and written as
virtnet.failover.fleet_report_files builds and writes it, read back and merged, gives the report of one run over
the whole fleet and the same JSON, Markdown, JUnit and Prometheus outputs; a slice's own outputs say it is one."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.virtnet.failover.plugins.filter.fleet_report import fleet_report
from ansible_collections.virtnet.failover.plugins.filter.fleet_report_junit import fleet_report_junit
from ansible_collections.virtnet.failover.plugins.filter.fleet_report_markdown import fleet_report_markdown
from ansible_collections.virtnet.failover.plugins.filter.fleet_report_prometheus import fleet_report_prometheus
from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import exposition_problems
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_slices import annotate, sliced_name
from ansible_collections.virtnet.failover.plugins.plugin_utils.report_files import (
    ReportFilesError,
    merged_report,
    read_slice_reports,
    remove_slice_files,
    report_files,
    write_files,
)


def item(kind, subject="eth7"):
    return dict(kind=kind, subject=subject, expected="enp1s0nsby", actual=subject, message="m", remedy="r")


def result(items=()):
    return {"changed": False, "drift": list(items), "running_kernel": "6.1.0-56-amd64",
            "next_boot_kernel": "6.1.0-58-amd64", "dkms_version": "1.0.0"}


RESULTS = {
    "vm01": result(), "vm02": result([item("slave_name"), item("param_value", "slave_rename_ok")]),
    "vm03": result(), "vm04": {"unreachable": True, "msg": "Connection refused"},
    "vm05": {"failed": True, "msg": "network namespace 'x' does not exist"}, "vm06": result([item("slave_name")]),
    "vm07": result(), "vm08": result([item("dkms_next_kernel", "6.1.0-58-amd64")]), "vm09": result(),
    "vm10": {"status": "not_reached", "msg": "passed preflight"},
}
HOSTS = list(RESULTS) + ["vm11"]  # vm11 gave no result: unreachable
POLICY = {"standby_template": "{master}nsby", "primary_template": "{master}npri"}
AT = "2026-01-02T03:04:05Z"


def awx_slices(hosts, count):
    """The hosts of each slice as AWX splits an inventory (awx/main/models/inventory.py, get_sliced_hosts): the
    hosts ordered by name, slice number n (1..count) gets every count-th from the (n-1)-th on."""
    ordered = sorted(hosts)
    return {str(n): ordered[n - 1::count] for n in range(1, count + 1)}


def test_awx_split():
    assert awx_slices(["c", "a", "e", "b", "d"], 3) == {"1": ["a", "d"], "2": ["b", "e"], "3": ["c"]}


def write_slices(directory, count, kind="drift", name="fleet-report", run="77"):
    """Each slice's report, as fleet_report_files builds and writes it; {slice id: report}."""
    out = {}
    for slice_id, hosts in awx_slices(HOSTS, count).items():
        report = fleet_report({h: RESULTS[h] for h in hosts if h in RESULTS}, hosts, policy=POLICY, generated_at=AT)
        report = annotate(report, kind, slice_id, run)
        write_files(str(directory), report_files(sliced_name(name, slice_id), report))
        out[slice_id] = report
    return out


def merged_from(directory, count=None, name="fleet-report"):
    return merged_report(read_slice_reports(str(directory), name), expected=count, generated_at=AT)


SAME_KEYS = ("format", "title", "generated_at", "policy", "clean", "summary", "hosts", "by_kind", "problem_hosts",
             "not_ok", "not_done")


@pytest.mark.parametrize("count", [1, 3, 4, 11])
def test_the_merged_report_is_the_single_runs(tmp_path, count):
    single = fleet_report(RESULTS, HOSTS, policy=POLICY, generated_at=AT)
    write_slices(tmp_path, count)
    merged = merged_from(tmp_path, count)
    assert {k: merged[k] for k in SAME_KEYS} == {k: single[k] for k in SAME_KEYS}
    assert set(merged) == set(single) | {"scope", "merged"}
    assert merged["scope"].startswith("fleet: %d slices merged (%s), 11 hosts"
                                      % (count, ", ".join(str(n) for n in range(1, count + 1))))
    assert [s["id"] for s in merged["merged"]["slices"]] == [str(n) for n in range(1, count + 1)]
    assert sum(s["hosts"] for s in merged["merged"]["slices"]) == 11
    # the same outputs: Markdown but for the scope line, JUnit, Prometheus
    md_single, md_merged = fleet_report_markdown(single), fleet_report_markdown(merged)
    assert "\nScope: %s\n\n" % merged["scope"] in md_merged
    assert md_merged.replace("Scope: %s\n\n" % merged["scope"], "", 1) == md_single
    assert fleet_report_junit(merged) == fleet_report_junit(single)
    assert fleet_report_prometheus(merged, checked_at=1.5) == fleet_report_prometheus(single, checked_at=1.5)
    # and the files the merge writes are those of a single run, but for the two scope lines
    merged_files, single_files = report_files("fleet-report", merged), report_files("fleet-report", single)
    assert sorted(merged_files) == sorted(single_files) == ["fleet-report.json", "fleet-report.md"]
    assert {k: v for k, v in json.loads(merged_files["fleet-report.json"]).items() if k not in ("scope", "merged")} == \
        json.loads(single_files["fleet-report.json"])


def test_rollout_slices_merge_with_their_statuses(tmp_path):
    write_slices(tmp_path, 3, kind="rollout", name="rollout-report")
    merged = merged_from(tmp_path, 3, name="rollout-report")
    single = fleet_report(RESULTS, HOSTS, policy=POLICY, generated_at=AT)
    assert merged["not_done"] == single["not_done"] and "vm10" in merged["not_done"]
    assert merged["merged"]["kind"] == "rollout"
    assert merged["scope"].endswith("held within each slice, not across the fleet")


def test_a_slice_names_its_files_and_says_it_is_one(tmp_path):
    reports = write_slices(tmp_path, 3)
    want = ["fleet-report.slice-%d.%s" % (n, ext) for n in (1, 2, 3) for ext in ("json", "md")]
    assert sorted(os.listdir(str(tmp_path))) == want
    two = reports["2"]
    assert two["slice"] == {"id": "2", "kind": "drift", "run": "77"}
    assert "Scope: slice 2: the 4 hosts of this slice only;" in fleet_report_markdown(two)
    # every fleet metric of a slice carries its slice, so slices and the merged fleet never share a series
    text = fleet_report_prometheus(two, checked_at=1.5)
    assert exposition_problems(text) == []
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert samples and all('{slice="2"' in line for line in samples), samples
    assert 'virtnet_failover_fleet_hosts{slice="2",status="ok"} ' in text
    assert 'virtnet_failover_fleet_clean{slice="2"} 0' in text
    assert 'slice="' not in fleet_report_prometheus(merged_from(tmp_path), checked_at=1.5)


def test_slice_files_of_other_reports_and_other_names_are_left_alone(tmp_path):
    write_slices(tmp_path, 2)
    write_slices(tmp_path, 2, kind="rollout", name="rollout-report")
    (tmp_path / "fleet-report.json").write_text("{}")  # an earlier unsliced run: not a slice, not read
    merged = merged_from(tmp_path, 2)
    assert merged["merged"]["kind"] == "drift" and len(merged["hosts"]) == 11


def test_reading_refuses_what_it_cannot_merge(tmp_path):
    with pytest.raises(ReportFilesError, match=r"no slice report fleet-report.slice-ID.json in .*: run the sliced "
                                               r"job with failover_report_slice set"):
        read_slice_reports(str(tmp_path), "fleet-report")
    with pytest.raises(ReportFilesError, match=r"cannot read the slice reports in .*/nowhere"):
        read_slice_reports(str(tmp_path / "nowhere"), "fleet-report")
    with pytest.raises(ReportFilesError, match=r"src 'relative' must be an absolute directory path"):
        read_slice_reports("relative", "fleet-report")
    (tmp_path / "fleet-report.slice-1.json").write_text('{"format": ')
    with pytest.raises(ReportFilesError, match=r"fleet-report.slice-1.json is not a readable JSON report"):
        read_slice_reports(str(tmp_path), "fleet-report")


def test_a_refused_merge_raises_before_anything_is_built(tmp_path):
    write_slices(tmp_path, 3)
    with pytest.raises(ReportFilesError, match=r"^4 slices expected, 3 found \(1, 2, 3\): slice 4 is missing"):
        merged_from(tmp_path, 4)
    (tmp_path / "fleet-report.slice-9.json").write_text(
        json.dumps(annotate(fleet_report({"vm03": result()}, generated_at=AT, policy=POLICY), "drift", "9", "77")))
    with pytest.raises(ReportFilesError, match=r"^a host is in more than one slice "
                                               r"\(vm03 in fleet-report.slice-3.json, fleet-report.slice-9.json\)"):
        merged_from(tmp_path)


def test_removing_the_merged_slices_leaves_everything_else(tmp_path):
    write_slices(tmp_path, 2)
    (tmp_path / "fleet-report.slice-1.junit.xml").write_text("<testsuites/>")
    write_slices(tmp_path, 2, kind="rollout", name="rollout-report")
    (tmp_path / "fleet-report.json").write_text("{}")
    removed = remove_slice_files(str(tmp_path), "fleet-report", ["1", "2"])
    assert sorted(os.path.basename(p) for p in removed) == [
        "fleet-report.slice-1.json", "fleet-report.slice-1.junit.xml", "fleet-report.slice-1.md",
        "fleet-report.slice-2.json", "fleet-report.slice-2.md"]
    assert sorted(os.listdir(str(tmp_path))) == [
        "fleet-report.json", "rollout-report.slice-1.json", "rollout-report.slice-1.md",
        "rollout-report.slice-2.json", "rollout-report.slice-2.md"]
