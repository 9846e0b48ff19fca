# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_bool follows the kernel's kstrtobool() (lib/kstrtox.c): the first
character (two for o/O) decides, everything else is -EINVAL (None)."""

from __future__ import annotations

import pytest

from ansible_collections.virtnet.failover.plugins.module_utils import kernel_bool as kb

# value -> what the kernel makes of it (None: -EINVAL); written out, not computed
KERNEL_TABLE = [
    ('1', True), ('0', False), ('y', True), ('n', False), ('Y', True), ('N', False),
    ('yes', True), ('no', False), ('YES', True), ('No', False), ('on', True), ('off', False),
    ('ON', True), ('OFF', False), ('oN', True), ('Of', False), ('true', True), ('false', False),
    ('True', True), ('FALSE', False), ('t', True), ('f', False), ('T', True), ('F', False),
    # only the first one or two characters count
    ('yellow', True), ('nope', False), ('10', True), ('0x1', False), ('tuesday', True), ('of', False),
    ('Y\n', True),
    # -EINVAL
    ('', None), ('2', None), ('-1', None), ('bogus', None), ('o', None), ('oops', None), ('O', None),
    (' 1', None), ('\n', None), ('enable', None), ('disable', None), (None, None),
]


@pytest.mark.parametrize('text,expected', KERNEL_TABLE)
def test_kstrtobool_matches_the_kernel(text, expected):
    assert kb.kstrtobool(text) is expected


def test_bare_parameter_is_true_and_empty_value_is_invalid():
    # "options failover slave_rename_ok" sets it; "slave_rename_ok=" is -EINVAL
    assert kb.param_bool(None, given=False) is True
    assert kb.param_bool('', given=True) is None
    assert kb.param_bool('0') is False


@pytest.mark.parametrize('value,expected', [
    (True, True), (False, False), (1, True), (0, False), (2, None), (-1, None), (None, None),
    ('yes', True), ('off', False), ('maybe', None),
])
def test_to_bool_for_ansible_values(value, expected):
    assert kb.to_bool(value) is expected
