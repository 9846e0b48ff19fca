# -*- coding: utf-8 -*-
# Copyright: virtnet.failover contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover module's modprobe configuration judged against the policy.

Two drift kinds come from here (failover_drift reports them, the kmod role's
verify asserts on the first through kmod_info):

- ``modprobe_file``: the file the kmod role writes is missing, differs from
  the wanted content, or its ``slave_rename_ok`` is not the wanted value;
- ``modprobe_bad_option``: an ``options <module> ...`` line anywhere in the
  configuration modprobe reads, or a ``<module>.<parameter>`` word of the
  kernel command line, gives a parameter the module ignores at load time:
  an unknown name, a ``slave_rename_ok`` value kstrtobool() refuses, or any
  value for the read-only ``live_rename``;
- ``boot_param``: the ``slave_rename_ok`` the module gets at its next load
  is not the policy's, and comes from another modprobe.d file or the kernel
  command line, not from the role's file.

Values are judged with kernel_bool, the kernel's own rule.  Which files
modprobe reads follows kmod: every ``*.conf`` in MODPROBE_DIRS, a file
name in an earlier directory hiding the same name in later ones, parsed in
file name order; a line ending in a backslash continues on the next one; a
line starting with ``#`` is a comment (a ``#`` later in a line is not: the
words after it reach the kernel as parameters).  modprobe passes the
module the parameters of every ``options`` line in that order, then those of
the kernel command line (kmod reads ``/proc/cmdline`` last), and the kernel
keeps the last value of a parameter.  Pure Python.
"""

from __future__ import annotations

import os
import stat

from ansible_collections.virtnet.failover.plugins.module_utils.kernel_bool import param_bool

# The directories kmod (modprobe) reads, in precedence order.
MODPROBE_DIRS = ('/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/lib/modprobe.d',
                 '/usr/lib/modprobe.d')

# Parameters of the patched failover module: the writable bool and the read-only report.
RENAME_PARAM = 'slave_rename_ok'
READ_ONLY_PARAM = 'live_rename'
MODULE_PARAMS = (RENAME_PARAM, READ_ONLY_PARAM)

ROLLOUT = "run the virtnet.failover.rollout playbook for this host"
# The kernel command line of the running boot: modprobe reads module parameters from it too.
CMDLINE = "/proc/cmdline"


def modprobe_file_content(module, slave_rename_ok, dkms_name, dkms_version):
    """The content of the modprobe.d file the kmod role writes."""
    return (
        "# Managed by virtnet.failover.kmod: local changes are overwritten.\n"
        "# Options of the patched %s module (%s %s, DKMS).\n"
        "# %s=1: UP failover slaves may be renamed; 0: such renames fail with EBUSY.\n"
        "options %s %s=%d\n"
        % (module, dkms_name, dkms_version, RENAME_PARAM, module, RENAME_PARAM, int(bool(slave_rename_ok))))


def drift_item(kind, subject, expected, actual, message, remedy):
    """One drift item, the shape failover_drift returns."""
    return {"kind": kind, "subject": subject, "expected": expected, "actual": actual,
            "message": message, "remedy": remedy}


def modprobe_file_items(path, module, wanted, content, modprobe):
    """Drift of the file the kmod role writes (kind ``modprobe_file``).

    ``modprobe`` is kmod_files.read_modprobe_conf(path); ``content`` the exact
    wanted content (None: only ``slave_rename_ok`` is compared with
    ``wanted``; ``wanted`` None: not compared)."""
    remedy = "%s (the kmod role writes %s)" % (ROLLOUT, path)
    if not modprobe["exists"]:
        return [drift_item("modprobe_file", path, "present", "missing",
                           "%s is missing: the module loads with its built-in default at the next boot" % path,
                           remedy)]
    if content is not None:
        if modprobe["content"].rstrip("\n") != content.rstrip("\n"):
            return [drift_item("modprobe_file", path, content.rstrip("\n"), modprobe["content"].rstrip("\n"),
                               "%s differs from the policy content" % path, remedy)]
        return []
    if wanted is None:
        return []
    opts = modprobe["options"].get(module.replace("-", "_"), {})
    if RENAME_PARAM in opts and opts[RENAME_PARAM] is None:
        raw, shown = "", RENAME_PARAM  # a bare name: the kernel sets the bool to true
        value = param_bool(None, given=False)
    else:
        raw = opts.get(RENAME_PARAM)
        shown = "%s=%s" % (RENAME_PARAM, raw) if raw is not None else "no %s option" % RENAME_PARAM
        value = param_bool(raw) if raw is not None else None
    if value != wanted:
        return [drift_item("modprobe_file", path, "options %s %s=%d" % (module, RENAME_PARAM, int(wanted)), shown,
                           "%s sets %s=%s, the policy wants %d" % (path, RENAME_PARAM,
                                                                   raw if raw is not None else "nothing",
                                                                   int(wanted)), remedy)]
    return []


def config_files(dirs=MODPROBE_DIRS):
    """The modprobe.d files modprobe reads, in the order it parses them:
    every ``*.conf`` (not hidden) of ``dirs``, sorted by file name, a name in
    an earlier directory hiding the same name in later ones."""
    chosen = {}
    for directory in dirs:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name.startswith('.') or not name.endswith('.conf') or name in chosen:
                continue
            path = os.path.join(directory, name)
            if os.path.isdir(path):
                continue
            chosen[name] = path
    return [chosen[name] for name in sorted(chosen)]


def _logical_lines(text):
    """(first line number, line) with backslash-continued lines joined."""
    pending, start = None, 0
    for number, line in enumerate(text.split('\n'), 1):
        if pending is None:
            start, pending = number, ''
        if line.endswith('\\'):
            pending += line[:-1]
            continue
        yield start, pending + line
        pending = None
    if pending:
        yield start, pending


def _split_params(text):
    """The kernel's split of a parameter string (next_arg): words apart at
    whitespace outside double quotes; (name, value or None when no '=')."""
    words, word, quoted, started = [], '', False, False
    for ch in text:
        if ch == '"':
            quoted, started = not quoted, True
            continue
        if ch.isspace() and not quoted:
            if started:
                words.append(word)
            word, started = '', False
            continue
        word += ch
        started = True
    if started:
        words.append(word)
    params = []
    for w in words:
        name, sep, value = w.partition('=')
        params.append((name, value if sep else None))
    return params


def _option_lines(text):
    """(line number, module with '_' for '-', [(name, value or None)]) of
    each ``options`` line of a modprobe.d file, as modprobe and the kernel read it."""
    for number, line in _logical_lines(text):
        if not line or line[0] == '#':
            continue
        words = line.split(None, 2)
        if len(words) < 3 or words[0] != 'options':
            continue
        yield number, words[1].replace('-', '_'), _split_params(words[2])


def text_options(text):
    """{module: {parameter: value, or None for a bare name}} of one file's
    ``options`` lines; a later line overrides an earlier one."""
    out = {}
    for _number, module, params in _option_lines(text):
        out.setdefault(module, {}).update(params)
    return out


def module_options(files, module):
    """Every parameter ``options <module>`` lines in ``files`` give:
    dicts of path, line, name (as written), value (None without '=')."""
    base = module.replace('-', '_')
    found = []
    for path in files:
        try:
            with open(path, 'r', encoding='utf-8', errors='replace') as fh:
                text = fh.read()
        except OSError:
            continue
        for number, mod, params in _option_lines(text):
            if mod == base:
                found += [{"path": path, "line": number, "name": name, "value": value} for name, value in params]
    return found


def cmdline_words(text):
    """The words of a kernel command line as the kernel splits them: blanks separate, double quotes keep
    blanks inside a word and are dropped; a ``--`` word ends the kernel's part (the rest goes to init)."""
    words, cur, quoted, started = [], [], False, False
    for ch in text:
        if ch == '"':
            quoted, started = not quoted, True
        elif ch.isspace() and not quoted:
            if started:
                words.append(''.join(cur))
            cur, started = [], False
        else:
            cur.append(ch)
            started = True
    if started:
        words.append(''.join(cur))
    return words[:words.index('--')] if '--' in words else words


