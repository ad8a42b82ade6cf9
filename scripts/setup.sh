#!/usr/bin/env bash
# The README's first command: installs the Debian packages contraband needs, builds it (release),
# and runs the baseline scenario into out/baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
echo
echo "== baseline: scenarios/baseline.yaml (2012-2019, 100,000 buyers) =="
./build/contraband run scenarios/baseline.yaml --out out/baseline
echo
echo "== the baseline's report: charts of prices, routes, channels and enforcement, with its parameters =="
./build/contraband report out/baseline -o out/baseline/report.html
echo "open out/baseline/report.html in a browser (it needs no network)"
