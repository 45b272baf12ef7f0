#!/usr/bin/env bash
# [COSI-511] on simulated data, end to end: simulate 603 one-hour bins of a 10-deg
# 511 keV bulge (1e-3 ph cm-2 s-1) under a background ~100x brighter; choose the
# background model by AIC; fit flux and amplitudes with NUTS (4 chains, predictive
# checks); profile the bulge width; image the data by modified Richardson-Lucy.
#
#   bash analyses/cosi_511_simulated/run.sh          # full size (about an hour on 2 cores)
#   QUICK=1 bash analyses/cosi_511_simulated/run.sh  # 96 h at 15-deg bins (minutes)
#
# Outputs: analyses/cosi_511_simulated/runs/{fit,fit-scan-background,fit-scan-template,image}
# each with summary.json (seed, versions, input hashes, config) and report.html.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bayesbg="${BAYESBG:-bayesbg}"
mkdir -p "$here/runs"
if [[ "${QUICK:-0}" == "1" ]]; then
    simulate=(--n-time 96 --bin-size 15)
else
    simulate=(--n-time 603 --bin-size 6)
fi
"$bayesbg" cosi simulate --output "$here/runs/cosi_511_sim.nc" --seed 1 --sky bulge \
    --flux 1e-3 --sigma 10 "${simulate[@]}" --overwrite
"$bayesbg" cosi scan-background "$here/cosi.toml" --workers 2 --overwrite
"$bayesbg" cosi fit "$here/cosi.toml" --overwrite
"$bayesbg" cosi scan-template "$here/cosi.toml" --workers 2 --overwrite
"$bayesbg" cosi deconvolve "$here/deconvolve.toml" --overwrite
"$bayesbg" runs "$here/runs"
