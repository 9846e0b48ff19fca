# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release people install, built and used the way they do.

From a copy of the checkout's files (tracked and new, not ignored):
``antsibull-changelog generate`` (the committed CHANGELOG.rst must come out
unchanged), ``ansible-galaxy collection build``, ``ansible-galaxy collection install`` into
an EMPTY collections path; then, with ANSIBLE_COLLECTIONS_PATH pointing only at
that install: ``ansible-doc`` for every module and filter, ``ansible-playbook
virtnet.failover.drift --syntax-check``, the drift playbook over the namespace
fleet of test_playbooks_drift.py, ``antsibull-docs lint-collection-docs``, and
the execution-environment definition through ``ansible-builder create`` and
``ansible-builder introspect`` (no container runtime needed).
``antsibull-changelog lint`` runs on the checkout itself.

Set VIRTNET_RELEASE_KEEP=DIR to keep the tarball and its file list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml

from ansible_env import BIN, ROOT, playbook_env
from test_playbooks_drift import DRIFT_HOST, HOSTS, drifted, fleet, run_drift  # noqa: F401  # pylint: disable=unused-import

DEV_ONLY = ("tests/", "molecule/", "bench/", "demo/", ".ci/", ".venv/", ".build/", "Makefile", "requirements.txt",
            "constraints.txt", "docs/lab.md", ".ansible-lint", ".yamllint", ".gitignore")


def tool(name):
    return os.path.join(BIN, name)


