"""Compile Stan programs once, into a content-addressed cache shared across processes.

A compiled model lives in ``<cache>/models/<key>/``, where ``<cache>`` is
``$BAYESBG_CACHE_DIR`` (default ``~/.cache/bayesbg``) and ``<key>`` is a SHA-256 over

- the program's file name and text,
- the name and text of every file it ``#include``\\ s (searched, recursively, in the
  include paths; by default ``<program dir>/functions``),
- the stanc and C++ (make) options,
- the CmdStan installation: its version and its directory (bayesbg's PyPI-built CmdStan
  has a hash of its driver sources in its directory name, so a new driver means new
  executables), and
- only when a make variable contains ``-march=native``: the CPU (its ``/proc/cpuinfo``
  model name and a hash of its flags), since such an executable may not run on another
  CPU. Every other model's key is the same as without this rule.

The directory holds copies of the program (``<name>.stan``) and of its includes
(``include/``), the executable and ``key.json``, written last as the mark of a finished
compile. A key that is found finished is loaded with ``CmdStanModel(stan_file=...,
exe_file=...)``, which in cmdstanpy 1.3.2 never recompiles (it compiles only when no
``exe_file`` is given). Compiling happens under an exclusive ``fcntl`` lock on
``<cache>/models/<key>.lock``, so two processes asking for the same model wait for one
compile; nothing is keyed on timestamps, so a cache restored by CI is used as is.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import platform
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cmdstanpy

from bayesbg.atomic import write_text_atomic
from bayesbg.logs import library_chatter_to_log
from bayesbg.stan.errors import StanRunError, tail
from bayesbg.stan.programs import program_names, stan_model_file, stan_models_dir
from bayesbg.toolchain import cache_dir, ensure_cmdstan

__all__ = ["ProgramStatus", "check_programs", "compile_model", "model_cache_key"]

log = logging.getLogger(__name__)

_KEY_FORMAT = 1
_INCLUDE_RE = re.compile(r'^\s*#include\s*[<"]?\s*([^>"\s]+)\s*[>"]?', re.MULTILINE)


def model_cache_key(
    stan_file: str | Path,
    *,
    threads: bool = False,
    cpp_options: Mapping[str, Any] | None = None,
    stanc_options: Mapping[str, Any] | None = None,
    include_paths: Sequence[str | Path] | None = None,
    cmdstan: str | Path | None = None,
) -> str:
    """SHA-256 (hex) identifying a compiled model; see the module docstring.

    :func:`compile_model` stores the model under the first 20 hex digits of this key
    (with ``cmdstan`` the CmdStan directory in use).

    Parameters
    ----------
    stan_file : str or `~pathlib.Path`
        The Stan program.
    threads, cpp_options, stanc_options, include_paths
        As for :func:`compile_model`.
    cmdstan : str or `~pathlib.Path`, optional
        CmdStan directory; its version and resolved path enter the key. Default: none
        (a key for comparisons only, never equal to a compiled model's).

    Returns
    -------
    key : str
        64 hex digits.
    """
    stan_file = Path(stan_file).resolve()
    includes = _resolve_includes(stan_file, _include_dirs(stan_file, include_paths))
    cpp = _make_variables(cpp_options, threads)
    stanc = _stanc_options(stanc_options)
    installation = _cmdstan_id(Path(cmdstan)) if cmdstan is not None else ""
    return _key(stan_file, includes, stanc, cpp, installation)[0]


def compile_model(
    stan_file: str | Path,
    *,
    threads: bool = False,
    cpp_options: Mapping[str, Any] | None = None,
    stanc_options: Mapping[str, Any] | None = None,
    include_paths: Sequence[str | Path] | None = None,
    user_header: str | Path | None = None,
    cache: str | Path | None = None,
) -> cmdstanpy.CmdStanModel:
    """Compile a Stan program, or load it from the cache if it was compiled before.

    Parameters
    ----------
    stan_file : str or `~pathlib.Path`
        The Stan program, e.g. ``stan_model_file("template_fit")``.
    threads : bool
        Compile with ``STAN_THREADS`` (needed for ``reduce_sum`` with
        ``threads_per_chain > 1``). Default is False.
    cpp_options : mapping, optional
        Extra make variables, e.g. ``{"STAN_THREADS": True}`` (what ``threads`` sets);
        ``True`` is passed as ``true`` and a ``False`` variable is left out.
    stanc_options : mapping, optional
        Extra stanc options, e.g. ``{"O1": True}``. Include paths are set by bayesbg.
    include_paths : sequence of path, optional
        Directories searched for ``#include`` files. Default is ``<program dir>/functions``
        (``stan_models/functions/*.stanfunctions``).
    user_header : str or `~pathlib.Path`, optional
        C++ header defining functions the program declares without a body (e.g.
        ``stan_models/functions/populated_bins_loglik.hpp``); compiles with stanc's
        ``--allow-undefined``. Its text is part of the cache key. Default: the header a
        program names in a ``// bayesbg-user-header: NAME`` comment, if any.
    cache : str or `~pathlib.Path`, optional
        Cache root; default is :func:`cache_dir`. Models go to ``<cache>/models/<key>/``.

    Returns
    -------
    model : `cmdstanpy.CmdStanModel`
        Its ``exe_file`` and ``stan_file`` point into the cache directory.

    Raises
    ------
    bayesbg.toolchain.CmdStanNotFoundError
        If no CmdStan installation is found (run ``bayesbg setup``).
    FileNotFoundError
        If the program or one of its includes does not exist.
    StanRunError
        If stanc or the C++ compiler fails (command and console tail in the message).
    """
    cmdstan = ensure_cmdstan()
    stan_file = Path(stan_file).resolve()
    if not stan_file.is_file():
        raise FileNotFoundError(f"stan_file: {stan_file} does not exist")
    if stan_file.suffix != ".stan":
        raise ValueError(f"stan_file: expected a .stan file, found {stan_file.name}")
    cpp = _make_variables(cpp_options, threads)
    stanc = _stanc_options(stanc_options)

    installation = _cmdstan_id(cmdstan)
    includes = _resolve_includes(stan_file, _include_dirs(stan_file, include_paths))
    header_relative = None
    if user_header is None:
        user_header = _declared_user_header(stan_file, _include_dirs(stan_file, include_paths))
    if user_header is not None:
        header = Path(user_header).resolve()
        if not header.is_file():
            raise FileNotFoundError(f"user_header: {header} does not exist")
        header_relative = f"user_header/{header.name}"
        includes = [*includes, (header_relative, header)]
        stanc = {**stanc, "allow-undefined": True}
    key, material = _key(stan_file, includes, stanc, cpp, installation)
    models = Path(cache).expanduser() if cache is not None else cache_dir()
    models = models / "models"
    models.mkdir(parents=True, exist_ok=True)
    target = models / key[:20]
    exe_file = target / stan_file.stem
    key_file = target / "key.json"
    stanc_with_includes = {**stanc, "include-paths": [str(target / "include")]}
    if header_relative is not None:  # the copy in the cache, not part of the key
        cpp = {**cpp, "USER_HEADER": str(target / "include" / header_relative)}

    with _locked(models / f"{key[:20]}.lock"):
        if _is_finished(key_file, key) and exe_file.is_file():
            log.debug("reusing compiled model %s (key %s)", exe_file, key[:20])
            with library_chatter_to_log():
                return cmdstanpy.CmdStanModel(
                    stan_file=target / stan_file.name,
                    exe_file=exe_file,
                    stanc_options=stanc_with_includes,
                    cpp_options=cpp or None,
                )
        log.info("compiling %s into %s (CmdStan %s)", stan_file.name, target, installation)
        if target.exists():
            shutil.rmtree(target)
        (target / "include").mkdir(parents=True)
        shutil.copyfile(stan_file, target / stan_file.name)
        for relative, source in includes:
            destination = target / "include" / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
        try:
            with library_chatter_to_log():
                model = cmdstanpy.CmdStanModel(
                    stan_file=target / stan_file.name,
                    stanc_options=stanc_with_includes,
                    cpp_options=cpp or None,
                    force_compile=True,
                )
        except (RuntimeError, ValueError) as err:
            options = cmdstanpy.compilation.CompilerOptions(
                stanc_options=stanc_with_includes, cpp_options=cpp or None
            )
            options.validate()
            command = " ".join(["make", *options.compose(), str(exe_file)])
            raise StanRunError(
                f"compiling {stan_file.name}", command=f"(cd {cmdstan}) {command}",
                console_tail=tail(str(err), 40),
            ) from err
        write_text_atomic(key_file, json.dumps({"key": key, **material}, indent=2) + "\n")
        return model


_USER_HEADER_RE = re.compile(r"^\s*//\s*bayesbg-user-header:\s*(\S+)\s*$", re.MULTILINE)


def _declared_user_header(stan_file: Path, dirs: Sequence[Path]) -> Path | None:
    """The C++ header a program names in a ``// bayesbg-user-header: NAME`` comment,
    looked up beside the program and in the include directories."""
    match = _USER_HEADER_RE.search(stan_file.read_text(encoding="utf-8"))
    if match is None:
        return None
    for directory in [stan_file.parent, *dirs]:
        candidate = Path(directory) / match.group(1)
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{stan_file.name}: user header {match.group(1)!r} (bayesbg-user-header comment) "
        f"not found beside the program or in {[str(d) for d in dirs]}"
    )


def _make_variables(cpp_options: Mapping[str, Any] | None, threads: bool) -> dict[str, Any]:
    """Make variables: ``threads`` adds STAN_THREADS; True -> "true"; False -> left out
    (CmdStan's makefiles test whether a variable is defined, not its value)."""
    cpp = {**(cpp_options or {}), **({"STAN_THREADS": True} if threads else {})}
    return {k: ("true" if v is True else v) for k, v in cpp.items() if v is not False}


def _stanc_options(stanc_options: Mapping[str, Any] | None) -> dict[str, Any]:
    stanc = dict(stanc_options or {})
    for name in ("include-paths", "include_paths"):
        if name in stanc:
            raise ValueError(f"stanc_options: pass include paths as include_paths=, found {name!r}")
    return stanc


def _include_dirs(stan_file: Path, include_paths: Sequence[str | Path] | None) -> list[Path]:
    if include_paths is None:
        return [stan_file.resolve().parent / "functions"]
    return [Path(p).resolve() for p in include_paths]


def _resolve_includes(stan_file: Path, dirs: Sequence[Path]) -> list[tuple[str, Path]]:
    """Every ``#include``d file, recursively, as ``(name as written, path)``, sorted."""
    found: dict[str, Path] = {}

    def visit(path: Path) -> None:
        for name in _INCLUDE_RE.findall(path.read_text(encoding="utf-8")):
            if name in found:
                continue
            for directory in dirs:
                candidate = directory / name
                if candidate.is_file():
                    found[name] = candidate
                    visit(candidate)
                    break
            else:
                searched = ", ".join(str(d) for d in dirs) or "(no include paths)"
                raise FileNotFoundError(
                    f"{path.name}: #include {name} not found in include paths {searched}"
                )

    visit(stan_file)
    return sorted(found.items())


def _key(
    stan_file: Path,
    includes: Sequence[tuple[str, Path]],
    stanc_options: Mapping[str, Any] | None,
    cpp_options: Mapping[str, Any] | None,
    cmdstan: str,
) -> tuple[str, dict[str, Any]]:
    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    material = {
        "format": _KEY_FORMAT,
        "name": stan_file.name,
        "program_sha256": digest(stan_file),
        "includes": {name: digest(path) for name, path in includes},
        "stanc_options": {k: _canonical(v) for k, v in sorted((stanc_options or {}).items())},
        "cpp_options": {k: _canonical(v) for k, v in sorted((cpp_options or {}).items())},
        "cmdstan": cmdstan,
        "platform": f"{platform.system()}-{platform.machine()}",
    }
    if _uses_native(cpp_options):  # only then: other keys stay as they were
        material["cpu"] = _cpu_identity()
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), material


