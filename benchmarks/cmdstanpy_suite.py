"""Run cmdstanpy 1.2.5's own test suite against bayesbg's PyPI-built CmdStan.

cmdstanpy's tests are the most complete statement of what a CmdStan installation must
do for it. Given the path of a cmdstanpy 1.2.5 source tree (the public repository
``stan-dev/cmdstanpy`` at tag ``v1.2.5``, whose ``test/`` holds the tests and their
data), this script

1. creates (once, then reuses) a scratch virtual environment under
   ``<bayesbg cache>/cmdstanpy-suite/`` with ``cmdstanpy==1.2.5`` from PyPI and what the
   test files import (pytest, pytest-order, xarray), with numpy/pandas/xarray versions
   of cmdstanpy 1.2.5's time (see ``REQUIREMENTS``);
2. copies ``test/`` into a scratch directory (the tests compile models into
   ``test/data``; the source tree is never written to);
3. runs each in-scope test file in its own pytest process, with ``CMDSTAN`` set to the
   PyPI-built installation (``test_sample.py`` reloads cmdstanpy modules to simulate
   missing optional packages, which breaks later files in the same process);
4. writes passed / failed / skipped counts per file, the ids of failing tests, the
   out-of-scope tests with their reasons, and the machine's load average to
   ``benchmarks/results/cmdstanpy_suite.json`` (or ``--json FILE``).

In scope: ``test_sample``, ``test_optimize``, ``test_generate_quantities``,
``test_laplace``, ``test_pathfinder``, ``test_variational``, ``test_log_prob``,
``test_model``, ``test_metadata``, ``test_runset``.

Out of scope inside those files (deselected; ``OUT_OF_SCOPE`` holds them with the
reason, ``docs/toolchain.md`` lists them too):

- ``test/test_sample.py::test_bernoulli_bad`` and ``test/test_sample.py::test_save_csv``:
  running as root. They make a directory read-only (``os.mkdir(..., mode=644)``,
  ``os.chmod(dir, S_IREAD)``) and expect writing into it to fail; root writes anyway
  (these containers run as root). Nothing CmdStan does is involved in the failing check.
- ``test/test_sample.py::test_validate_big_run`` and
  ``test/test_sample.py::test_instantiate_from_csvfiles``: fixtures fetched separately.
  They read ``test/data/runset-big/output_icar_nyc-{1,2}.csv`` (git blobs of about 30 MB
  each that the stored snapshot of the repository omits); CSV files written by real
  CmdStan, read by cmdstanpy alone.

The other six files test the official installer and C++ toolchain
(``test_install_cmdstan.py``, ``test_cxx_installation.py``) and cmdstanpy's own argument
objects and helpers (``test_compiler_opts.py``, ``test_cmdstan_args.py``,
``test_utils.py``, ``test_compliance.py``); ``--all`` runs them too, without

- ``test/test_install_cmdstan.py::test_latest_version`` and
  ``test/test_install_cmdstan.py::test_rebuild_bad_path``: official install; they ask
  github.com for the latest CmdStan release, which these machines cannot reach;
- ``test/test_utils.py::test_validate_dir`` and
  ``test/test_cmdstan_args.py::test_args_bad``: running as root (a read-only directory
  again).

Usage::

    python benchmarks/cmdstanpy_suite.py /tmp/cmdstanpy-1.2.5 [--quick] [--json FILE]
        [--cmdstan DIR] [--timeout S]

Get the tree with ``git clone https://github.com/stan-dev/cmdstanpy`` and
``git -C cmdstanpy archive v1.2.5 | tar -x -C /tmp/cmdstanpy-1.2.5`` (or ``git worktree
add``). ``--all`` adds the six other files. ``--quick`` runs a subset (``QUICK``) that
touches each CmdStan behaviour the full run checks (R dump data, models without
parameters, console echo, profiling, log_prob) in a few minutes. ``--cmdstan`` defaults
to the installation the current sources build (``bayesbg setup``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULT = HERE / "results" / "cmdstanpy_suite.json"

CMDSTANPY_VERSION = "1.2.5"
#: What the in-scope test files need, at versions of cmdstanpy 1.2.5's time
#: (cmdstanpy 1.2.5 predates pandas 3 and numpy 2.3).
REQUIREMENTS = [
    f"cmdstanpy=={CMDSTANPY_VERSION}",
    "numpy>=1.26,<2.3",
    "pandas>=2.2,<2.3",
    "xarray>=2024.6,<2025.2",
    "pytest>=8,<9",
    "pytest-order>=1.3",
]

OTHER_FILES = [
    "test_utils.py",
    "test_cmdstan_args.py",
    "test_compiler_opts.py",
    "test_compliance.py",
    "test_cxx_installation.py",
    "test_install_cmdstan.py",
]

IN_SCOPE = [
    "test_sample.py",
    "test_optimize.py",
    "test_generate_quantities.py",
    "test_laplace.py",
    "test_pathfinder.py",
    "test_variational.py",
    "test_log_prob.py",
    "test_model.py",
    "test_metadata.py",
    "test_runset.py",
]

_ROOT = ("running as root: the test makes a directory read-only and expects the failure "
         "to write there, which root never gets")
_BIG = ("reads test/data/runset-big/output_icar_nyc-{1,2}.csv (git blobs of about 30 MB "
        "each that the stored snapshot of the repository omits; fetch them separately)")

_GITHUB = ("official install: asks github.com for the latest CmdStan release, which "
           "these machines cannot reach")

#: Tests deselected in every run, by pytest node id, with the reason.
OUT_OF_SCOPE = {
    # mkdir(mode=644) then sample(output_dir=<inside it>) must raise ValueError;
    # its first two checks (missing data) are covered by test_bernoulli_good & co.
    "test/test_sample.py::test_bernoulli_bad": _ROOT,
    # chmod(dir, read-only) then save_csvfiles(dir) must raise RuntimeError
    "test/test_sample.py::test_save_csv": _ROOT,
    "test/test_sample.py::test_validate_big_run": _BIG,
    "test/test_sample.py::test_instantiate_from_csvfiles": _BIG,
    # only with --all:
    "test/test_utils.py::test_validate_dir": _ROOT,
    "test/test_cmdstan_args.py::test_args_bad": _ROOT,
    "test/test_install_cmdstan.py::test_latest_version": _GITHUB,
    "test/test_install_cmdstan.py::test_rebuild_bad_path": _GITHUB,
}

#: ``--quick``: one or two tests per CmdStan behaviour, whole small files.
QUICK = [
    "test/test_sample.py::test_bernoulli_good",
    "test/test_sample.py::test_sample_no_params",
    "test/test_sample.py::test_show_console",
    "test/test_sample.py::test_adapt_schedule",
    "test/test_sample.py::test_save_profile",
    "test/test_sample.py::test_json_edges",
    "test/test_optimize.py::test_eight_schools",
    "test/test_log_prob.py",
    "test/test_laplace.py",
]


def _cache_root() -> Path:
    from bayesbg.toolchain import cache_dir  # noqa: PLC0415

    return cache_dir() / "cmdstanpy-suite"


def _default_cmdstan() -> Path:
    from bayesbg.toolchain.install import is_complete, pypi_installation  # noqa: PLC0415

    path = pypi_installation()
    if not is_complete(path):
        raise SystemExit(f"no finished PyPI-built CmdStan at {path}: run `bayesbg setup` first")
    return path


def _check_tree(tree: Path) -> str:
    """Version of the cmdstanpy source tree; exits if it has no tests."""
    if not (tree / "test" / "data").is_dir():
        raise SystemExit(f"{tree}: no test/data directory; expected a cmdstanpy source tree")
    version_file = tree / "cmdstanpy" / "_version.py"
    match = re.search(r"__version__\s*=\s*'([^']+)'", version_file.read_text()) \
        if version_file.is_file() else None
    version = match.group(1) if match else "unknown"
    if version != CMDSTANPY_VERSION:
        print(f"warning: {tree} is cmdstanpy {version}, the out-of-scope list is for "
              f"{CMDSTANPY_VERSION}", file=sys.stderr)
    return version


def _ensure_venv(root: Path) -> Path:
    """A virtual environment with `REQUIREMENTS`, created once per requirement list."""
    key = hashlib.sha256("\n".join(REQUIREMENTS).encode()).hexdigest()[:10]
    target = root / f"venv-{key}"
    python = target / "bin" / "python"
    done = target / ".complete"
    if done.is_file():
        return python
    shutil.rmtree(target, ignore_errors=True)
    print(f"creating {target} with {', '.join(REQUIREMENTS)}", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True)
    done.write_text("\n".join(REQUIREMENTS) + "\n")
    return python


def _parse_junit(report: Path) -> dict:
    """Counts and failing node ids from a pytest JUnit XML report."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failing: list[str] = []
    if not report.is_file():
        return {**counts, "failing": failing}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        node = f"{module}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
            failing.append(node)
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return {**counts, "failing": failing}


