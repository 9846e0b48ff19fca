# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/fleet_report_slices: the slice id of a sliced run (AWX job slicing) and what it is refused for,
the file names it gives, the scope sentence of a report, and the merge of slice reports with every refusal."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_entry import FORMAT
from ansible_collections.virtnet.failover.plugins.module_utils.fleet_report_slices import (
    SliceError,
    annotate,
    merge_slices,
    merged_fields,
    resolve_slice,
    scope,
    slice_files,
    slice_order,
    slice_problem,
    sliced_name,
    suffix,
)

# -- the slice id ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", None, "1", "2", 7, 0, "job-1234", "dc1_a", "A", "x" * 64])
def test_a_slice_id_is_a_safe_file_name_component(value):
    assert slice_problem(value) == ""


@pytest.mark.parametrize("value", [
    "../2", "a/b", ".2", "-2", "_2", "2.json", "slice 2", "x" * 65, "é", "2\n", " 2", True, False, -1, 2.5, [2],
    {"id": 2},
])
def test_anything_else_is_refused_with_what_to_give(value):
    problem = slice_problem(value)
    assert problem.startswith("not a slice id: give 1 to 64 letters, digits, '-' or '_', starting with a letter or "
                              "digit"), problem
    assert "fleet-report.slice-2.json" in problem and "awx" in problem and "leave it unset" in problem
    with pytest.raises(SliceError, match=r"^failover_report_slice is .*: not a slice id"):
        resolve_slice(value)


def test_awx_takes_the_job_id_and_records_the_workflow_job_as_the_run():
    assert slice_problem("awx", awx_job_id=1234) == ""
    assert resolve_slice("awx", 1234, 77) == ("job-1234", "77")
    assert resolve_slice("awx", "1234") == ("job-1234", None)  # a job outside a workflow: no run


@pytest.mark.parametrize("awx_job_id", [None, "", "{{ x }}", True])
def test_awx_outside_awx_is_refused(awx_job_id):
    problem = slice_problem("awx", awx_job_id=awx_job_id)
    assert problem.startswith("awx takes the slice id from AWX's awx_job_id, and this run has none"), problem
    assert "give the slice id itself" in problem
    with pytest.raises(SliceError, match="awx takes the slice id"):
        resolve_slice("awx", awx_job_id)


def test_not_a_slice():
    assert resolve_slice(None, 5, 6) == ("", None)
    assert resolve_slice("", 5, 6) == ("", None)


def test_an_explicit_id_under_awx_records_the_run():
    assert resolve_slice(2, 1234, 77) == ("2", "77")
    assert resolve_slice("2") == ("2", None)


# -- file names -----------------------------------------------------------------------------------------------

def test_file_names_of_a_slice():
    assert sliced_name("fleet-report", "") == "fleet-report" and suffix("") == ""
    assert sliced_name("fleet-report", "2") == "fleet-report.slice-2" and suffix("2") == ".slice-2"
    assert sliced_name("rollout-report", "job-17") == "rollout-report.slice-job-17"


def test_slice_files_are_found_by_exact_name_in_slice_order():
    names = ["fleet-report.slice-10.json", "fleet-report.slice-2.json", "fleet-report.json", "fleet-report.slice-2.md",
             "fleet-report.slice-2.junit.xml", "rollout-report.slice-1.json", "fleet-report.slice-.json",
             "fleet-report.slice-a.b.json", "xfleet-report.slice-3.json", "fleet-report.slice-job-9.json",
             "fleet-report.slice-1.json"]
    assert slice_files(names, "fleet-report") == [
        ("fleet-report.slice-1.json", "1"), ("fleet-report.slice-2.json", "2"), ("fleet-report.slice-10.json", "10"),
        ("fleet-report.slice-job-9.json", "job-9")]
    assert slice_files(names, "rollout-report") == [("rollout-report.slice-1.json", "1")]
    # a base name with characters a regular expression would read differently
    assert slice_files(["a+b.slice-1.json", "aab.slice-2.json"], "a+b") == [("a+b.slice-1.json", "1")]
    assert slice_files(["fleet-report.slice-1.json\n"], "fleet-report") == []


