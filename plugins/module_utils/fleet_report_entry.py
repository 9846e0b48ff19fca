# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One host's entry in a fleet report, from its failover_drift result.

The only definition of a host's report status (ok, drift, unreachable,
skipped, failed or the result's own status) and of the facts a report
keeps: the fleet_report filter builds every entry with it, and
failover_drift renders its node_exporter textfile from the entry of its
own result, so the host's metrics and the fleet report agree.
"""

from __future__ import annotations

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.virtnet.failover.plugins.module_utils.failover_group_health import group_problems

# the schema version of a fleet report (its ``format`` key); the filters and the merge of slices read only this one
FORMAT = "virtnet.failover.fleet_report/1"

# every drift kind failover_drift reports, in report order
KIND_ORDER = ("module_builtin", "dkms_running_kernel", "dkms_next_kernel", "module_not_patched", "param_value",
              "modprobe_file", "modprobe_bad_option", "boot_param", "initramfs", "slave_name")
ITEM_KEYS = ("kind", "subject", "expected", "actual", "message", "remedy")

FACT_KEYS = ("running_kernel", "next_boot_kernel", "dkms_version", "module_mechanism", "patched_module_loaded",
             "slave_rename_ok", "groups", "groups_healthy", "group_problems")


def host_facts(result, require_group=True):
    """The facts of a failover_drift result (or of a rollout record that copied some of them)."""
    if not isinstance(result, dict):
        return {}
    facts = {k: result.get(k) for k in ("running_kernel", "next_boot_kernel", "dkms_version")}
    loaded = result.get("loaded_module")
    if isinstance(loaded, dict):
        facts["module_mechanism"] = loaded.get("live_rename")
        facts["patched_module_loaded"] = bool(loaded.get("loaded") and loaded.get("patched"))
        facts["slave_rename_ok"] = loaded.get("slave_rename_ok")
    if isinstance(result.get("groups"), list):
        problems = group_problems(result["groups"], require_group)
        facts.update(groups=len(result["groups"]), groups_healthy=not problems, group_problems=problems)
    return facts


def host_entry(host, result, fallbacks=(), require_group=True):
    """The report entry of ``host``: facts from ``result``, else from the first of ``fallbacks`` that has them."""
    entry = {"host": host, "status": "ok", "message": "", "drift": []}
    entry.update(dict.fromkeys(FACT_KEYS))
    for source in [host_facts(result, require_group)] + [host_facts(f, require_group) for f in fallbacks]:
        entry.update({k: v for k, v in source.items() if v is not None and entry[k] is None})
    if result is None or not isinstance(result, dict):
        entry.update(status="unreachable", message="no result from this host (unreachable or not run)")
        return entry
    if result.get("unreachable"):
        entry.update(status="unreachable", message=to_text(result.get("msg") or "host unreachable"))
        return entry
    if result.get("skipped") and "drift" not in result:
        entry.update(status="skipped", message=to_text(result.get("skip_reason") or "skipped"))
        return entry
    if result.get("failed"):
        entry.update(status=to_text(result.get("status") or "failed"), message=to_text(result.get("msg") or "failed"))
        return entry
    drift = []
    for item in result.get("drift") or []:
        drift.append({k: (to_text(item.get(k)) if item.get(k) is not None else "") for k in ITEM_KEYS})
    entry["drift"] = drift
    if result.get("status"):
        entry["status"] = to_text(result["status"])
        entry["message"] = to_text(result.get("msg") or "")
    elif drift:
        entry["status"] = "drift"
        entry["message"] = "%d drift item%s" % (len(drift), "" if len(drift) == 1 else "s")
    return entry
