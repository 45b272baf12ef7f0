"""Tests of bayesbg.stan.StanRunError's extraction of command and console."""

from __future__ import annotations

from bayesbg.stan import StanRunError


def test_command_and_console_tail_from_a_sampling_error(tmp_path):
    console = tmp_path / "model-20260101_1-stdout.txt"
    console.write_text("\n".join(f"line {i}" for i in range(50))
                       + "\nError reading data: variable N not found\n")
    message = (
        "Error during sampling:\nError reading data\nCommand and output files:\n"
        "RunSet: chains=1, chain_ids=[1], num_processes=1\n cmd (chain 1):\n"
        "\t['/cache/model', 'id=1', 'random', 'seed=3', 'data', 'file=/tmp/d.json']\n"
        " retcodes=[1]\n per-chain output files (showing chain 1 only):\n csv_file:\n"
        f"\t/tmp/x.csv\n console_msgs (if any):\n\t{console}\n"
    )
    error = StanRunError.from_cmdstanpy("sampling model", RuntimeError(message))
    assert isinstance(error, RuntimeError)
    assert error.command == "/cache/model id=1 random seed=3 data file=/tmp/d.json"
    assert error.console_tail.endswith("variable N not found")
    assert "line 0" not in error.console_tail
    assert "sampling model failed" in str(error) and error.command in str(error)


def test_optimize_style_message_without_console_file():
    message = "Error during optimization! Command '/m method=optimize' failed: bad init"
    error = StanRunError.from_cmdstanpy("optimising m", RuntimeError(message))
    assert error.command == "/m method=optimize"
    assert "bad init" in error.console_tail