def test_slice_order_is_numeric_where_the_ids_are_numbers():
    assert sorted(["job-100", "job-99", "10", "9", "b", "a"], key=slice_order) == \
        ["9", "10", "a", "b", "job-99", "job-100"]


# -- scope ----------------------------------------------------------------------------------------------------

def test_scope_says_over_which_hosts_the_budget_held():
    assert scope("drift", "", 3) is None
    run = scope("rollout", "", 3)
    assert run.startswith("run: the batches (failover_rollout_serial) and the failure budget "
                          "(failover_rollout_max_fail_percentage) held over the 3 hosts of this run")
    sliced = scope("rollout", "2", 1)
    assert sliced.startswith("slice 2: the 1 host of this slice only; the batches (failover_rollout_serial) and the "
                             "failure budget (failover_rollout_max_fail_percentage) held within this slice, not "
                             "across the fleet")
    assert "virtnet.failover.merge_reports" in sliced
    assert scope("removal", "2", 4).startswith("slice 2: the 4 hosts of this slice only; the batches")
    drift = scope("drift", "job-7", 4)
    assert drift.startswith("slice job-7: the 4 hosts of this slice only; virtnet.failover.merge_reports merges")
    assert "budget" not in drift
    with pytest.raises(SliceError, match="report kind 'deploy'"):
        scope("deploy", "", 1)


def test_annotate():
    report = report_of("drift", "", ["a", "b"])
    assert annotate(report, "drift") == report  # an unsliced drift report is unchanged
    sliced = annotate(report, "drift", "2", "77")
    assert sliced["slice"] == {"id": "2", "kind": "drift", "run": "77"}
    assert sliced["scope"].startswith("slice 2: the 2 hosts of this slice only")
    assert "slice" not in report  # not changed in place
    rollout = annotate(report, "rollout")
    assert "slice" not in rollout and rollout["scope"].startswith("run: ")


# -- merge ----------------------------------------------------------------------------------------------------

def entry(host, status="ok"):
    return {"host": host, "status": status, "message": "", "drift": [], "running_kernel": "6.1.0-56-amd64"}


def report_of(kind, slice_id, hosts, run=None, policy=None, title="Failover fleet drift report", fmt=FORMAT):
    report = {"format": fmt, "title": title, "generated_at": "2026-01-02T03:04:0%sZ" % (slice_id or 0),
              "policy": {"standby_template": "{master}nsby"} if policy is None else policy,
              "hosts": [entry(h) for h in hosts]}
    return annotate(report, kind, slice_id, run) if slice_id else report


def slices(kind="drift", run="77", **parts):
    """[(file name, slice report)] for parts={id: [hosts]} (AWX's split: sorted hosts, every N-th)."""
    return [("fleet-report.slice-%s.json" % i, report_of(kind, i, hosts, run)) for i, hosts in parts.items()]


THREE = {"1": ["vm0-down", "vm3"], "2": ["vm1", "vm9-nons"], "3": ["vm2"]}


