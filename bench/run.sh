#!/usr/bin/env bash
# Benchmarks: builds the release configuration and runs the baseline and the large scenario, one
# process each, printing wall time, simulated agent-days per second, peak resident memory and
# bytes per buyer. Targets (one core): baseline < 3 s, large < 60 s, < 256 bytes per buyer.
# Then ensemble throughput of the baseline (runs stored per second) with 1 and 2 jobs, and under
# MPI with 1 and 2 ranks.
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
# The same under MPI, 1 and 2 ranks (rank 0 also runs replicates on its own thread).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
for ranks in 1 2; do
  runs=$((2 * ranks))
  rm -f bench/out/mpi.db
  t0=$(date +%s.%N)
  mpirun -np "$ranks" ./build/contraband ensemble scenarios/baseline.yaml --runs "$runs" --db bench/out/mpi.db --quiet
  t1=$(date +%s.%N)
  awk -v r="$runs" -v n="$ranks" -v a="$t0" -v b="$t1" \
    'BEGIN { printf "mpi ensemble scenarios/baseline.yaml   runs %4d  ranks %d  wall %7.2f s  %7.3f runs/s\n", r, n, b - a, r / (b - a) }'
done