def _uses_native(cpp_options: Mapping[str, Any] | None) -> bool:
    """Whether a make variable (e.g. CXXFLAGS) asks for ``-march=native``."""
    return any("-march=native" in str(v) for v in (cpp_options or {}).values())


def _cpu_identity(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """``<model name>|flags-sha256:<16 hex>`` of the first CPU in ``cpuinfo``, which is
    what ``-march=native`` compiles for; ``platform.processor()`` if it is unreadable."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return f"{platform.processor() or 'unknown'}|flags-sha256:unknown"
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # first processor only
            continue
        name, _, value = line.partition(":")
        fields.setdefault(name.strip(), value.strip())
    flags = " ".join(sorted((fields.get("flags") or fields.get("Features") or "").split()))
    model = fields.get("model name") or fields.get("CPU part") or platform.processor()
    return f"{model or 'unknown'}|flags-sha256:{hashlib.sha256(flags.encode()).hexdigest()[:16]}"


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return str(value)


def _cmdstan_id(path: Path) -> str:
    """``<version>@<resolved directory>`` of a CmdStan installation."""
    try:
        makefile = (path / "makefile").read_text(errors="replace")
    except OSError:
        makefile = ""
    match = re.search(r"^CMDSTAN_VERSION\s*:=\s*(\S+)", makefile, re.MULTILINE)
    return f"{match.group(1) if match else 'unknown'}@{path.resolve()}"


def _is_finished(key_file: Path, key: str) -> bool:
    try:
        return json.loads(key_file.read_text()).get("key") == key
    except (OSError, ValueError):
        return False


@contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process compiling the same model (%s)", lock_file)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class ProgramStatus:
    """Whether one of bayesbg's Stan programs is present and compiles.

    Attributes
    ----------
    name : str
        Program name (without ``.stan``).
    ok : bool
        Present and compiled (or found in the cache).
    detail : str
        ``"compiles"``, ``"MISSING: <path>"`` or ``"FAILS: <last line of the error>"``.
    """

    name: str
    ok: bool
    detail: str


def check_programs(*, compile_programs: bool = True, threads: bool = False
                   ) -> list[ProgramStatus]:
    """Check every program of :func:`~bayesbg.stan.program_names`: present, and compiles.

    Parameters
    ----------
    compile_programs : bool
        Compile each (or find it in the cache); False only checks that the files exist.
    threads : bool
        Compile with ``STAN_THREADS``.

    Returns
    -------
    statuses : list of `ProgramStatus`
    """
    statuses = []
    for name in program_names():
        try:
            stan_file = stan_model_file(name)
        except FileNotFoundError:
            statuses.append(ProgramStatus(name, False,
                                          f"MISSING: {stan_models_dir() / (name + '.stan')}"))
            continue
        if not compile_programs:
            statuses.append(ProgramStatus(name, True, "present"))
            continue
        try:
            model = compile_model(stan_file, threads=threads)
        except Exception as exc:  # noqa: BLE001 - report any failure
            message = str(exc).strip().splitlines()
            statuses.append(ProgramStatus(
                name, False, f"FAILS: {message[-1] if message else type(exc).__name__}"))
            continue
        statuses.append(ProgramStatus(name, True, f"compiles ({model.exe_file})"))
    return statuses