def cmdline_options(text, module, source=CMDLINE):
    """The ``<module>.<parameter>[=value]`` words of a kernel command line, in module_options()'s shape (path
    ``source``, line None); '-' and '_' are alike in the module name, as modprobe reads them."""
    base = module.replace('-', '_')
    found = []
    for word in cmdline_words(text):
        key, eq, value = word.partition('=')
        mod, dot, name = key.partition('.')
        if dot and name and mod.replace('-', '_') == base:
            found.append({"path": source, "line": None, "name": name, "value": value if eq else None})
    return found


def _subject(option):
    return option["path"] if option["line"] is None else "%s:%d" % (option["path"], option["line"])


def _shown(option):
    return option["name"] if option["value"] is None else "%s=%s" % (option["name"], option["value"])


def bad_option_items(options, module, modprobe_file=None):
    """Items (kind ``modprobe_bad_option``) for the parameters of
    module_options() that the module ignores at load time."""
    items = []
    for opt in options:
        subject = _subject(opt)
        name = opt["name"].replace('-', '_')  # the kernel treats '-' and '_' in parameter names alike
        remedy = ("remove or fix %s.%s on the kernel command line (the boot loader's configuration)"
                  % (module, opt["name"]) if opt["line"] is None else "remove or fix the option in %s" % opt["path"])
        if modprobe_file:
            remedy += " (the kmod role writes %s=1 or 0 in %s)" % (RENAME_PARAM, modprobe_file)
        if name == RENAME_PARAM:
            if param_bool(opt["value"], given=opt["value"] is not None) is not None:
                continue
            items.append(drift_item(
                "modprobe_bad_option", subject, "%s=1 or %s=0" % (RENAME_PARAM, RENAME_PARAM), _shown(opt),
                "%s gives %s %s, which is not a boolean the kernel takes (1/0, y/n, yes/no, on/off, true/false): "
                "the module ignores it at load time and keeps its default" % (subject, module, _shown(opt)),
                remedy))
        elif name == READ_ONLY_PARAM:
            items.append(drift_item(
                "modprobe_bad_option", subject, "no %s option (read-only)" % READ_ONLY_PARAM, _shown(opt),
                "%s gives %s %s, but %s is read-only (it reports the rename mechanism): the module ignores "
                "the value" % (subject, module, _shown(opt), READ_ONLY_PARAM), remedy))
        else:
            items.append(drift_item(
                "modprobe_bad_option", subject, "only %s (parameters: %s)" % (RENAME_PARAM, ", ".join(MODULE_PARAMS)),
                _shown(opt),
                "%s gives %s the unknown parameter %s: the kernel ignores it at load time"
                % (subject, module, _shown(opt)), remedy))
    return items


