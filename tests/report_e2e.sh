#!/usr/bin/env bash
# The reports of a run, of an ensemble (A of the comparison) and of a forked comparison, opened in headless Chromium by report_e2e.py:
# every chart present and drawing data, no errors logged, nothing fetched; screenshots kept in
# OUT for a person to look at. Usage: report_e2e.sh CONTRABAND OUT (from the source tree).
set -euo pipefail
cli=$1
out=$2
small=(--set population.buyers=4000 --set population.traders=200)
rm -rf "$out"
mkdir -p "$out"
"$cli" run scenarios/baseline.yaml "${small[@]}" --quiet --out "$out/run"
"$cli" report "$out/run" -o "$out/run.html" --quiet
common=(--expect-chart chart-route --expect-chart chart-channel --expect-chart chart-route-share --expect-chart chart-enforcement
        --expect-chart chart-prices-pyongyang --expect-chart chart-prices-sinuiju --expect-chart chart-prices-hyesan)
python3 tests/report_e2e.py "$out/run.html" "$out/run.png" --min-charts 7 "${common[@]}"
"$cli" compare scenarios/baseline.yaml scenarios/hyesan-sealed.yaml "${small[@]}" --runs 3 --jobs 2 --fork-at 2015-01-01 \
  --db "$out/cmp.db" --out "$out/cmp" --quiet
"$cli" report "$out/cmp.db" -o "$out/cmp.html" --quiet
python3 tests/report_e2e.py "$out/cmp.html" "$out/cmp.png" --min-charts 8 --expect-chart chart-effects "${common[@]}"
"$cli" report "$out/cmp.db" --experiment 1 -o "$out/ensemble.html" --quiet
python3 tests/report_e2e.py "$out/ensemble.html" "$out/ensemble.png" --min-charts 7 "${common[@]}"
