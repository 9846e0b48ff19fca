# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Naming policy for failover slaves: rendering, validation, rename plans.

Pure Python (no netlink), standard library only: the modules feed it what
failover_netlink saw, and the slave_names role installs this same file next
to its udev helper, which feeds it what sysfs shows.
"""

from __future__ import annotations

import string

ROLES = ("standby", "primary")
DEFAULT_TEMPLATES = {"standby": "{master}nsby", "primary": "{master}npri"}
TEMPLATE_FIELDS = ("master", "master_index")
IFNAMSIZ = 16  # including the terminating NUL
TEMP_PREFIX = "vnfotmp"
STANDBY_ALIASES = ("sby", "standby")
PRIMARY_ALIASES = ("pri", "primary")


class PolicyError(Exception):
    """One or more problems with the requested names; nothing was renamed."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def policy_argument_spec():
    """The module options of a naming policy (standby_template, primary_template, names)."""
    return dict(
        standby_template=dict(type="str", default=DEFAULT_TEMPLATES["standby"]),
        primary_template=dict(type="str", default=DEFAULT_TEMPLATES["primary"]),
        names=dict(type="list", elements="dict", default=[], options=dict(
            master=dict(type="str", required=True),
            standby=dict(type="str"),
            primary=dict(type="str"),
        )),
    )


def ifname_problem(name):
    """Why ``name`` cannot be a Linux interface name, or None if it can."""
    if name is None or name == "":
        return "is empty"
    if not isinstance(name, str):
        return "is not a string"
    size = len(name.encode("utf-8"))
    if size > IFNAMSIZ - 1:
        return "is %d bytes long; Linux interface names are at most %d bytes" % (size, IFNAMSIZ - 1)
    if name in (".", ".."):
        return "is reserved ('.' and '..' are not allowed)"
    for char in name:
        if char == "/":
            return "contains '/'"
        if char == ":":
            return "contains ':' (reserved for alias labels)"
        if char.isspace():
            return "contains whitespace"
        if not char.isprintable():
            return "contains a non-printable character (%r)" % char
    return None


def check_template(template, role):
    """Raise PolicyError unless ``template`` only uses known placeholders."""
    if template is None or template == "":
        return
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PolicyError("%s_template %r is not a valid template: %s (write literal braces as '{{' and '}}')"
                          % (role, template, exc))
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or spec or conversion:
            raise PolicyError(
                "%s_template %r uses the unknown placeholder {%s%s%s}; allowed placeholders: %s "
                "(no conversions or format specs)"
                % (role, template, field, ("!" + conversion) if conversion else "", (":" + spec) if spec else "",
                   ", ".join("{%s}" % f for f in TEMPLATE_FIELDS)))


def render(template, master, master_index):
    """Render a checked template for one master."""
    return template.format(master=master, master_index=master_index)


class Policy:
    """Expected slave names: per-master explicit names, else templates.

    A template of '' (or None) leaves that role unmanaged.
    ``names`` is a list of {master, standby, primary} dicts.
    """

    def __init__(self, standby_template=DEFAULT_TEMPLATES["standby"],
                 primary_template=DEFAULT_TEMPLATES["primary"], names=None):
        self.templates = {"standby": standby_template or None, "primary": primary_template or None}
        for role in ROLES:
            check_template(self.templates[role], role)
        self.names = {}
        problems = []
        for entry in names or ():
            master = entry.get("master")
            if not master:
                problems.append("every entry of 'names' needs a 'master'")
                continue
            if master in self.names:
                problems.append("'names' lists master %r twice" % master)
                continue
            roles = {role: entry.get(role) for role in ROLES if entry.get(role) is not None}
            if not roles:
                problems.append("'names' entry for master %r gives neither 'standby' nor 'primary'" % master)
            self.names[master] = roles
        if problems:
            raise PolicyError(problems)

    def name_problems(self):
        """Why explicit names cannot be interface names, each naming its entry; empty when all can.

        failover_slave_name reports these per group when it plans; the policy checks
        (failover_naming_policy, failover_udev_naming) refuse them up front."""
        problems = []
        for master, roles in self.names.items():
            for role in ROLES:
                if role in roles:
                    why = ifname_problem(roles[role])
                    if why:
                        problems.append("name %r from names[%s].%s %s" % (roles[role], master, role, why))
            if roles.get("standby") is not None and roles.get("standby") == roles.get("primary"):
                problems.append("names[%s] gives both slaves the name %r" % (master, roles["standby"]))
        return problems

    def expected(self, master, master_index, role):
        """(expected name or None, problem or None) for one slave role."""
        explicit = self.names.get(master, {})
        if role in explicit:
            name = explicit[role]
            source = "names[%s].%s" % (master, role)
        elif self.templates[role]:
            name = render(self.templates[role], master, master_index)
            source = "%s_template %r" % (role, self.templates[role])
        else:
            return None, None
        problem = ifname_problem(name)
        if problem:
            return None, "%s of master %s: name %r from %s %s" % (role, master, name, source, problem)
        return name, None

    def as_dict(self):
        return {
            "standby_template": self.templates["standby"] or "",
            "primary_template": self.templates["primary"] or "",
            "names": [dict(master=m, **roles) for m, roles in sorted(self.names.items())],
        }


