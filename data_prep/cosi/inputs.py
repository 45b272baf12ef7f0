"""The real 2016 COSI files the data_prep/cosi scripts read, with their SHA-256.

Public copies of files of the original COSIpy analysis of the 2016 balloon flight
(github.com/tsiegert/COSIpy), found through ``bayesbg.cosi.io.sample_data_dir()``
(``$BAYESBG_COSI_DATA``, else a ``shared/data/cosi`` folder above the package), directory
``classic-2016/``. A script stops if a file's checksum differs (another version of the
file would give another dataset) unless run with ``--any-inputs``.
"""

from __future__ import annotations

from pathlib import Path

from bayesbg.cosi.io import sample_data_dir
from bayesbg.stan import sha256_file

INPUTS = {
    "orientation": ("OP_160628_FullDay.ori",
                    "b918e03670f68238311223feda693e4a0cdaafddd26fc9c9f8735ffbc061913e"),
    "tracer": ("tracer.npz",
               "2372dcdb07e949de6adf0a432a337c81f35f5128aeaf4233db1448223cdd7cf3"),
    "background": ("flight_bg_all_v1_fine_6deg.npz",
                   "70858d1234c632c50b9d6ac26672ba2a70493c9bac5ba4df89485c5c7fbdaee2"),
    "compton_events": (
        "SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_CE0000-1000keV_EHCstandard.tra.gz",
        "65143bb1528559ec79a72a9348e3df919cb27cf2dd28537abf71edde46d72168"),
    "photo_events": (
        "SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_PE0000-1000keV_EHCstandard.tra.gz",
        "666d657062876e211dbf3c5492acbee67fa18d7b085963fb3d6af2d54881df94"),
}
"""Label -> (file name in classic-2016/, SHA-256)."""


def input_files(labels: list[str], *, directory: Path | None = None,
                check: bool = True) -> tuple[dict[str, Path], dict[str, dict[str, str]]]:
    """Paths of the labelled inputs and their provenance (file name, SHA-256).

    Raises
    ------
    SystemExit
        With a one-line message if a file is missing or (with ``check``) its SHA-256
        differs from the one stated above.
    """
    folder = directory if directory is not None else sample_data_dir() / "classic-2016"
    paths, provenance = {}, {}
    for label in labels:
        name, expected = INPUTS[label]
        path = folder / name
        if not path.is_file():
            raise SystemExit(f"error: {label}: {path} not found (set BAYESBG_COSI_DATA or "
                             "--data)")
        digest = sha256_file(path)
        if check and digest != expected:
            raise SystemExit(f"error: {label}: {path} has SHA-256 {digest}, expected "
                             f"{expected} (another version of the file; --any-inputs to "
                             "use it anyway)")
        paths[label] = path
        provenance[label] = {"file": name, "sha256": digest}
    return paths, provenance