def sh(cmd, env=None, cwd=None, timeout=600):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, "%s -> rc %d\n%s\n%s" % (" ".join(cmd), proc.returncode, proc.stdout[-3000:],
                                                          proc.stderr[-3000:])
    return proc.stdout


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Build, install; returns the paths and the installed copy's environment."""
    tmp = tmp_path_factory.mktemp("release")
    src, dist, installed = tmp / "src", tmp / "dist", tmp / "installed"
    files = sh(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT).split("\0")
    for rel in filter(None, files):
        if os.path.isfile(os.path.join(ROOT, rel)):
            os.makedirs(os.path.dirname(str(src / rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), str(src / rel))
    with open(src / "galaxy.yml") as fh:
        version = yaml.safe_load(fh)["version"]
    tools_env = playbook_env(str(src.parent / "none"))  # the venv's ansible-doc on PATH (for the plugin list)
    committed = (src / "CHANGELOG.rst").read_text()
    sh([tool("antsibull-changelog"), "generate"], cwd=str(src), env=tools_env)
    assert (src / "CHANGELOG.rst").read_text() == committed, (
        "CHANGELOG.rst is not what changelogs/changelog.yaml generates: run antsibull-changelog generate")
    sh([tool("ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(src)])
    (tarball,) = list(dist.glob("virtnet-failover-*.tar.gz"))
    installed.mkdir()
    env = playbook_env(str(installed))
    sh([tool("ansible-galaxy"), "collection", "install", "-p", str(installed), str(tarball)], env=env)
    keep = os.environ.get("VIRTNET_RELEASE_KEEP")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(str(tarball), keep)
    return {"tarball": tarball, "installed": installed, "version": str(version), "env": env,
            "root": installed / "ansible_collections" / "virtnet" / "failover"}


def test_changelog_lint_in_the_checkout():
    out = sh([tool("antsibull-changelog"), "lint"], cwd=ROOT, env=playbook_env(ROOT))
    assert out.strip() == "", out


def test_tarball_ships_the_product_not_the_dev_files(release):
    with tarfile.open(str(release["tarball"])) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
    keep = os.environ.get("VIRTNET_RELEASE_KEEP")
    if keep:
        with open(os.path.join(keep, "tarball-files.txt"), "w") as fh:
            fh.write("\n".join(names) + "\n")
    leaked = [n for n in names if n.startswith(DEV_ONLY) or "__pycache__" in n or n.endswith((".pyc", ".ko", ".o"))]
    assert not leaked, leaked
    for wanted in ("MANIFEST.json", "FILES.json", "README.md", "COPYING", "CHANGELOG.rst", "changelogs/changelog.yaml",
                   "meta/runtime.yml", "meta/execution-environment.yml", "requirements-ee.txt", "bindep.txt",
                   "playbooks/drift.yml", "playbooks/rollout.yml", "playbooks/remove.yml", "docs/user-guide.md",
                   "plugins/modules/prometheus_textfile.py", "plugins/filter/fleet_report_junit.py",
                   "plugins/lookup/dkms_identity.py", "plugins/plugin_utils/dkms_identity.py",
                   "roles/kmod/files/virtnet-failover/failover.c", "roles/kmod/files/virtnet-failover/dkms.conf"):
        assert wanted in names, wanted
    changelog = (release["root"] / "CHANGELOG.rst").read_text()
    assert "v%s" % release["version"] in changelog and "Release Summary" in changelog
    assert "prometheus_textfile" in changelog  # new module listed
    with open(release["root"] / "changelogs" / "changelog.yaml") as fh:
        assert release["version"] in yaml.safe_load(fh)["releases"], "galaxy.yml's version has no release entry"


def plugins(root, kind):
    return sorted(n[:-3] for n in os.listdir(str(root / "plugins" / kind)) if n.endswith(".py") and n != "__init__.py")


def test_ansible_doc_every_module_and_filter(release):
    root = release["root"]
    for kind, ptype in (("modules", "module"), ("filter", "filter"), ("lookup", "lookup")):
        names = plugins(root, kind)
        assert names, kind
        out = sh([tool("ansible-doc"), "--json", "-t", ptype] + ["virtnet.failover." + n for n in names],
                 env=release["env"])
        docs = json.loads(out)
        assert sorted(docs) == ["virtnet.failover." + n for n in names], out[:500]
        for name, doc in docs.items():
            assert doc["doc"]["filename"].startswith(str(root)), "%s not from the installed copy" % name
            assert doc["doc"].get("short_description") and (doc.get("examples") or "").strip(), name
    listed = sh([tool("ansible-doc"), "-t", "module", "-l", "virtnet.failover"], env=release["env"])
    assert "virtnet.failover.prometheus_textfile" in listed


def test_syntax_check_from_the_installed_copy(release):
    for playbook in ("drift", "rollout", "remove"):
        sh([tool("ansible-playbook"), "virtnet.failover." + playbook, "--syntax-check", "-i", "localhost,"],
           env=release["env"])


def test_drift_from_the_installed_copy(release, fleet, drifted, tmp_path):  # noqa: F811
    run = run_drift(fleet, tmp_path, playbook="virtnet.failover.drift", collections=str(release["installed"]))
    assert run.rc == 2, run.output[-4000:]
    assert run.report["by_kind"] == {"slave_name": [DRIFT_HOST]}
    assert run.report["summary"]["ok"] == len(HOSTS) - 1


def test_antsibull_docs_lint_of_the_installed_copy(release):
    env = dict(release["env"], PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    sh([tool("antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."], env=env, cwd=str(release["root"]))


def user_guide_ee_example():
    """The execution-environment.yml of docs/user-guide.md, as a user copies it."""
    text = open(os.path.join(ROOT, "docs", "user-guide.md"), encoding="utf-8").read()
    start = text.index("# execution-environment.yml (ansible-builder 3)")
    block = text[start:text.index("```", start)]
    return yaml.safe_load("\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()))


def test_execution_environment_definition(release, tmp_path):
    """The EE of the user guide (ansible-builder v3) with the released collection: `create` writes a build
    context that holds the tarball and installs it, and `introspect` reads the collection's
    meta/execution-environment.yml (jmespath; openssh-client)."""
    ee = user_guide_ee_example()
    tarball_name = "virtnet-failover-%s.tar.gz" % release["version"]
    assert ee["additional_build_files"] == [{"src": tarball_name, "dest": "."}], ee
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": "/build/" + tarball_name, "type": "file"}]
    shutil.copy(str(release["tarball"]), str(tmp_path / tarball_name))
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(ee))
    sh([tool("ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context", "--output-filename",
        "Containerfile"], cwd=str(tmp_path))
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "COPY _build/%s /build/" % tarball_name in containerfile
    assert "ansible-galaxy collection install" in containerfile or "install-from-bindep" in containerfile
    assert (tmp_path / "context" / "_build" / tarball_name).is_file()
    galaxy_requirements = yaml.safe_load((tmp_path / "context" / "_build" / "requirements.yml").read_text())
    assert galaxy_requirements["collections"] == [{"name": "/build/" + tarball_name, "type": "file"}]
    out = sh([tool("ansible-builder"), "introspect", "--sanitize", str(release["installed"])])
    assert "jmespath" in out and "openssh-client" in out, out


def test_every_relative_link_of_the_shipped_docs_resolves_in_the_tarball(release):
    """A Markdown link to a file (not a URL, not an anchor) in a file the tarball ships points at a file the
    tarball ships too: no link to the test suite, the lab or the benchmarks, which stay out of it."""
    import re  # pylint: disable=import-outside-toplevel
    with tarfile.open(str(release["tarball"])) as tar:
        names = set(tar.getnames())
    dead = []
    for name in sorted(n for n in names if n.endswith(".md")):
        text = (release["root"] / name).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(name), target.split("#", 1)[0]))
            if path not in names and not any(n.startswith(path + "/") for n in names):
                dead.append("%s -> %s" % (name, target))
    assert dead == [], "links to files the tarball does not ship:\n" + "\n".join(dead)
