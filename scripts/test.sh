#!/usr/bin/env bash
# The README's second command: every test. It builds and runs the whole CTest suite twice — a
# release build, then an AddressSanitizer + UndefinedBehaviorSanitizer build — and runs a short
# simulation under valgrind's memcheck, which must report no errors and no leaks, and threaded runs
# under ThreadSanitizer, which must report no data races. Builds must be free of warnings
# (-Wall -Wextra -Wshadow -Wconversion, as errors).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh >/dev/null || { echo "tests: cannot install dependencies"; exit 1; }
jobs=$(nproc)
passed=0
failed=0

count() { # adds a ctest log's totals to passed/failed
  local line total bad
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$1" | tail -n 1)
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
  if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

suite() { # name, build dir, cmake arguments...
  local name=$1 dir=$2
  shift 2
  echo "== $name =="
  mkdir -p "$dir"
  if ! { cmake -S . -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j "$jobs" >"$dir/build.log" 2>&1; }; then
    cat "$dir/build.log"
    echo "$name: build failed"
    failed=$((failed + 1))
    return
  fi
  if grep -qiE "warning" "$dir/build.log"; then
    grep -iE "warning" "$dir/build.log"
    echo "$name: the build printed warnings"
    failed=$((failed + 1))
  fi
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure | tee "$dir/ctest.log"
  count "$dir/ctest.log"
}

suite "release build" build -DCMAKE_BUILD_TYPE=Release
suite "AddressSanitizer + UndefinedBehaviorSanitizer build" build-asan -DCMAKE_BUILD_TYPE=Debug -DCB_SANITIZE=ON

# A check outside CTest counts as one test: ok_message, fail_message, then the command.
check() {
  local ok=$1 bad=$2
  shift 2
  if "$@"; then
    echo "$ok"
    passed=$((passed + 1))
  else
    echo "$bad"
    failed=$((failed + 1))
  fi
}
memcheck=(valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=all --show-leak-kinds=all -q)
small=(--set population.buyers=1000 --set population.traders=30 --set population.middlemen=10 --set population.officials=40
  --set simulation.end=2012-06-30 --set 'sanctions={}' --set 'crackdowns={}' --set 'campaigns={}' --set 'closures={}'
  --set 'income_shocks={}')

valgrind_run() {
  "${memcheck[@]}" ./build-valgrind/contraband run scenarios/baseline.yaml --check --quiet --out build-valgrind/out \
    --set population.buyers=2000 --set population.traders=40 --set population.middlemen=10 --set population.officials=40
}
valgrind_ensemble() {
  rm -f build-valgrind/ensemble.db
  "${memcheck[@]}" ./build-valgrind/contraband ensemble scenarios/baseline.yaml "${small[@]}" --runs 3 --jobs 2 --quiet \
    --db build-valgrind/ensemble.db &&
    "${memcheck[@]}" ./build-valgrind/contraband export build-valgrind/ensemble.db --out build-valgrind/ensemble.csv
}
valgrind_report() {
  "${memcheck[@]}" ./build-valgrind/contraband report build-valgrind/ensemble.db -o build-valgrind/report.html --quiet &&
    "${memcheck[@]}" ./build-valgrind/contraband plot build-valgrind/out --metric price_usd --by origin -o build-valgrind/price.pdf --quiet
}
tsan_runs() {
  rm -f build-tsan/ensemble.db
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./build-tsan/contraband run scenarios/baseline.yaml --threads 3 --quiet \
    --out build-tsan/out --set population.buyers=5000 --set population.traders=100 &&
    TSAN_OPTIONS="halt_on_error=1 exitcode=66" ./build-tsan/contraband ensemble scenarios/baseline.yaml "${small[@]}" \
      --runs 3 --jobs 2 --threads 2 --quiet --db build-tsan/ensemble.db
}

echo "== valgrind memcheck: a short run of the baseline world with the ledger checked daily =="
cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug >/dev/null && cmake --build build-valgrind -j "$jobs" --target contraband_cli >/dev/null
check "valgrind: no errors, no leaks" "valgrind: memcheck found errors or leaks (see above)" valgrind_run
echo "== valgrind memcheck: an ensemble on two threads into a results store, and its export =="
check "valgrind: no errors, no leaks" "valgrind: memcheck found errors or leaks (see above)" valgrind_ensemble
echo "== valgrind memcheck: the ensemble's report and a figure of the run =="
check "valgrind: no errors, no leaks" "valgrind: memcheck found errors or leaks (see above)" valgrind_report

echo "== ThreadSanitizer: a run on 3 threads and an ensemble of 2 jobs x 2 threads =="
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-fsanitize=thread -O1" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null && cmake --build build-tsan -j "$jobs" --target contraband_cli >/dev/null
check "tsan: no data races" "tsan: ThreadSanitizer reported a problem (see above)" tsan_runs

echo "== libFuzzer: each input reader fuzzed for 60 seconds (scripts/fuzz.sh) =="
check "fuzz: no crash, leak or timeout" "fuzz: a fuzzer found a problem (see above; inputs in build-fuzz/findings/)" \
  bash scripts/fuzz.sh 60

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
