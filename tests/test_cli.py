"""The command-line framework every sub-command shares: exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shenjing as sj
from shenjing import cli
from shenjing.cli import info


def test_every_command_is_available_and_has_an_example(capsys):
    parser = cli.build_parser()
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([name, "--help"])
        assert exit_info.value.code == 0
        text = capsys.readouterr().out
        assert f"shenjing {name}" in text and "--debug" in text and "--quiet" in text
        assert "Example" in text, name


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_unknown_command_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["trian"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid choice: 'trian'" in err and "\n" not in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"shenjing {sj.__version__}"


def _failing(exc):
    def run(args):
        raise exc

    return run


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (sj.DataError("data.csv: line 3 has 2 fields, expected 4"), 1, "line 3 has 2 fields"),
        (cli.CommandError("--hidden: expected widths like 64,64", code=2), 2, "--hidden"),
        (FileNotFoundError(2, "No such file or directory", "nope.shj"), 1, "nope.shj"),
        (ZeroDivisionError("division by zero"), 1, "internal error"),
    ],
)
def test_failures_are_one_line_on_stderr(monkeypatch, capsys, tmp_path, exc, code, text):
    monkeypatch.setattr(info, "run", _failing(exc))
    assert cli.main(["info", str(tmp_path / "m.shj")]) == code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shenjing info: ") and text in lines[0]
    assert "Traceback" not in captured.err and captured.out == ""


def test_debug_shows_the_traceback(monkeypatch, tmp_path):
    monkeypatch.setattr(info, "run", _failing(ZeroDivisionError("boom")))
    with pytest.raises(ZeroDivisionError, match="boom"):
        cli.main(["info", str(tmp_path / "m.shj"), "--debug"])


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(info, "run", _failing(BrokenPipeError(32, "Broken pipe")))
    assert cli.main(["info", str(tmp_path / "m.shj")]) == 1
    assert capsys.readouterr().err == ""


def test_console_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "shenjing", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for name in cli.COMMANDS:
        assert name in out
