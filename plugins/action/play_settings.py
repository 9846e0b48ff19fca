# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of virtnet.failover.play_settings: refuses a playbook run whose settings are not valid.

Runs in Ansible's worker process, without a module run: it reads the failover_* variables of every host the
run targets from hostvars (inventory, group and host vars, -e) and checks them with
plugin_utils/play_settings.py.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.virtnet.failover.plugins.plugin_utils.play_settings import SettingsError, check_hosts

ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    pattern=dict(type="raw", required=True),
)
PREFIX = "failover_"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        hosts = args["hosts"]
        result.update(changed=False, hosts=len(hosts))
        if not hosts:
            result.update(failed=True, msg="the host pattern %r (failover_hosts, default all) matches no host of the "
                                           "inventory: nothing would be checked or changed; fix the inventory or "
                                           "failover_hosts (ansible-inventory --graph lists the groups)"
                                           % (args["pattern"],))
            return result
        hostvars = task_vars["hostvars"]
        per_host = {}
        for host in hosts:
            hv = hostvars[host]
            per_host[host] = {name: hv[name] for name in hv if name.startswith(PREFIX)}
        try:
            # failover_report_slice=awx needs AWX's job id (an extra var of every AWX job, so of every host)
            check_hosts(per_host, awx_job_id=self._templar.template(task_vars.get("awx_job_id")))
        except SettingsError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result["msg"] = "the failover_* settings of %d host(s) are valid" % len(hosts)
        return result
