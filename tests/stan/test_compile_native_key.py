"""The CPU enters the compile-cache key only for ``-march=native`` builds (no compiling)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayesbg.stan import compile as compile_module
from bayesbg.stan import model_cache_key

PROGRAM = """\
parameters {
  real x; // a parameter
}
model {
  x ~ std_normal();
}
"""
CPUINFO = """\
processor\t: 0
model name\t: {model}
flags\t\t: {flags}

processor\t: 1
model name\t: Other CPU
flags\t\t: fpu
"""


@pytest.fixture()
def program(tmp_path: Path) -> Path:
    stan_file = tmp_path / "normal.stan"
    stan_file.write_text(PROGRAM)
    return stan_file


def _keys_on_cpu(program: Path, monkeypatch: pytest.MonkeyPatch, cpu: str) -> dict[str, str]:
    monkeypatch.setattr(compile_module, "_cpu_identity", lambda: cpu)
    return {
        "plain": model_cache_key(program),
        "threads": model_cache_key(program, threads=True),
        "O3": model_cache_key(program, cpp_options={"CXXFLAGS": "-O3"}),
        "native": model_cache_key(program, cpp_options={"CXXFLAGS": "-march=native"}),
        "native+": model_cache_key(program, threads=True,
                                   cpp_options={"CXXFLAGS": "-O3 -march=native"}),
    }


def test_cpu_enters_the_key_only_with_march_native(program, monkeypatch):
    first = _keys_on_cpu(program, monkeypatch, "CPU A|flags-sha256:0000")
    second = _keys_on_cpu(program, monkeypatch, "CPU B|flags-sha256:1111")
    for name in ("plain", "threads", "O3"):
        assert first[name] == second[name], name
    for name in ("native", "native+"):
        assert first[name] != second[name], name
    assert len(set(first.values())) == len(first)


def test_key_without_native_never_reads_the_cpu(program, monkeypatch):
    def fail() -> str:
        raise AssertionError("CPU read for a model without -march=native")

    monkeypatch.setattr(compile_module, "_cpu_identity", fail)
    model_cache_key(program, cpp_options={"CXXFLAGS": "-O3", "STAN_THREADS": True})
    with pytest.raises(AssertionError, match="CPU read"):
        model_cache_key(program, cpp_options={"CXXFLAGS": "-march=native"})


def test_cpu_identity_is_model_name_and_flags_hash_of_the_first_cpu(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(model="Example CPU 9000", flags="sse2 avx2 fma"))
    identity = compile_module._cpu_identity(cpuinfo)
    assert identity.startswith("Example CPU 9000|flags-sha256:")
    cpuinfo.write_text(CPUINFO.format(model="Example CPU 9000", flags="fma avx2 sse2"))
    assert compile_module._cpu_identity(cpuinfo) == identity  # flag order does not matter
    cpuinfo.write_text(CPUINFO.format(model="Example CPU 9000", flags="sse2 avx2 fma avx512f"))
    assert compile_module._cpu_identity(cpuinfo) != identity
    assert compile_module._cpu_identity(tmp_path / "missing").endswith("|flags-sha256:unknown")


def test_native_option_reaches_compile_model(monkeypatch, tmp_path):
    from bayesbg.cosi.config import CosiFitConfig
    from bayesbg.cosi.model import program as program_module

    calls = []
    monkeypatch.setattr(program_module, "compile_model",
                        lambda stan_file, **options: calls.append(options))
    program_module.cosi_fit_model()
    program_module.cosi_fit_model(threads=True, native=True)
    assert calls[0] == {"threads": False, "cpp_options": None}
    assert calls[1] == {"threads": True, "cpp_options": {"CXXFLAGS": "-march=native"}}
    text = 'native = true\n[data]\ndataset = "x.nc"\n'
    config = CosiFitConfig.from_toml(text, base=tmp_path)
    assert config.native is True and config.to_dict()["native"] is True
    assert CosiFitConfig.from_toml(text.replace("native = true\n", ""), base=tmp_path).native \
        is False
    with pytest.raises(ValueError, match="native"):
        CosiFitConfig.from_toml(text.replace("true", '"yes"'), base=tmp_path)
