"""Build hook: ship the top-level ``stan_models/`` inside the package.

The Stan programs live at the repository's top level (the project's layout), and an
installed bayesbg finds them as ``bayesbg/stan_models`` (``bayesbg.stan.stan_models_dir``).
Everything else is configured in ``pyproject.toml``.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

STAN_MODELS = Path(__file__).resolve().parent / "stan_models"
PATTERNS = ("*.stan", "functions/*.stanfunctions", "functions/*.hpp")


class BuildPyWithStanModels(build_py):
    """``build_py`` that also copies ``stan_models/`` to ``<build>/bayesbg/stan_models``."""

    def run(self) -> None:
        super().run()
        if not STAN_MODELS.is_dir():
            raise SystemExit(f"stan_models/ not found beside setup.py ({STAN_MODELS})")
        target = Path(self.build_lib) / "bayesbg" / "stan_models"
        for pattern in PATTERNS:
            for source in STAN_MODELS.glob(pattern):
                destination = target / source.relative_to(STAN_MODELS)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)


setup(cmdclass={"build_py": BuildPyWithStanModels})
