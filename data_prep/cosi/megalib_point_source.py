#!/usr/bin/env python
"""The MEGAlib 511 keV point source binned into the flight-like data space, with its template.

Inputs (classic-2016/, SHA-256 checked, see inputs.py):
  SRC9det_PS511keV_l-010_b-010_simOP_160628_FullDay_CE0000-1000keV_EHCstandard.tra.gz
  ..._PE0000-1000keV_EHCstandard.tra.gz   the simulated source at (l, b) = (-10, -10) deg
                                          along the real orientation: Compton, photo events
  OP_160628_FullDay.ori                   the orientation
  tracer.npz, flight_bg_all_v1_fine_6deg.npz   time axis, data space, selection

Steps: ``bayesbg cosi bin CE PE --ori ORI --config megalib_binning.toml`` (24 one-hour
bins, 506-516 keV, 30 phi x 1,145 FISBEL psi-chi, instrument frame); the flight-like
geometry of that day at a constant 33 km (the MEGAlib run has no altitude drops; see
docs/cosi.md); the point source's template on it. Writes, in --output-dir:

  megalib_point_source_binned.nc     the output of `bayesbg cosi bin` as it is
  megalib_point_source_geometry.nc   the geometry (FlightGeometry, 33 km)
  megalib_point_source.nc            the binned events with the template ``point_source``
                                     and the measured background response; attribute
                                     ``provenance`` (inputs, SHA-256)

Deterministic: the same inputs give byte-identical files.

    python data_prep/cosi/megalib_point_source.py --output-dir data_prep/cosi/out
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

from inputs import input_files

from bayesbg.cosi import load_dataset
from bayesbg.cosi.flight import (
    FlightGeometry,
    flight_background_response,
    flight_timeline,
    point_source,
)
from bayesbg.cosi.io import read_classic_background, read_classic_tracer, read_ori

HERE = Path(__file__).resolve().parent
BINNED = "megalib_point_source_binned.nc"
GEOMETRY = "megalib_point_source_geometry.nc"
DATASET = "megalib_point_source.nc"
SOURCE = (-10.0, -10.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--altitude", type=float, default=33.0,
                        help="constant altitude of the template, km (default 33)")
    parser.add_argument("--any-inputs", action="store_true")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    paths, provenance = input_files(
        ["compton_events", "photo_events", "orientation", "tracer", "background"],
        directory=args.data, check=not args.any_inputs)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    binned_path = args.output_dir / BINNED
    command = [sys.executable, "-m", "bayesbg", "cosi", "bin",
               str(paths["compton_events"]), str(paths["photo_events"]),
               "--ori", str(paths["orientation"]), "--config", str(HERE / "megalib_binning.toml"),
               "--output", str(binned_path)]
    if args.overwrite:
        command.append("--overwrite")
    subprocess.run(command, check=True)

    orientation = read_ori(paths["orientation"])
    background = read_classic_background(paths["background"])
    timeline = flight_timeline(orientation, read_classic_tracer(paths["tracer"]), n_time=24)
    record = {"script": "data_prep/cosi/megalib_point_source.py", "inputs": provenance,
              "binning": (HERE / "megalib_binning.toml").read_text(encoding="utf-8"),
              "altitude": args.altitude, "source": list(SOURCE)}
    geometry = FlightGeometry.from_timeline(timeline, background, altitude=args.altitude,
                                            provenance=record)
    events = load_dataset(binned_path)
    if events.n_time != geometry.n_time or events.n_data_bin != geometry.n_data_bin:
        raise SystemExit(f"error: {binned_path}: {events.n_time} x {events.n_data_bin} bins, "
                         f"the geometry {geometry.n_time} x {geometry.n_data_bin}")
    dataset = dataclasses.replace(
        events, templates={"point_source": geometry.template(point_source(*SOURCE))},
        background_response=flight_background_response(background, geometry))
    geometry.write(args.output_dir / GEOMETRY, overwrite=args.overwrite)
    dataset.write(args.output_dir / DATASET, overwrite=args.overwrite,
                  attrs={"provenance": json.dumps(record, sort_keys=True)})
    print(f"{args.output_dir / DATASET}: {int(dataset.counts.data.sum())} events in "
          f"{dataset.n_time} h, template point_source at (l, b) = {SOURCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