def slave_roles(slaves, drivers):
    """Assign roles deterministically.

    standby: phys_port_name 'sby', else driver virtio_net, else ifalias
    'sby'/'standby' (lowest ifindex within the first matching rule);
    primary: ifalias 'pri'/'primary', else the lowest-ifindex remaining slave.
    Returns (standby, primary, others).
    """
    ordered = sorted(slaves, key=lambda lk: lk.index)
    standby = None
    for rule in (lambda lk: lk.phys_port_name == "sby",
                 lambda lk: drivers.get(lk.index) == "virtio_net",
                 lambda lk: (lk.alias or "").strip().lower() in STANDBY_ALIASES):
        match = [lk for lk in ordered if rule(lk)]
        if match:
            standby = match[0]
            break
    rest = [lk for lk in ordered if lk is not standby]
    primary = None
    marked = [lk for lk in rest if (lk.alias or "").strip().lower() in PRIMARY_ALIASES]
    if marked:
        primary = marked[0]
    elif rest:
        primary = rest[0]
    others = [lk for lk in rest if lk is not primary]
    return standby, primary, others


class Rename:
    __slots__ = ("master", "role", "index", "old", "new")

    def __init__(self, master, role, index, old, new):
        self.master = master
        self.role = role
        self.index = index
        self.old = old
        self.new = new

    def as_dict(self):
        return {"master": self.master, "role": self.role, "from": self.old, "to": self.new}

    def __repr__(self):
        return "Rename(%s/%s %s->%s)" % (self.master, self.role, self.old, self.new)


def plan_renames(groups, names_in_use, policy, other_masters=()):
    """Renames needed to make ``groups`` follow ``policy``.

    groups: iterable of (master_name, master_index, {role: (ifindex, name)}).
    names_in_use: {name: (ifindex, is_altname)} for every link of the netns.
    other_masters: failover masters left out on purpose (their ``names``
    entries are not an error).
    Raises PolicyError listing every problem; returns a list of Rename.
    """
    problems = []
    plan = []
    known_masters = set(other_masters)
    for master, master_index, slaves in groups:
        known_masters.add(master)
        for role in ROLES:
            if role not in slaves:
                if role in policy.names.get(master, {}):
                    problems.append("names[%s].%s is set but master %s has no %s slave" % (master, role, master, role))
                continue
            index, current = slaves[role]
            want, problem = policy.expected(master, master_index, role)
            if problem:
                problems.append(problem)
            elif want is not None and want != current:
                plan.append(Rename(master, role, index, current, want))
    for master in policy.names:
        if master not in known_masters:
            problems.append("names lists master %r, which is not a failover master here" % master)
    moving = {r.index for r in plan}
    seen = {}
    for ren in plan:
        if ren.new in seen:
            other = seen[ren.new]
            problems.append("duplicate target %r: wanted for %s of %s and for %s of %s"
                            % (ren.new, other.role, other.master, ren.role, ren.master))
            continue
        seen[ren.new] = ren
        owner = names_in_use.get(ren.new)
        if owner is None:
            continue
        owner_index, is_alt = owner
        if is_alt:
            problems.append("target %r for %s of %s is already an alternative name of ifindex %d; "
                            "remove it (ip link property del dev ... altname %s) or choose another name"
                            % (ren.new, ren.role, ren.master, owner_index, ren.new))
        elif owner_index != ren.index and owner_index not in moving:
            problems.append("target %r for %s of %s is already used by another interface (ifindex %d) "
                            "that this run does not rename; rename or remove it first, or choose another name"
                            % (ren.new, ren.role, ren.master, owner_index))
    if problems:
        raise PolicyError(problems)
    return plan


def order_renames(plan, names_in_use):
    """Order ``plan`` so no step hits a name still in use.

    Chains are done back to front; cycles (swaps) go through a temporary
    name.  Returns a list of (ifindex, from, to) steps.
    """
    current = {r.index: r.old for r in plan}
    target = {r.index: r.new for r in plan}
    used = set(names_in_use)
    steps = []
    pending = [r.index for r in plan]
    serial = 0
    while pending:
        progress = False
        for index in list(pending):
            if target[index] not in used:
                steps.append((index, current[index], target[index]))
                used.discard(current[index])
                used.add(target[index])
                current[index] = target[index]
                pending.remove(index)
                progress = True
        if pending and not progress:
            index = pending[0]
            while True:
                serial += 1
                temp = "%s%d" % (TEMP_PREFIX, serial)
                if temp not in used and all(temp != t for t in target.values()):
                    break
            steps.append((index, current[index], temp))
            used.discard(current[index])
            used.add(temp)
            current[index] = temp
    return steps


def diff_text(groups_names):
    """One line per slave: '<master> <role>: <name>' (for --diff)."""
    lines = []
    for master, roles in groups_names:
        for role in ROLES:
            if roles.get(role) is not None:
                lines.append("%s %s: %s" % (master, role, roles[role]))
    return "\n".join(lines) + ("\n" if lines else "")