def test_merge_puts_every_host_of_every_slice_in_host_order():
    merged = merge_slices(slices(**THREE), expected=3)
    assert [e["host"] for e in merged["hosts"]] == ["vm0-down", "vm1", "vm2", "vm3", "vm9-nons"]
    assert merged["hosts"][1] == entry("vm1")  # entries as the slices wrote them
    assert (merged["kind"], merged["run"], merged["title"]) == ("drift", "77", "Failover fleet drift report")
    assert merged["policy"] == {"standby_template": "{master}nsby"}
    assert merged["slices"] == [
        {"id": "1", "source": "fleet-report.slice-1.json", "hosts": 2, "generated_at": "2026-01-02T03:04:01Z"},
        {"id": "2", "source": "fleet-report.slice-2.json", "hosts": 2, "generated_at": "2026-01-02T03:04:02Z"},
        {"id": "3", "source": "fleet-report.slice-3.json", "hosts": 1, "generated_at": "2026-01-02T03:04:03Z"}]
    assert merge_slices(list(reversed(slices(**THREE))))["hosts"] == merged["hosts"]  # file order does not matter
    fields = merged_fields(merged, 5)
    assert fields["scope"] == "fleet: 3 slices merged (1, 2, 3), 5 hosts"
    assert fields["merged"] == {"kind": "drift", "run": "77", "slices": merged["slices"]}


def test_merged_rollout_says_the_budget_held_per_slice():
    merged = merge_slices(slices(kind="rollout", **THREE))
    assert merged_fields(merged, 5)["scope"] == (
        "fleet: 3 slices merged (1, 2, 3), 5 hosts; the batches (failover_rollout_serial) and the failure budget "
        "(failover_rollout_max_fail_percentage) held within each slice, not across the fleet")


def test_merge_does_not_change_its_input():
    named = slices(**THREE)
    before = copy.deepcopy(named)
    merge_slices(named, 3)
    assert named == before


def refused(named, expected=None):
    with pytest.raises(SliceError) as err:
        merge_slices(named, expected)
    return str(err.value)


def test_a_host_in_two_slices_is_refused():
    named = slices(**THREE) + [("fleet-report.slice-4.json", report_of("drift", "4", ["vm2", "vm3", "vm7"], "77"))]
    msg = refused(named)
    assert msg.startswith("a host is in more than one slice (vm2 in fleet-report.slice-3.json, "
                          "fleet-report.slice-4.json; vm3 in fleet-report.slice-1.json, fleet-report.slice-4.json)")
    assert "AWX gives each host to exactly one slice" in msg and "remove the stale report" in msg


def test_many_hosts_in_two_slices_are_shown_five_and_counted():
    hosts = ["h%02d" % n for n in range(8)]
    msg = refused([("a", report_of("drift", "1", hosts, "7")), ("b", report_of("drift", "2", hosts, "7"))])
    assert msg.startswith("a host is in more than one slice (h00 in a, b; h01 in a, b; h02 in a, b; h03 in a, b; "
                          "h04 in a, b and 3 more): ")
    assert "h05" not in msg


def test_slices_of_different_kinds_are_refused():
    named = slices(**{"1": ["a"]}) + [("rollout-report.slice-2.json", report_of("rollout", "2", ["b"], "77"))]
    msg = refused(named)
    assert msg.startswith("the slices are reports of different kinds (kind drift: fleet-report.slice-1.json; "
                          "kind rollout: rollout-report.slice-2.json)")
    assert "merge the slices of one playbook's run" in msg


def test_slices_of_different_schema_versions_are_refused():
    old = report_of("drift", "2", ["b"], "77", fmt="virtnet.failover.fleet_report/0")
    msg = refused(slices(**{"1": ["a"]}) + [("fleet-report.slice-2.json", old)])
    assert msg.startswith("the slices have different schema versions (format virtnet.failover.fleet_report/1: "
                          "fleet-report.slice-1.json; format virtnet.failover.fleet_report/0: "
                          "fleet-report.slice-2.json)")
    future = report_of("drift", "1", ["a"], "77", fmt="virtnet.failover.fleet_report/2")
    msg = refused([("x.json", future)])
    assert msg.startswith("the slices have the schema version 'virtnet.failover.fleet_report/2' and this "
                          "collection reads 'virtnet.failover.fleet_report/1'")