# pytest's --deselect matches node id prefixes (test_instantiate_from_csvfiles would
# take test_instantiate_from_csvfiles_fail with it): this plugin deselects exact ids.
_DESELECT_PLUGIN = '''"""Deselect exactly the node ids listed in $CMDSTANPY_SUITE_OUT_OF_SCOPE."""
import os


def pytest_collection_modifyitems(config, items):
    ids = set(os.environ.get("CMDSTANPY_SUITE_OUT_OF_SCOPE", "").splitlines())
    gone = [item for item in items if item.nodeid in ids]
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = [item for item in items if item.nodeid not in ids]
'''


def _run_file(python: Path, work: Path, targets: list[str], cmdstan: Path,
              timeout: float, label: str) -> dict:
    report = work / f"report-{label}.xml"
    log_file = _cache_root() / "logs" / f"{label}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    (work / "_out_of_scope.py").write_text(_DESELECT_PLUGIN)
    cmd = [str(python), "-m", "pytest", *targets, f"--rootdir={work}", "-p", "_out_of_scope",
           "-p", "no:cacheprovider", "-q", "-rN", f"--junitxml={report}",
           "-o", "junit_family=xunit1"]
    env = {**os.environ, "CMDSTAN": str(cmdstan), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": str(work), "CMDSTANPY_SUITE_OUT_OF_SCOPE": "\n".join(OUT_OF_SCOPE)}
    env.pop("STAN_NUM_THREADS", None)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                              timeout=timeout)
        log_file.write_text(proc.stdout + proc.stderr)
        tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
        status = "ok" if proc.returncode in (0, 1) else f"pytest exit {proc.returncode}"
    except subprocess.TimeoutExpired:
        tail, status = [], f"timed out after {timeout:.0f} s"
    result = _parse_junit(report)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["status"] = status
    result["summary"] = tail[0] if tail else ""
    result["log"] = str(log_file)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tree", type=Path, help="cmdstanpy 1.2.5 source tree (with test/)")
    parser.add_argument("--quick", action="store_true", help="a subset (QUICK), minutes")
    parser.add_argument("--all", action="store_true", help="also the six other test files")
    parser.add_argument("--json", type=Path, default=RESULT, help=f"default {RESULT}")
    parser.add_argument("--cmdstan", type=Path, help="CmdStan directory (default: bayesbg's)")
    parser.add_argument("--timeout", type=float, default=3600, help="per file, s")
    args = parser.parse_args(argv)

    tree = args.tree.expanduser().resolve()
    version = _check_tree(tree)
    cmdstan = (args.cmdstan or _default_cmdstan()).expanduser().resolve()
    python = _ensure_venv(_cache_root())
    load_before = os.getloadavg()
    start = time.perf_counter()

    work = Path(tempfile.mkdtemp(prefix="cmdstanpy-suite-"))
    files: dict[str, dict] = {}
    try:
        shutil.copytree(tree / "test", work / "test")
        if args.quick:
            groups: dict[str, list[str]] = {}
            for node in QUICK:
                groups.setdefault(node.split("::")[0].split("/")[-1], []).append(node)
        else:
            names = IN_SCOPE + (OTHER_FILES if args.all else [])
            groups = {name: [f"test/{name}"] for name in names}
        for name, targets in groups.items():
            print(f"{name} ...", end=" ", flush=True)
            files[name] = _run_file(python, work, targets, cmdstan, args.timeout,
                                    name.removesuffix(".py"))
            r = files[name]
            r["in_scope"] = name in IN_SCOPE
            print(f"{r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped "
                  f"({r['seconds']:.0f} s){'' if r['status'] == 'ok' else ', ' + r['status']}",
                  flush=True)
            for node in r["failing"]:
                print(f"    FAILED {node}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    keys = ("passed", "failed", "skipped")
    in_scope = {name: f for name, f in files.items() if f["in_scope"]}
    totals = {key: sum(f[key] for f in in_scope.values()) for key in keys}
    other = {name: f for name, f in files.items() if not f["in_scope"]}
    results = {
        "cmdstanpy_version": version,
        "cmdstan": str(cmdstan),
        "quick": args.quick,
        "all_files": args.all,
        "files": files,
        "totals": totals,
        "all_in_scope_passed": totals["failed"] == 0
        and all(f["status"] == "ok" for f in in_scope.values()),
        "totals_other_files": {key: sum(f[key] for f in other.values()) for key in keys}
        if other else None,
        "out_of_scope": {node: why for node, why in OUT_OF_SCOPE.items()
                         if node.split("::")[0].removeprefix("test/") in files},
        "requirements": REQUIREMENTS,
        "seconds": round(time.perf_counter() - start, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.platform()}",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(f"in scope: {totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['skipped']} skipped ({len(results['out_of_scope'])} out of scope)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    tmp.replace(args.json)
    return results


if __name__ == "__main__":
    main()
