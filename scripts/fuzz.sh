#!/usr/bin/env bash
# Fuzzes the input readers and the gnuplot script writer with libFuzzer (clang, with AddressSanitizer and UndefinedBehaviorSanitizer):
#   fuzz_scenario  YAML text -> cb_ytree_load_string -> cb_scenario_bind
#   fuzz_series    CSV text -> cb_series_parse
#   fuzz_override  --set assignments -> cb_ytree_override on the baseline -> cb_scenario_bind
#   fuzz_snapshot  snapshot bytes -> cb_snapshot_from_buffer on a tiny initialised simulation
#   fuzz_results   summary.json NUL metrics.csv -> cb_rp_summary_parse, cb_rp_metrics_parse (report readers)
#   fuzz_gnuplot   chart texts split at NUL -> cb_rp_chart_script, cb_rp_forest_script, checked: no byte of
#                  the texts outside a single-quoted literal (a broken rule aborts: a finding)
#
#   bash scripts/fuzz.sh [SECONDS]      # each target for SECONDS (default 60), two at a time
#
# scripts/test.sh runs the bounded 60-second run. A longer campaign is the same command with a
# larger SECONDS, e.g. `bash scripts/fuzz.sh 3600` for an hour per target; the working corpus in
# build-fuzz/corpus/ is kept between runs, so each campaign starts where the last one ended.
#
# Installs nothing (scripts/deps.sh does). Builds build-fuzz with clang and -DCB_FUZZ=ON, copies
# the committed seed corpora fuzz/corpus/<target>/ into the working corpora build-fuzz/corpus/<target>/
# (the repository is never written), adds freshly taken snapshots of the fuzzed world to the
# snapshot corpus (their layout fingerprint changes whenever the code does, so none is committed),
# and prints one line per target: runs executed and whether anything was found. A crash, leak,
# timeout (-timeout=10) or excess memory (-rss_limit_mb=2048) makes it exit non-zero; the input
# that caused it is in build-fuzz/findings/ and the fuzzer's report in build-fuzz/logs/<target>.log.
# Replay one with e.g. `CB_FUZZ_PRINT=1 build-fuzz/fuzz/fuzz_series build-fuzz/findings/series-crash-...`;
# keep it under fuzz/regressions/<target>/ once fixed (tests/test_fuzz_regressions.c replays those).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: bash scripts/fuzz.sh [SECONDS]  (a positive whole number; default 60)" >&2
  exit 2
fi
targets=(scenario series override snapshot results gnuplot)
dir=build-fuzz
# The world of the snapshot fuzzer: the same overrides as CBF_SNAPSHOT_SETS in fuzz/inputs.h.
snapshot_sets=(--set population.buyers=200 --set population.traders=10 --set population.middlemen=4
  --set population.officials=10)
snapshot_days=(2012-01-02 2012-03-15) # the first possible day, and one with goods in transit

echo "== fuzz: building $dir with clang (libFuzzer, ASan, UBSan) =="
mkdir -p "$dir"
if ! { cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
  cmake --build "$dir" -j 2 --target contraband_cli "${targets[@]/#/fuzz_}" >"$dir/build.log" 2>&1; }; then
  cat "$dir/build.log"
  echo "fuzz: build failed"
  exit 1
fi
if grep -qiE "warning" "$dir/build.log"; then
  grep -iE "warning" "$dir/build.log"
  echo "fuzz: the build printed warnings"
  exit 1
fi

mkdir -p "$dir/findings" "$dir/logs"
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t"
  cp fuzz/corpus/"$t"/* "$dir/corpus/$t/"
done
for day in "${snapshot_days[@]}"; do
  if ! "$dir/contraband" run scenarios/baseline.yaml "${snapshot_sets[@]}" --quiet --out "$dir/snapshot-run" \
    --snapshot-at "$day" --snapshot "$dir/corpus/snapshot/fresh-$day.snap"; then
    echo "fuzz: cannot take the seed snapshot of $day"
    exit 1
  fi
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fuzz_one() { # target: runs it for $seconds; its exit status is libFuzzer's
  local t=$1
  rm -f "$dir/findings/$t-"*
  "$dir/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/findings/$t-" "$dir/corpus/$t" >"$dir/logs/$t.log" 2>&1
}

report() { # target, exit status: prints the target's line; returns non-zero if it found something
  local t=$1 status=$2 runs found
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$dir/logs/$t.log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$dir/logs/$t.log" | tail -n 1)
  found=$(find "$dir/findings" -maxdepth 1 -name "$t-*" -type f | sort)
  if [ "$status" -eq 0 ] && [ -z "$found" ]; then
    printf 'fuzz_%-9s %10s runs in %ss: no crash, leak or timeout\n' "$t" "${runs:-?}" "$seconds"
    return 0
  fi
  printf 'fuzz_%-9s %10s runs: FOUND %s (exit %s); input: %s; report: %s\n' "$t" "${runs:-?}" \
    "$(grep -oE -m 1 "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer|UndefinedBehaviorSanitizer)[^(]*|runtime error: .*" \
      "$dir/logs/$t.log" | head -n 1)" "$status" "${found//$'\n'/ }" "$dir/logs/$t.log"
  return 1
}

echo "== fuzz: ${#targets[@]} targets, ${seconds}s each, two at a time =="
bad=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pair=("${targets[@]:i:2}")
  pids=()
  for t in "${pair[@]}"; do
    fuzz_one "$t" &
    pids+=($!)
  done
  for k in "${!pair[@]}"; do
    wait "${pids[$k]}"
    report "${pair[$k]}" $? || bad=$((bad + 1))
  done
done
if [ "$bad" -gt 0 ]; then
  echo "fuzz: $bad target(s) found a problem; inputs in $dir/findings/"
  exit 1
fi
echo "fuzz: no target found a problem"
