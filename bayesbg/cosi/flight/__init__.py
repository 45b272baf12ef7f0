"""Flight-like COSI data from the real 2016 files (``docs/cosi.md``, "Flight-like data").

The pieces, band-general (any energy range of the measured background response's 174
bins) and used alike by ``data_prep/cosi/``, the flight-like simulator and the analyses:

- :mod:`~bayesbg.cosi.flight.timeline`: the real day's orientation, tracer and a derived
  altitude track on time bins, repeated for longer stretches (:func:`flight_timeline`);
- :mod:`~bayesbg.cosi.flight.geometry`: :class:`FlightGeometry`, the pointing, the
  measured data space (phi x FISBEL psi-chi), its event selection and the templates of
  sky components through the toy response (:meth:`FlightGeometry.template`), with a file
  format (:meth:`FlightGeometry.write`, :func:`load_flight_geometry`);
- :mod:`~bayesbg.cosi.flight.sky`: bulge, thin and thick disks, point sources;
- :mod:`~bayesbg.cosi.flight.background`: the measured background shape per band and a
  flight-like time profile with change points;
- :mod:`~bayesbg.cosi.flight.simulate`: :func:`simulate_flight`, a known sky and
  background on that geometry;
- :mod:`~bayesbg.cosi.flight.agreement`: binned MEGAlib events against the convolved
  template of the same point source.

Examples
--------
>>> from bayesbg.cosi.io import read_classic_background, read_classic_tracer, read_ori
>>> from bayesbg.cosi.flight import (FlightGeometry, bulge, default_background_rate,
...     flight_background_response, flight_timeline, simulate_flight)
>>> orientation = read_ori("OP_160628_FullDay.ori")  # doctest: +SKIP
>>> tracer = read_classic_tracer("tracer.npz")  # doctest: +SKIP
>>> background = read_classic_background("flight_bg_all_v1_fine_6deg.npz")  # doctest: +SKIP
>>> timeline = flight_timeline(orientation, tracer, n_time=96)  # doctest: +SKIP
>>> geometry = FlightGeometry.from_timeline(timeline, background)  # doctest: +SKIP
>>> dataset, truth = simulate_flight(
...     1, geometry, flight_background_response(background, geometry),
...     sky=[(bulge(10.0), 1e-3)],
...     mean_background_rate=default_background_rate(background, geometry))  # doctest: +SKIP
"""

from bayesbg.cosi.flight.agreement import (
    PointSourceAgreement,
    SplitCheck,
    backprojection,
    point_source_agreement,
)
from bayesbg.cosi.flight.background import (
    PAPER_HOURS,
    BackgroundRate,
    background_rate,
    default_background_rate,
    flight_background_response,
)
from bayesbg.cosi.flight.geometry import (
    FlightGeometry,
    FlightTemplateBuilder,
    load_flight_geometry,
)
from bayesbg.cosi.flight.simulate import TRACERS, simulate_flight, truth_to_json
from bayesbg.cosi.flight.sky import (
    DISK_SIGMA_L,
    THICK_DISK_SIGMA_B,
    THIN_DISK_SIGMA_B,
    SkyComponent,
    bulge,
    point_source,
    thick_disk,
    thin_disk,
)
from bayesbg.cosi.flight.timeline import (
    FlightTimeline,
    altitude_from_tracer,
    flight_timeline,
    rebin_piecewise,
)

__all__ = [
    "DISK_SIGMA_L",
    "PAPER_HOURS",
    "THICK_DISK_SIGMA_B",
    "THIN_DISK_SIGMA_B",
    "TRACERS",
    "BackgroundRate",
    "FlightGeometry",
    "FlightTemplateBuilder",
    "FlightTimeline",
    "PointSourceAgreement",
    "SkyComponent",
    "SplitCheck",
    "altitude_from_tracer",
    "background_rate",
    "backprojection",
    "bulge",
    "default_background_rate",
    "flight_background_response",
    "flight_timeline",
    "load_flight_geometry",
    "point_source",
    "point_source_agreement",
    "rebin_piecewise",
    "simulate_flight",
    "thick_disk",
    "thin_disk",
    "truth_to_json",
]
