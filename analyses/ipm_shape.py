"""Figure for docs/spectra.md: the IPM approximation against cut-off power laws.

Draws E^2 F(E) of the IPM (bayesbg.spectra.ipm) for several white-dwarf masses and of
cutoffpl (index 0) with the [ISGRI] Table 2 cut-off (11.2 keV), all with the same
30-80 keV energy flux (1e-10 erg s-1 cm-2), and, in a second panel, the cut-off energy
of the index-0 cutoffpl that best matches the IPM in the 21 ISGRI bands, versus mass.

Run: .venv/bin/python analyses/ipm_shape.py [--output docs/figures/ipm_vs_cutoffpl.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

from bayesbg.spectra.band_integrals import band_quadrature  # noqa: E402
from bayesbg.spectra.crab_units import KEV_PER_FLUX_UNIT  # noqa: E402
from bayesbg.spectra.ipm import ipm_band_table, shock_temperature  # noqa: E402
from bayesbg.spectra.models import photon_shape  # noqa: E402
from bayesbg.spectra.simulate import isgri_bands  # noqa: E402


def _e2f(code: int, energy: np.ndarray, shape: list[float]) -> np.ndarray:
    """E^2 N(E) for 1e-10 erg s-1 cm-2 in 30-80 keV, keV cm-2 s-1."""
    reference = band_quadrature([30.0], [80.0], max_log_width=0.01)
    nodes = np.exp(reference.node_log_energy)
    norm = np.sum(np.exp(reference.node_log_weight) * nodes * photon_shape(code, nodes, shape))
    return energy**2 * KEV_PER_FLUX_UNIT / norm * photon_shape(code, energy, shape)


def _equivalent_ecut(masses: np.ndarray) -> np.ndarray:
    """Cut-off of the index-0 cutoffpl closest (least squares in ln) to the IPM bands."""
    lo, hi = isgri_bands()
    table = ipm_band_table(lo, hi, mass=masses)
    out = []
    for row in table.table:
        def misfit(log_ecut: float, row: np.ndarray = row) -> float:
            ecut = np.exp(log_ecut)
            bands = np.log(ecut) - lo / ecut + np.log(-np.expm1(-(hi - lo) / ecut))
            ref = np.log(ecut) - 30 / ecut + np.log((30 + ecut) * -np.expm1(-50 / ecut)
                                                    - 50 * np.exp(-50 / ecut))
            diff = (bands - ref) - row
            return float(np.sum((diff - diff.mean()) ** 2))
        out.append(np.exp(optimize.minimize_scalar(misfit, bounds=(0.0, 6.0),
                                                   method="bounded").x))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).resolve().parents[1] / "docs" / "figures"
                        / "ipm_vs_cutoffpl.png")
    args = parser.parse_args()
    energy = np.geomspace(20.0, 200.0, 300)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mass in (0.5, 0.7, 0.8, 1.0, 1.2):
        left.plot(energy, _e2f(5, energy, [mass]),
                  label=f"IPM {mass} Msun (kT_s {float(shock_temperature(mass)):.0f} keV)")
    left.plot(energy, _e2f(2, energy, [0.0, 11.2]), "k--", label="cutoffpl G=0, Ecut 11.2 keV")
    left.plot(energy, _e2f(1, energy, [1.55]), "k:", label="powerlaw G=1.55")
    left.set(xscale="log", yscale="log", ylim=(1e-3, 1.0), xlabel="Energy (keV)",
             ylabel=r"$E^2 F(E)$ (keV cm$^{-2}$ s$^{-1}$)",
             title="same 30-80 keV flux (1e-10 erg s-1 cm-2)")
    left.axvspan(30, 80, color="grey", alpha=0.1)
    left.legend(fontsize=7)
    masses = np.linspace(0.3, 1.35, 22)
    right.plot(masses, _equivalent_ecut(masses), "o-")
    right.axhline(11.2, color="k", ls="--", label="[ISGRI] Table 2: 11.2 keV")
    right.axvspan(0.70 - 0.09, 0.70 + 0.09, color="C1", alpha=0.2,
                  label="[ISGRI] Table 3 GB: 0.70 +- 0.09 Msun")
    right.set(xlabel="white-dwarf mass (Msun)", ylabel="equivalent Ecut (keV)",
              title="index-0 cutoffpl closest to the IPM, 25-185 keV")
    right.legend(fontsize=8)
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
