#!/usr/bin/env bash
# The fuzz targets of fuzz/ (cargo-fuzz, libFuzzer; docs/reliability.md "Fuzzing").
#
#   scripts/fuzz.sh build            build every target once (nightly, one cargo invocation)
#   scripts/fuzz.sh run [TARGET...]  fuzz each target (default: all) for FUZZ_SECONDS (default 10)
#                                    at `nice -n 19`, and append its CPU time to fuzz/ledger.tsv
#   scripts/fuzz.sh smoke            replay every checked-in corpus (deterministic; no new inputs,
#                                    so open findings do not make it flaky): what `make test` runs
#   scripts/fuzz.sh cmin [TARGET...] minimise the checked-in corpora (fuzz/corpus/<target>); with
#                                    FUZZ_CMIN_FOUND=1 also take in what fuzzing found ($FUZZ_WORK)
#   scripts/fuzz.sh list             the target names
#
# Inputs the fuzzer finds are kept between runs in $FUZZ_WORK/<target> (default
# ~/.cache/sealed-secrets-rs/fuzz-corpus), outside the repository; crashes, timeouts and
# out-of-memory inputs land in fuzz/artifacts/<target>/ and fail the run. The differential targets
# talk to the Go reference programs, built and cached by scripts/tools.sh go-references.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ_DIR=$ROOT/fuzz
CACHE=${SSRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealed-secrets-rs}
FUZZ_WORK=${FUZZ_WORK:-$CACHE/fuzz-corpus}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
# A single input slower than this is a hang; more memory than this an out-of-memory finding.
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
LEDGER=$FUZZ_DIR/ledger.tsv
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN_DIR=$FUZZ_DIR/target/$TRIPLE/release

log() { echo "[fuzz] $*" >&2; }

export PATH="$("$ROOT/scripts/tools.sh" cargo-fuzz):$PATH"
# The fuzz crate's own target directory, whatever the caller's CARGO_TARGET_DIR; and no
# clippy-driver wrapper (`make lint-test` sets one, for stable): the fuzz build is nightly.
unset CARGO_TARGET_DIR RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS

targets() { (cd "$FUZZ_DIR" && cargo +nightly fuzz list); }

# No sanitizer: `unsafe` is forbidden in our crates, so AddressSanitizer would instrument only
# code that cannot corrupt memory, at about twice the cost per input; libFuzzer's coverage
# instrumentation stays. Debug assertions are on, so integer overflow panics like in a debug build.
build() {
  (cd "$FUZZ_DIR" && cargo +nightly fuzz build --sanitizer none --debug-assertions)
}

go_references() {
  local bin; bin=$("$ROOT/scripts/tools.sh" go-references)
  export GOTEMPLATE_REFERENCE=$bin/gotemplate-ref GOYAML_REFERENCE=$bin/goyaml-ref
}

# run_target TARGET SECONDS RECORD: fuzz one target (SECONDS=0: only replay the checked-in corpus);
# RECORD=1 appends a line to the ledger.
run_target() {
  local t=$1 seconds=$2 record=$3
  local work=$FUZZ_WORK/$t artifacts=$FUZZ_DIR/artifacts/$t/ stats
  mkdir -p "$work" "$artifacts" "$FUZZ_DIR/corpus/$t"
  stats=$(mktemp)
  local rc=0 before mode
  before=$(find "$artifacts" -type f | wc -l)
  # The first corpus directory receives the new inputs; the checked-in one is only read. A run
  # fuzzes in a forked child and goes on after a finding (its input is written to $artifacts), so
  # one known finding does not end the run; the replay stops at the first.
  mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$seconds"
    "$work" "$FUZZ_DIR/corpus/$t")
  if (( seconds == 0 )); then mode=(-runs=0 "$FUZZ_DIR/corpus/$t"); fi
  /usr/bin/time -f '%U %S' -o "$stats.time" nice -n 19 "$BIN_DIR/$t" \
    -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
    -artifact_prefix="$artifacts" -print_final_stats=1 "${mode[@]}" >"$stats" 2>&1 || rc=$?
  local cpu execs found
  cpu=$(tail -1 "$stats.time" | awk '{printf "%.1f", $1 + $2}' 2>/dev/null || echo 0)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p; s/^#\([0-9][0-9]*\):.*/\1/p' "$stats" | tail -1)
  found=$(( $(find "$artifacts" -type f | wc -l) - before ))
  local result=ok
  if (( rc != 0 || found > 0 )); then
    result="finding(rc=$rc,new_inputs=$found)"
    (( rc != 0 )) || rc=1
    log "$t: FAILED (exit $rc, $found new inputs in $artifacts); last lines:"
    grep -v '^#\|^INFO\|^stat::' "$stats" | tail -25 >&2
  fi
  log "$t: ${cpu}s CPU, ${execs:-0} inputs, $result"
  if [[ $record == 1 ]]; then
    [[ -f $LEDGER ]] || printf 'date\ttarget\tcpu_seconds\tinputs\tresult\n' >"$LEDGER"
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" "$cpu" "${execs:-0}" "$result" >>"$LEDGER"
  fi
  rm -f "$stats" "$stats.time"
  return "$rc"
}

cmd=${1:-run}; shift || true
case $cmd in
  list) targets ;;
  build) build ;;
  run|smoke)
    build
    go_references
    if [[ $cmd == smoke ]]; then seconds=0; record=0; else seconds=$FUZZ_SECONDS; record=1; fi
    failed=()
    for t in ${*:-$(targets)}; do
      run_target "$t" "$seconds" "$record" || failed+=("$t")
    done
    if (( ${#failed[@]} > 0 )); then log "findings in: ${failed[*]}"; exit 1; fi ;;
  cmin)
    build
    go_references
    for t in ${*:-$(targets)}; do
      dir=$FUZZ_DIR/corpus/$t
      new=$(mktemp -d)
      nice -n 19 "$BIN_DIR/$t" -merge=1 -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
        "$new" "$dir" ${FUZZ_CMIN_FOUND:+"$FUZZ_WORK/$t"} >/dev/null 2>&1
      rm -rf "$dir"; mv "$new" "$dir"
      log "$t: $(ls "$dir" | wc -l) inputs, $(du -sk "$dir" | cut -f1) KiB"
    done ;;
  *) echo "usage: $0 [build|run|smoke|cmin|list] [TARGET...]" >&2; exit 2 ;;
esac
