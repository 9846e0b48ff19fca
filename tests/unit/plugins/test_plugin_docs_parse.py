# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's DOCUMENTATION, EXAMPLES and RETURN, and every doc fragment, is a plain string
literal (ansible-test reads them from the source without running it) holding valid YAML -- the
mistake a ': ' inside a plain YAML scalar makes, caught here instead of in `make sanity`."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))
FRAGMENTS = sorted((ROOT / "plugins" / "doc_fragments").glob("*.py"))


def literal_strings(tree, names):
    """{name: value} of the module-level (or class-level) assignments to ``names``; fails unless literals."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in names or (names == "UPPER" and name.isupper()):
                assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str), (
                    "%s must be a plain string literal (ansible-test does not evaluate expressions)" % name)
                out[name] = node.value.value
    return out


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_module_docs_are_yaml_literals(path):
    docs = literal_strings(ast.parse(path.read_text()), ("DOCUMENTATION", "EXAMPLES", "RETURN"))
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    for name, text in docs.items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            pytest.fail("%s of %s is not valid YAML: %s" % (name, path.name, exc))
    assert yaml.safe_load(docs["DOCUMENTATION"])["module"] == path.stem


@pytest.mark.parametrize("path", FRAGMENTS, ids=[p.stem for p in FRAGMENTS])
def test_doc_fragments_are_yaml_literals(path):
    docs = literal_strings(ast.parse(path.read_text()), "UPPER")
    assert docs, "no fragment in %s" % path.name
    for name, text in docs.items():
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            pytest.fail("%s.%s is not valid YAML: %s" % (path.stem, name, exc))
        assert isinstance(data, dict) and data, "%s.%s is empty" % (path.stem, name)
