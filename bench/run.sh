#!/usr/bin/env bash
# Benchmarks: builds the release configuration and runs the baseline and the large scenario, one
# process each, printing wall time, simulated agent-days per second, peak resident memory and
# bytes per buyer. Targets (one core): baseline < 3 s, large < 60 s, < 256 bytes per buyer.
# Then ensemble throughput of the baseline (runs stored per second) with 1 and 2 jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target cb_bench >/dev/null
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
taskset -c 0 ./build/cb_bench scenarios/baseline.yaml scenarios/large.yaml "$@"
# Ensemble throughput: runs stored per second with one job, then with one job per core.
mkdir -p bench/out
./build/cb_bench --ensemble scenarios/baseline.yaml 2 1 bench/out/ensemble.db
./build/cb_bench --ensemble scenarios/baseline.yaml 4 2 bench/out/ensemble.db
