#!/usr/bin/env python
"""Flight-like COSI 511 keV data of the [COSI-511] design from the real 2016 files.

Inputs (classic-2016/, SHA-256 checked, see inputs.py):
  OP_160628_FullDay.ori            the real orientation of 2016-06-28 (pointing, exposure)
  tracer.npz                       the flight's background-rate tracer (time variation)
  flight_bg_all_v1_fine_6deg.npz   the measured background response (data-space shape,
                                   event selection, background level)

Writes, in --output-dir:
  cosi_511_flight_geometry.nc      the geometry (bayesbg.cosi.flight.FlightGeometry):
                                   pointing of the first day (60 sub-pointings per hour),
                                   tracer and altitude per hour, data space, selection
  cosi_511_flight.nc               the COSI dataset (docs/formats.md): counts of the
                                   injected sky and background, tracers photo_event_rate,
                                   flight_tracer, inverse_altitude, the templates bulge
                                   (at --bulge-width), thin_disk, thick_disk, the measured
                                   background response; global attributes ``provenance``
                                   (inputs, SHA-256, arguments) and ``truth`` (JSON)

Design (defaults: the paper's): --hours 603 one-hour bins (the day repeated), band
506-516 keV (30 phi x 1,145 FISBEL psi-chi), a 2D Gaussian bulge of 10 deg and 1e-3
ph cm-2 s-1, a thick disk (60 x 10.5 deg) injected below detection at 2e-4, the
background at the file's counts over 603 h (581 counts per hour) following the tracer,
each night's excess scaled by a factor drawn in 0.7-1.3, with a 15 % drift and steps
("time nodes") at --change-points.

Deterministic: the same inputs and arguments give byte-identical files.

    python data_prep/cosi/flight_data.py --output-dir data_prep/cosi/out
    python data_prep/cosi/flight_data.py --hours 96 --change-points 30 60 \
        --factors 1.15 0.87 --output-dir data_prep/cosi/out-quick
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inputs import input_files

from bayesbg.cosi.flight import (
    FlightGeometry,
    bulge,
    default_background_rate,
    flight_background_response,
    flight_timeline,
    simulate_flight,
    thick_disk,
    thin_disk,
    truth_to_json,
)
from bayesbg.cosi.io import read_classic_background, read_classic_tracer, read_ori

GEOMETRY = "cosi_511_flight_geometry.nc"
DATASET = "cosi_511_flight.nc"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None,
                        help="directory of the 2016 files (default: sample_data_dir())")
    parser.add_argument("--hours", type=int, default=603)
    parser.add_argument("--substeps", type=int, default=60,
                        help="sub-pointings per hour (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bulge-flux", type=float, default=1e-3)
    parser.add_argument("--bulge-width", type=float, default=10.0)
    parser.add_argument("--disk", choices=("thick", "thin", "none"), default="thick")
    parser.add_argument("--disk-flux", type=float, default=2e-4)
    parser.add_argument("--change-points", type=int, nargs="*", default=[150, 300, 450])
    parser.add_argument("--factors", type=float, nargs="*", default=[1.15, 0.87, 1.12])
    parser.add_argument("--drift", type=float, default=0.15)
    parser.add_argument("--night-variation", type=float, default=0.3)
    parser.add_argument("--any-inputs", action="store_true",
                        help="do not require the inputs' SHA-256 stated in inputs.py")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if len(args.change_points) != len(args.factors):
        parser.error("--change-points and --factors need the same number of values")

    paths, provenance = input_files(["orientation", "tracer", "background"],
                                    directory=args.data, check=not args.any_inputs)
    background = read_classic_background(paths["background"])
    timeline = flight_timeline(read_ori(paths["orientation"]),
                               read_classic_tracer(paths["tracer"]), n_time=args.hours)
    settings = {key: value for key, value in vars(args).items()
                if key not in ("output_dir", "data", "overwrite")}
    record = {"script": "data_prep/cosi/flight_data.py", "inputs": provenance,
              "arguments": settings}
    geometry = FlightGeometry.from_timeline(timeline, background, substeps=args.substeps,
                                            provenance=record)
    components = {"bulge": bulge(args.bulge_width), "thin_disk": thin_disk(),
                  "thick_disk": thick_disk()}
    templates = {name: geometry.template(component) for name, component in components.items()}
    sky = [(components["bulge"], args.bulge_flux)]
    if args.disk != "none":
        sky.append((components[f"{args.disk}_disk"], args.disk_flux))
    dataset, truth = simulate_flight(
        args.seed, geometry, flight_background_response(background, geometry), sky=sky,
        templates=templates, extra_templates=templates,
        mean_background_rate=default_background_rate(background, geometry),
        drift=args.drift, night_variation=args.night_variation,
        change_points=args.change_points, factors=args.factors)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    geometry.write(args.output_dir / GEOMETRY, overwrite=args.overwrite)
    dataset.write(args.output_dir / DATASET, overwrite=args.overwrite,
                  attrs={"provenance": json.dumps(record, sort_keys=True),
                         "truth": truth_to_json(truth)})
    print(f"{args.output_dir / DATASET}: {dataset.n_time} h x {dataset.n_data_bin} bins, "
          f"{dataset.n_nonzero} populated, {int(dataset.counts.data.sum())} counts "
          f"({truth['sky_counts'].sum():.0f} sky and {truth['background_counts'].sum():.0f} "
          "background expected)")
    print(f"{args.output_dir / GEOMETRY}: pointing of {geometry.pointing.n_step} "
          f"sub-pointings (one day, repeated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
