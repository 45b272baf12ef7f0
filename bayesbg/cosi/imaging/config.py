"""TOML configuration of a deconvolution (``bayesbg cosi deconvolve CONFIG``).

Example file (paths relative to the file)::

    run_dir = "runs/crab-image"    # optional; default runs/<config file stem>

    [data]
    dataset = "cosi_sim.nc"        # written by `bayesbg cosi simulate` or CosiDataset.write
    energy_min = 506.0             # optional band, keV (datasets with energy bins)
    energy_max = 516.0

    [pointing]                     # one of (bayesbg.cosi.pointing):
    file = "pointing.nc"           # written by Pointing.write
    balloon_seed = 1               # regenerate the aspect of `bayesbg cosi simulate --seed 1`
    orientation = "flight.ori"     # a MEGAlib .ori file, averaged onto the time bins
    geometry = "flight_geometry.nc"  # a flight-like geometry (bayesbg.cosi.flight): its
                                   # pointing, instrument and event selection
    substeps = 4                   # pointings per time bin (default: 4 for balloon_seed,
                                   # one per .ori interval for orientation)
    altitude = 33.0                # km, orientation files without an altitude column
    time_offset = 0.0              # s added to the dataset's time edges (orientation only)

    [response]
    nside = 16                     # sky HEALPix resolution of the image
    instrument_nside = 16          # InstrumentSettings: instrument-frame source grid,
    resolution = 2.5               # scatter-angle resolution, deg,
    area = 50.0                    # geometric on-axis area, cm2
    application = "matrix_free"    # or "sparse", "dense" (small problems only)

    [background]                   # as in `bayesbg cosi fit` (CosiFitConfig)
    tracer = "photo_event_rate"
    scheme = "equidistant"
    n_blocks = 8

    [deconvolution]                # DeconvolutionSettings
    iterations = 40
    acceleration = true
    smoothing_fwhm = 10.0          # deg; 0: no smoothing
    refit_background = true
    exposure_threshold = 0.01
    background_perturbation = 0.05
    reference_iterations = 0       # > 0: also run classic RL this long, for comparison

    [output]
    source = [184.56, -5.78]       # optional known source (l, b), deg: marker, region
    source_name = "Crab"
    region_radius = 0.0            # deg; 0: brightest pixel and its neighbours
    zoom_width = 60.0              # deg
    iterations = [5, 10]           # extra iterations to store in the FITS cube

Unknown tables or keys are errors.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bayesbg.config import TomlConfig, TomlTable
from bayesbg.cosi.config import CosiFitConfig, data_and_background_values
from bayesbg.cosi.exposure import InstrumentSettings
from bayesbg.cosi.imaging.deconvolve import DeconvolutionSettings

__all__ = ["APPLICATIONS", "DeconvolveConfig"]

APPLICATIONS = ("matrix_free", "sparse", "dense")
"""Ways to apply the response (:mod:`bayesbg.cosi.imaging.projection`)."""

_TOP = {"run_dir", "data", "pointing", "response", "background", "deconvolution", "output"}
_POINTING = {"file", "balloon_seed", "orientation", "geometry", "substeps", "altitude",
             "time_offset"}
_INSTRUMENT = ("instrument_nside", "resolution", "area")
_RESPONSE = {"nside", "application", *_INSTRUMENT}
_DECONVOLUTION = {"iterations", "acceleration", "max_acceleration", "smoothing_fwhm",
                  "smoothing_target", "refit_background", "exposure_threshold",
                  "background_perturbation", "initial_flux", "reference_iterations"}
_OUTPUT = {"source", "source_name", "region_radius", "zoom_width", "iterations"}


@dataclass(frozen=True)
class DeconvolveConfig(TomlConfig):
    """Settings of one deconvolution; see the module docstring for the TOML layout.

    Parameters
    ----------
    background : `bayesbg.cosi.CosiFitConfig`
        Dataset, band and background model (its sampler and prior fields are unused).
    pointing_file : `~pathlib.Path` or None
    balloon_seed : int or None
    orientation_file : `~pathlib.Path` or None
        A MEGAlib ``.ori`` file (:meth:`bayesbg.cosi.pointing.Pointing.from_orientation`).
    geometry_file : `~pathlib.Path` or None
        A flight-like geometry (:func:`bayesbg.cosi.flight.load_flight_geometry`): its
        pointing of every time bin, its instrument (the ``[response]`` instrument keys are
        then not used) and its event selection. Exactly one of ``pointing_file``,
        ``balloon_seed``, ``orientation_file`` and ``geometry_file``.
    substeps : int or None
        Sub-pointings per time bin: of the simulated aspect (``balloon_seed``), or of the
        averaged orientation (None: one per orientation interval).
    altitude : float or None
        Altitude, km, for orientation files without an altitude column.
    time_offset : float
        Added to the dataset's time edges to give Unix seconds (orientation only), s.
    nside : int
        Sky HEALPix resolution of the image.
    instrument : `bayesbg.cosi.exposure.InstrumentSettings`
        ``instrument_nside``, ``resolution`` and ``area`` of the ``[response]`` table
        (its ``sky_nside`` and ``substeps`` are not used: the image has ``nside``, the
        pointing its ``substeps``).
    application : str
        One of `APPLICATIONS`.
    settings : `DeconvolutionSettings`
    reference_iterations : int
        Classic Richardson-Lucy iterations run for comparison (0: none).
    source : (float, float) or None
        Known source (l, b), deg.
    source_name : str
    region_radius, zoom_width : float
        deg.
    extra_iterations : tuple of int
        Iterations stored in the FITS cube besides the chosen one and the last.
    run_dir : `~pathlib.Path` or None
    """

    background: CosiFitConfig
    pointing_file: Path | None = None
    balloon_seed: int | None = None
    orientation_file: Path | None = None
    geometry_file: Path | None = None
    substeps: int | None = 4
    altitude: float | None = None
    time_offset: float = 0.0
    nside: int = 16
    instrument: InstrumentSettings = field(default_factory=InstrumentSettings)
    application: str = "matrix_free"
    settings: DeconvolutionSettings = field(default_factory=DeconvolutionSettings)
    reference_iterations: int = 0
    source: tuple[float, float] | None = None
    source_name: str = "source"
    region_radius: float = 0.0
    zoom_width: float = 60.0
    extra_iterations: tuple[int, ...] = ()
    run_dir: Path | None = None

    def __post_init__(self) -> None:
        given = [self.pointing_file, self.balloon_seed, self.orientation_file,
                 self.geometry_file]
        if sum(value is not None for value in given) != 1:
            raise ValueError("pointing: give exactly one of 'file', 'balloon_seed', "
                             "'orientation' and 'geometry'")
        if self.substeps is None and self.orientation_file is None and \
                self.geometry_file is None:
            raise ValueError("pointing.substeps: expected a positive integer, found None")
        if self.altitude is not None and not self.altitude > 0:
            raise ValueError(f"pointing.altitude: expected a positive altitude in km, found "
                             f"{self.altitude!r}")
        if not math.isfinite(self.time_offset):
            raise ValueError(f"pointing.time_offset: expected finite seconds, found "
                             f"{self.time_offset!r}")
        if self.application not in APPLICATIONS:
            raise ValueError(f"response.application: expected one of {APPLICATIONS}, found "
                             f"{self.application!r}")
        for name in ("nside", "substeps"):
            value = getattr(self, name)
            if name == "substeps" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, found {value!r}")
        if self.nside & (self.nside - 1):
            raise ValueError(f"response.nside: expected a power of 2, found {self.nside}")
        if isinstance(self.reference_iterations, bool) or \
                not isinstance(self.reference_iterations, int) or self.reference_iterations < 0:
            raise ValueError("deconvolution.reference_iterations: expected a non-negative "
                             f"integer, found {self.reference_iterations!r}")
        if not self.zoom_width > 0:
            raise ValueError(f"zoom_width: expected a positive number, found "
                             f"{self.zoom_width!r}")
        if not isinstance(self.instrument, InstrumentSettings):
            raise ValueError(f"instrument: expected InstrumentSettings, found "
                             f"{type(self.instrument).__name__}")
        if not self.region_radius >= 0:
            raise ValueError(f"output.region_radius: expected >= 0 deg, found "
                             f"{self.region_radius!r}")
        if self.source is not None and (len(self.source) != 2 or
                                        not -90 <= self.source[1] <= 90):
            raise ValueError(f"output.source: expected [l, b] in deg, found {self.source!r}")

    @classmethod
    def from_table(cls, document: TomlTable) -> DeconvolveConfig:
        """Build from the top-level table of a deconvolution configuration file."""
        document.check_keys(_TOP)
        fit_values = data_and_background_values(document, templates=False)
        values: dict[str, Any] = {"background": document.build(CosiFitConfig, fit_values)}
        pointing = document.table("pointing", _POINTING)
        if "file" in pointing:
            values["pointing_file"] = pointing.path("file")
        if "balloon_seed" in pointing:
            values["balloon_seed"] = pointing.integer("balloon_seed", minimum=0)
        if "orientation" in pointing:
            values["orientation_file"] = pointing.path("orientation")
            values["substeps"] = None
        if "geometry" in pointing:
            values["geometry_file"] = pointing.path("geometry")
            values["substeps"] = None
        if "substeps" in pointing:
            values["substeps"] = pointing.integer("substeps", minimum=1)
        if "altitude" in pointing:
            values["altitude"] = pointing.number("altitude", positive=True)
        if "time_offset" in pointing:
            values["time_offset"] = pointing.number("time_offset")
        response = document.table("response", _RESPONSE)
        if "nside" in response:
            values["nside"] = response.integer("nside", minimum=1)
        values["instrument"] = InstrumentSettings.from_table(response, keys=_INSTRUMENT)
        if "application" in response:
            values["application"] = response.string("application", choices=APPLICATIONS)
        deconvolution = document.table("deconvolution", _DECONVOLUTION)
        settings: dict[str, Any] = {}
        for key in ("acceleration", "refit_background"):
            if key in deconvolution:
                settings[key] = deconvolution.boolean(key)
        if "iterations" in deconvolution:
            settings["iterations"] = deconvolution.integer("iterations", minimum=1)
        for key in ("max_acceleration", "smoothing_fwhm", "exposure_threshold",
                    "background_perturbation", "initial_flux"):
            if key in deconvolution:
                settings[key] = deconvolution.number(key)
        if "smoothing_target" in deconvolution:
            settings["smoothing_target"] = deconvolution.string("smoothing_target")
        if "reference_iterations" in deconvolution:
            values["reference_iterations"] = deconvolution.integer("reference_iterations",
                                                                   minimum=0)
        values["settings"] = deconvolution.build(DeconvolutionSettings, settings)
        output = document.table("output", _OUTPUT)
        if "source" in output:
            values["source"] = output.numbers("source", length=2)
        if "source_name" in output:
            values["source_name"] = output.string("source_name")
        for key in ("region_radius", "zoom_width"):
            if key in output:
                values[key] = output.number(key)
        if "iterations" in output:
            values["extra_iterations"] = output.integers("iterations", minimum=1)
        if "run_dir" in document:
            values["run_dir"] = document.path("run_dir")
        return document.build(cls, values)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, for ``summary.json``."""
        background = self.background.to_dict()
        for key in ("templates", "flux_prior_mean", "flux_prior_sd", "background_prior_sd",
                    "seed", "grainsize"):
            background.pop(key, None)
        settings = asdict(self.settings)
        settings.pop("show_progress", None)
        return {
            "data_and_background": background,
            "pointing": {"file": str(self.pointing_file) if self.pointing_file else None,
                         "balloon_seed": self.balloon_seed,
                         "orientation": str(self.orientation_file)
                         if self.orientation_file else None,
                         "geometry": str(self.geometry_file) if self.geometry_file else None,
                         "substeps": self.substeps, "altitude": self.altitude,
                         "time_offset": self.time_offset},
            "response": {"nside": self.nside,
                         **{key: getattr(self.instrument, key) for key in _INSTRUMENT},
                         "application": self.application},
            "deconvolution": {**settings, "reference_iterations": self.reference_iterations},
            "output": {"source": list(self.source) if self.source else None,
                       "source_name": self.source_name, "region_radius": self.region_radius,
                       "zoom_width": self.zoom_width,
                       "iterations": list(self.extra_iterations)},
        }