def boot_options(module, dirs=MODPROBE_DIRS, cmdline=CMDLINE):
    """Every parameter the module gets at its next load, in the order modprobe passes them: the ``options``
    lines of every modprobe.d file (module_options()), then the kernel command line (cmdline_options())."""
    options = module_options(config_files(dirs), module)
    try:
        with open(cmdline, 'r', encoding='utf-8', errors='replace') as fh:
            options += cmdline_options(fh.read(), module, cmdline)
    except OSError:
        pass
    return options


def boot_param_items(options, module, wanted, modprobe_file):
    """An item (kind ``boot_param``) when something overrides ``modprobe_file``'s ``slave_rename_ok``: a
    modprobe.d file that modprobe reads after it, or the kernel command line, gives a value the kernel takes
    and that is not ``wanted``, so the module would not get the policy at its next load even with the role's
    file as the policy wants it (modprobe_file_items() judges that file itself).

    ``options``: boot_options(). The role's file counts with ``wanted`` at its place in modprobe's order
    (files by name), whatever it holds now; without a role file (``modprobe_file`` empty) every source counts."""
    if wanted is None:
        return []
    role = os.path.basename(modprobe_file) if modprobe_file else None
    winner, value = None, None
    for opt in options:
        if opt["name"].replace('-', '_') != RENAME_PARAM or opt["path"] == modprobe_file:
            continue
        if role and opt["line"] is not None and os.path.basename(opt["path"]) < role:
            continue  # read before the role's file, which then sets the policy's value
        parsed = param_bool(opt["value"], given=opt["value"] is not None)
        if parsed is not None:
            winner, value = opt, parsed
    if winner is None or value == bool(wanted):
        return []
    where = "the kernel command line" if winner["line"] is None else _subject(winner)
    after = ", which modprobe reads after %s," % modprobe_file if modprobe_file else ""
    return [drift_item(
        "boot_param", _subject(winner), "%s=%d (the policy)" % (RENAME_PARAM, int(bool(wanted))), _shown(winner),
        "%s%s gives %s %s, the value the module takes at its next load, so the policy's %s=%d does not "
        "apply at boot" % (where, after, module, _shown(winner), RENAME_PARAM, int(bool(wanted))),
        ("remove %s.%s from the kernel command line (the boot loader's configuration), then reboot"
         % (module, winner["name"]) if winner["line"] is None else
         "remove the option from %s (the kmod role writes %s in %s)" % (winner["path"], RENAME_PARAM, modprobe_file)))]


def file_is_current(path, content, uid=0, gid=0, mode=0o644):
    """Whether ``path`` is already the file the kmod role writes: a regular
    file (not a link) with exactly ``content``, owned by ``uid``:``gid`` with
    ``mode``.  False when it cannot be read."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) != (uid, gid, mode):
            return False
        with open(path, 'rb') as f:
            return f.read() == content.encode('utf-8')
    except OSError:
        return False
