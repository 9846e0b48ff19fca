# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""prometheus_textfile: atomic write (a concurrent reader never sees half a file),
check mode, diff, idempotence and bad input -- on real files in tmp_path."""

from __future__ import annotations

import os
import threading

from module_run import run_main

from ansible_collections.virtnet.failover.plugins.modules import prometheus_textfile as mod

CONTENT = '# HELP virtnet_failover_groups Failover groups.\n# TYPE virtnet_failover_groups gauge\nvirtnet_failover_groups 1\n'


def run(capsys, **args):
    return run_main(mod.main, args, capsys)


def test_write_then_idempotent(tmp_path, capsys):
    path = str(tmp_path / "virtnet_failover.prom")
    res = run(capsys, path=path, content=CONTENT)
    assert res["rc"] == 0 and res["changed"] is True and res["size"] == len(CONTENT)
    with open(path) as fh:
        assert fh.read() == CONTENT
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"
    assert os.listdir(str(tmp_path)) == ["virtnet_failover.prom"]  # no temporary file left
    res = run(capsys, path=path, content=CONTENT.rstrip("\n"))  # final newline added, so same content
    assert res["changed"] is False


def test_check_mode_and_diff(tmp_path, capsys):
    path = str(tmp_path / "x.prom")
    res = run(capsys, path=path, content=CONTENT, _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and not os.path.exists(path)
    assert res["diff"]["before"] == "" and res["diff"]["after"] == CONTENT
    run(capsys, path=path, content=CONTENT)
    res = run(capsys, path=path, content=CONTENT.replace(" 1\n", " 2\n"), _ansible_check_mode=True, _ansible_diff=True)
    assert res["changed"] is True and res["diff"]["before"] == CONTENT
    with open(path) as fh:
        assert fh.read() == CONTENT  # check mode wrote nothing


def test_bad_input_changes_nothing(tmp_path, capsys):
    missing = tmp_path / "no-such-dir"
    res = run(capsys, path=str(missing / "x.prom"), content=CONTENT)
    assert res["rc"] == 1 and "does not exist" in res["msg"] and "--collector.textfile.directory" in res["msg"]
    assert not missing.exists()
    res = run(capsys, path=str(tmp_path / "x.txt"), content=CONTENT)
    assert res["rc"] == 1 and "must end in .prom" in res["msg"]
    res = run(capsys, path="relative/x.prom", content=CONTENT)
    assert res["rc"] == 1 and "must be absolute" in res["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_concurrent_reader_sees_whole_files(tmp_path, capsys):
    """node_exporter may read at any moment: every read returns one of the complete versions."""
    path = str(tmp_path / "big.prom")
    versions = ["# v%d\n" % n + ("virtnet_failover_groups %d\n" % n) * 400000 for n in range(4)]
    run(capsys, path=path, content=versions[0])
    seen, bad, stop = set(), [], threading.Event()

    def reader():
        while not stop.is_set():
            with open(path) as fh:
                data = fh.read()
            if data in versions:
                seen.add(versions.index(data))
            else:
                bad.append(len(data))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for content in versions[1:]:
            assert run(capsys, path=path, content=content)["changed"] is True
    finally:
        stop.set()
        thread.join()
    assert not bad, "the reader saw %d partial files (sizes %s)" % (len(bad), bad[:5])
    assert len(seen) >= 2


def test_content_that_node_exporter_cannot_parse_is_refused_and_nothing_written(tmp_path, capsys):
    path = str(tmp_path / "x.prom")
    res = run(capsys, path=path, content="# TYPE virtnet_failover_groups gauge\nvirtnet_failover_groups one\n")
    assert res["rc"] == 1 and not os.path.exists(path)
    assert res["msg"] == ("content is not in the Prometheus text format, so node_exporter would drop the file: "
                          "line 2: value 'one' is not a number: 'virtnet_failover_groups one'; nothing was written")


def test_exposition_check_on_generated_and_broken_text():
    from ansible_collections.virtnet.failover.plugins.module_utils.failover_metrics import exposition_problems as check
    assert check(CONTENT) == []
    assert check('a{x="q\\"uote",y="back\\\\slash\\nline"} +Inf 1700000000000\nb NaN\nc -1.5e3\n# any comment\n\n') == []
    assert [p.split(":")[0] for p in check('no value\n# TYPE a gaug\na{x=y} 1\n# HELP\nd one\ne 1 2 3\n')] == [
        "line 1", "line 2", "line 3", "line 4", "line 5"]
    assert len(check("bad line\n" * 20)) == 5  # at most five named
