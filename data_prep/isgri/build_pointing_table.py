#!/usr/bin/env python3
"""Build the ISGRI pointing table from an INTEGRAL ScW index and per-ScW rate tables.

Sources (FITS binary tables or CSV, column names case-insensitive; layouts in
`bayesbg.isgri.index`):

- the ScW index (e.g. ISDC's GNRL-SCWG-GRP-IDX): SWID, SW_TYPE, REVOL, TSTART and TSTOP
  (IJD), RA_SCX and DEC_SCX (ICRS, deg), TELAPSE (s) and the IBIS mode (--mode-column);
- one rate table per band: SWID, RATE, RATE_ERR (source-cleaned count rate, cts s-1
  pix-1), optional EXPOSURE (dead-time corrected, s); the band from the FITS keywords
  E_MIN/E_MAX or a file name ending in <lo>_<hi> (e.g. isgri_rate_25_60.fits), or given
  as BAND=FILE;
- optionally the revolution boundaries: REVOL, TSTART, TSTOP (IJD).

Selections and derived columns: pointing ScWs only (SW_TYPE == POINTING) with a rate in
every band; Galactic l, b from RA_SCX, DEC_SCX by astropy; orbital phase at the ScW
mid-time from its revolution's start and end (without --revolutions: the first TSTART
and the last TSTOP of the revolution's ScWs in the index); exposure from the rate
tables' EXPOSURE (or --exposure-column of the index); the Crab offset. No screening
(that is `bayesbg isgri run`).

Writes the pointing table of `bayesbg.isgri.read_pointings` (FITS, ECSV, CSV or
Parquet by suffix), rows sorted by ScW id: the same inputs always give the same file.
Errors name the file and the column; nothing is written then.

Example::

    python data_prep/isgri/build_pointing_table.py --index scw_index.fits \\
        --rates rates/isgri_rate_*.fits --revolutions revolutions.fits --output scw.fits
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bayesbg.isgri.index import build_pointing_table
from bayesbg.isgri.pointings import write_pointings


def _rate_argument(text: str) -> tuple[str | None, Path]:
    if "=" in text:
        band, path = text.split("=", 1)
        return band, Path(path)
    return None, Path(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, metavar="FILE",
                        help="ScW index (FITS or CSV)")
    parser.add_argument("--rates", nargs="+", required=True, metavar="[BAND=]FILE",
                        help="rate tables, one per band (FITS or CSV); BAND as 25-60")
    parser.add_argument("--revolutions", type=Path, default=None, metavar="FILE",
                        help="revolution boundaries REVOL, TSTART, TSTOP in IJD (optional)")
    parser.add_argument("--mode-column", default="IBISMODE", metavar="NAME",
                        help="index column of the IBIS mode (default IBISMODE; 'none': no "
                        "mode, every ScW gets mode 0)")
    parser.add_argument("--exposure-column", default=None, metavar="NAME",
                        help="index column with the exposure when the rate tables have no "
                        "EXPOSURE (e.g. TELAPSE, not dead-time corrected)")
    parser.add_argument("--output", type=Path, required=True, metavar="FILE",
                        help="pointing table (.fits, .ecsv, .csv, .parquet)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--log-level", default="WARNING",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging level (default WARNING)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    rates = [_rate_argument(text) for text in args.rates]
    if any(band is not None for band, _ in rates):
        rate_paths: object = {band or path.name: path for band, path in rates}
        if any(band is None for band, _ in rates):
            print("error: --rates: give BAND=FILE for every file or for none", file=sys.stderr)
            return 1
    else:
        rate_paths = [path for _, path in rates]
    mode = None if args.mode_column.lower() == "none" else args.mode_column
    try:
        table = build_pointing_table(args.index, rate_paths, revolutions_path=args.revolutions,
                                     mode_column=mode, exposure_column=args.exposure_column)
        write_pointings(table, args.output, overwrite=args.overwrite)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {table.n_pointing} pointings in {len(table.bands)} bands "
          f"({', '.join(table.band_names)} keV) to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
