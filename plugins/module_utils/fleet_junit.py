# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet report (virtnet.failover.fleet_report/1) as JUnit XML.

One ``testsuite`` (the report), one ``testcase`` per host (classname
``virtnet.failover.<suite>``). A host with drift gets one ``failure`` per drift
item (type = drift kind); a host that could not be checked (unreachable,
failed, any other status but ok/drift/skipped) gets one ``error`` (type =
status); a skipped host gets ``skipped``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

CHECKED = ("ok", "drift")


def _failure_text(item):
    return "\n".join("%s: %s" % (key, item.get(key) or "") for key in ("subject", "expected", "actual", "remedy"))


def junit_xml(report, suite="drift"):
    """The JUnit XML document (str, with an XML declaration) for ``report``."""
    hosts = report.get("hosts") or []
    failures = sum(len(h.get("drift") or []) for h in hosts if h.get("status") in CHECKED)
    skipped = sum(1 for h in hosts if h.get("status") == "skipped")
    errors = sum(1 for h in hosts if h.get("status") not in CHECKED + ("skipped",))
    counts = {"tests": str(len(hosts)), "failures": str(failures), "errors": str(errors), "skipped": str(skipped)}
    root = ET.Element("testsuites", dict(name=report.get("title") or "virtnet.failover", **counts))
    attrs = dict(name=report.get("title") or "virtnet.failover", **counts)
    if report.get("generated_at"):
        attrs["timestamp"] = str(report["generated_at"])
    ts = ET.SubElement(root, "testsuite", attrs)
    classname = "virtnet.failover.%s" % suite
    for host in hosts:
        case = ET.SubElement(ts, "testcase", {"classname": classname, "name": host["host"]})
        status = host.get("status")
        if status in CHECKED:
            for item in host.get("drift") or []:
                el = ET.SubElement(case, "failure", {"type": item.get("kind") or "drift",
                                                     "message": item.get("message") or item.get("kind") or "drift"})
                el.text = _failure_text(item)
        elif status == "skipped":
            ET.SubElement(case, "skipped", {"message": host.get("message") or "skipped"})
        else:
            el = ET.SubElement(case, "error", {"type": status or "unknown",
                                               "message": host.get("message") or status or "not checked"})
            el.text = "%s: %s" % (status, host.get("message") or "")
        keys = ("running_kernel", "next_boot_kernel", "dkms_version", "module_mechanism")
        facts = ["%s: %s" % (key, host.get(key)) for key in keys if host.get(key) is not None]
        if facts:
            ET.SubElement(case, "system-out").text = "\n".join(facts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
