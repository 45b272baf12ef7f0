#!/usr/bin/env bash
# [COSI-511] on flight-like data, end to end, in one command:
#   1. data_prep/cosi: the flight-like dataset from the real 2016 files (pointing, tracer,
#      measured background shape) with a known sky injected (bulge 1e-3 ph cm-2 s-1 of
#      10 deg, a thick disk at 2e-4 below detection, background steps at known times),
#      and the MEGAlib 511 keV point source binned with `bayesbg cosi bin`;
#   2. scan-background: AIC over time-node schemes x tracers, PSIS-LOO of the best;
#   3. fit: NUTS of the bulge with the scan's variant ([background] from_scan), then its
#      predictive checks;
#   4. scan-template: the bulge width (likelihood profile, fitted width, interval);
#   5. sky-models: [COSI-511] Table 3 (bulge; + thin disk; + thick disk) at that width,
#      limits, PSIS-LOO / AIC / BIC;
#   6. deconvolve: modified Richardson-Lucy image with background re-fit;
#   7. results: the results page and its checks (exit status 1 if a check fails).
#
#   bash analyses/cosi_511/run.sh            # full size, 603 h (see README.md for time)
#   QUICK=1 bash analyses/cosi_511/run.sh    # 96 h, under 10 minutes
#
# Outputs: analyses/cosi_511/{full,quick}/runs/: data/ and one run directory per step,
# each with summary.json (seed, versions, input hashes, config) and report.html;
# runs/results/results.html links them all.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bayesbg="${BAYESBG:-bayesbg}"
python="${PYTHON:-$(dirname "$(command -v "$bayesbg")")/python}"
if [[ "${QUICK:-0}" == "1" ]]; then
    size=quick   # 12 sub-pointings per hour, scans on threads of one process
    design=(--hours 96 --substeps 12 --change-points 30 60 --factors 1.15 0.87)
    scan=(--workers 2 --threads)
else
    size=full
    design=(--hours 603 --change-points 150 300 450 --factors 1.15 0.87 1.12)
    scan=(--workers 2)
fi
config="$here/$size"
data="$config/runs/data"
start=$SECONDS
"$python" "$repo/data_prep/cosi/flight_data.py" "${design[@]}" --output-dir "$data" --overwrite
"$python" "$repo/data_prep/cosi/megalib_point_source.py" --output-dir "$data" --overwrite
"$bayesbg" cosi scan-background "$config/cosi.toml" "${scan[@]}" --overwrite
"$bayesbg" cosi fit "$config/cosi.toml" --overwrite
"$bayesbg" cosi scan-template "$config/cosi.toml" "${scan[@]}" --overwrite
"$bayesbg" cosi sky-models "$config/cosi.toml" --overwrite
"$bayesbg" cosi deconvolve "$config/deconvolve.toml" --overwrite
"$bayesbg" runs "$config/runs"
status=0
"$bayesbg" cosi results "$config/cosi.toml" --overwrite || status=$?
echo "analyses/cosi_511 ($size): $((SECONDS - start)) s wall time"
exit $status