@pytest.mark.parametrize("expected, found, says", [
    (3, {"1": ["a"], "3": ["c"]}, "3 slices expected, 2 found (1, 3): slice 2 is missing."),
    (4, {"1": ["a"], "3": ["c"]}, "4 slices expected, 2 found (1, 3): slices 2, 4 are missing."),
    (3, {"job-11": ["a"], "job-13": ["c"]}, "3 slices expected, 2 found (job-11, job-13): 1 slice is missing."),
    (2, {"1": ["a"], "2": ["b"], "3": ["c"]}, "2 slices expected, 3 found (1, 2, 3): more reports than slices"),
])
def test_a_missing_slice_is_refused_when_the_count_is_given(expected, found, says):
    named = slices(**found)
    msg = refused(named, expected)
    assert msg.startswith(says), msg
    if expected > len(found):
        assert "re-run the missing slice" in msg and "a volume every slice writes to" in msg
    assert merge_slices(named)["slices"]  # without the count, what is there is merged


@pytest.mark.parametrize("expected", [0, -1, True, "3", 2.0])
def test_a_bad_expected_count_is_refused(expected):
    assert refused(slices(**THREE), expected).startswith("the expected number of slices is %r" % (expected,))


def test_the_same_slice_twice_is_refused():
    named = slices(**{"1": ["a"], "2": ["b"]}) + [("copy-of-slice-2.json", report_of("drift", "2", ["c"], "77"))]
    assert refused(named).startswith("the same slice is there more than once (slice 2: fleet-report.slice-2.json, "
                                     "copy-of-slice-2.json)")


def test_slices_of_different_runs_are_refused():
    named = slices(run="77", **{"1": ["a"]}) + slices(run="78", **{"2": ["b"]}) + slices(run=None, **{"3": ["c"]})
    msg = refused(named)
    assert msg.startswith("the slices come from different runs (run 77: fleet-report.slice-1.json; run 78: "
                          "fleet-report.slice-2.json; run None: fleet-report.slice-3.json; the run is AWX's "
                          "awx_workflow_job_id")


def test_a_report_that_is_not_a_slice_is_refused():
    named = slices(**{"1": ["a"]}) + [("fleet-report.json", report_of("drift", "", ["b"]))]
    assert refused(named).startswith("fleet-report.json is not a slice report: it has no slice id (its run did not "
                                     "set failover_report_slice)")
    no_id = dict(report_of("drift", "", ["b"]), slice={"id": "", "kind": "drift", "run": "77"})
    assert refused(slices(**{"1": ["a"]}) + [("odd.json", no_id)]).startswith("odd.json is not a slice report")


@pytest.mark.parametrize("report, says", [
    ([], "x.json is not a virtnet.failover fleet report (it has no format)"),
    ({"title": "t"}, "x.json is not a virtnet.failover fleet report (it has no format)"),
    ({"format": FORMAT, "hosts": "vm1"}, "x.json has no list of host entries"),
    ({"format": FORMAT, "hosts": [{"status": "ok"}]}, "x.json has no list of host entries"),
])
def test_what_is_not_a_fleet_report_is_refused(report, says):
    assert refused([("x.json", report)]).startswith(says)


def test_nothing_to_merge_is_refused():
    assert refused([]).startswith("there is no slice report to merge: run the sliced job with failover_report_slice")


def test_slices_with_different_policies_or_titles_are_refused():
    other = report_of("drift", "2", ["b"], "77", policy={"standby_template": "{master}sb"})
    msg = refused(slices(**{"1": ["a"]}) + [("fleet-report.slice-2.json", other)])
    assert msg.startswith("fleet-report.slice-1.json and fleet-report.slice-2.json have different policies "
                          "(standby_template ('{master}nsby' / '{master}sb'))")
    titled = report_of("drift", "2", ["b"], "77", title="Nightly")
    msg = refused(slices(**{"1": ["a"]}) + [("fleet-report.slice-2.json", titled)])
    assert msg.startswith("fleet-report.slice-1.json and fleet-report.slice-2.json have different titles "
                          "('Failover fleet drift report' / 'Nightly')")
