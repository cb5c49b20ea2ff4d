#!/usr/bin/env bash
# Fuzzes every target (or the targets named) for a bounded time each, keeps what the fuzzer
# found, and reports executions and crashes.
#
#   fuzz/run.sh [TARGET...]          FUZZ_SECONDS=120 per target by default
#
# - The corpus of each target is fuzz/corpus/<target>/: the seeds (fuzz/seed.py: the golden cases,
#   fixtures and configs, written again after every run), grown by the run, then minimized
#   (`cargo fuzz cmin`, one input per newly reached edge) so that what is committed is the
#   smallest set with the same edge coverage.
# - Each crash is copied to fuzz/regressions/<target>/, which `cargo test` (tests/fuzz.rs) runs
#   from then on: fix the bug, keep the file.
# - The report (one line per target) is printed and appended to fuzz/runs.txt.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain, or the stable one with
# RUSTC_BOOTSTRAP=1 (libFuzzer's instrumentation flags are unstable). Not part of CI: a bounded
# fuzzing run proves nothing in a given time, it finds inputs; the inputs are what CI keeps.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${FUZZ_SECONDS:-120}
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  cargo_fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  cargo_fuzz=(cargo fuzz)
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("${cargo_fuzz[@]}" list)
python3 seed.py

# Safe Rust: no sanitizer (twice the executions); debug assertions catch overflows.
build=(-s none --debug-assertions)
"${cargo_fuzz[@]}" build "${build[@]}"
mkdir -p logs
report=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t"
  before=$(ls "corpus/$t" | wc -l)
  known=$(ls "artifacts/$t" | wc -l)
  # -fork with -ignore_crashes: a crash is recorded and fuzzing goes on.
  "${cargo_fuzz[@]}" run "${build[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -dict=yaml.dict -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -print_final_stats=1 \
    > "logs/$t.log" 2>&1 || true
  # The last status line of fork mode: "#<executions>: cov: ... crash: a/b/c ...".
  execs=$(grep -oE '^#[0-9]+' "logs/$t.log" | tail -1 | tr -d '#')
  crashes=$(( $(ls "artifacts/$t" | wc -l) - known ))
  for f in "artifacts/$t"/*; do
    [ -e "$f" ] && cp -n "$f" "regressions/$t/"
  done
  grown=$(ls "corpus/$t" | wc -l)
  "${cargo_fuzz[@]}" cmin "${build[@]}" "$t" "corpus/$t" -- -max_len=65536 -timeout=10 \
    -use_counters=0 -use_value_profile=0 > "logs/$t.cmin.log" 2>&1
  python3 seed.py  # the seeds stay, whatever cmin kept
  kept=$(ls "corpus/$t" | wc -l)
  report+=("$(printf '%-28s %5ss %12s executions %4s crashes   corpus %5s -> %5s -> %5s (cmin)' \
    "$t" "$SECONDS_EACH" "${execs:-?}" "$crashes" "$before" "$grown" "$kept")")
done
printf '%s\n' "fuzz run $(date -u +%Y-%m-%dT%H:%MZ), $("${cargo_fuzz[@]}" --version)" "${report[@]}" | tee -a runs.txt
