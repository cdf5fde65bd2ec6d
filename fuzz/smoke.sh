#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 30) over its seed corpus,
# one process at a time. Prints execs/s per target; exits non-zero on any crash, panic,
# timeout or out-of-memory (the failing input is left in fuzz/artifacts/<target>/).
#
# usage: fuzz/smoke.sh [SECONDS]        e.g. fuzz/smoke.sh 30  (9 targets: ~5 min + build)
# env:   FUZZ_SANITIZER=none|address    (default none: builds on stable Rust as is;
#                                        address needs RUSTC_BOOTSTRAP=1, set here)
#        FUZZ_TARGETS="a b"             (default: every target)
#        FUZZ_SEED=N                    (default 1: the same inputs every run)
set -euo pipefail
secs=${1:-30}
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$fuzz_dir/.." && pwd)
cd "$root"
sanitizer=${FUZZ_SANITIZER:-none}
if [ "$sanitizer" != none ]; then
    export RUSTC_BOOTSTRAP=1 # cargo-fuzz passes -Zsanitizer=...; stable rustc accepts it so
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "smoke: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
"$fuzz_dir/seed.sh" >/dev/null
logs=$(mktemp -d)
# The convert target works in /dev/shm/pdsave-fuzz-convert-PID (or $TMPDIR): remove those
# of processes that have ended (a campaign running beside keeps its own).
clean_scratch() {
    local d
    for d in /dev/shm/pdsave-fuzz-convert-* "${TMPDIR:-/tmp}"/pdsave-fuzz-convert-*; do
        [ -e "$d" ] || continue
        kill -0 "${d##*-}" 2>/dev/null || rm -rf "$d"
    done
}
trap 'rm -rf "$logs"; clean_scratch' EXIT
targets=${FUZZ_TARGETS:-$(cargo fuzz list --fuzz-dir "$fuzz_dir")}
start=$(date +%s)
if ! cargo fuzz build --fuzz-dir "$fuzz_dir" -s "$sanitizer" >"$logs/build" 2>&1; then
    tail -n 40 "$logs/build"
    echo "smoke: build failed" >&2
    exit 1
fi
echo "smoke: built $(echo $targets | wc -w) targets in $(($(date +%s) - start)) s (sanitizer $sanitizer)"
bin_dir="$fuzz_dir/target/x86_64-unknown-linux-gnu/release"
failed=()
for t in $targets; do
    corpus="$fuzz_dir/corpus/$t"
    artifacts="$fuzz_dir/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    # A fixed seed (FUZZ_SEED, default 1): CI explores the same inputs every run, so a red
    # smoke is reproducible and long campaigns (campaign.sh, random seeds) do the exploring.
    args=(-seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=2048
        -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/")
    case $t in
        pickle_decode | paddle_load | reencode_identity | serde_pickle_diff | convert | frame_reader)
            args+=(-dict="$fuzz_dir/pickle.dict") ;;
    esac
    rc=0
    "$bin_dir/$t" "${args[@]}" "$corpus" >"$logs/$t" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t" | tail -n1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$logs/$t" | tail -n1 || true)
    if [ "$rc" -eq 0 ]; then
        printf 'smoke: %-22s ok      %8s execs/s  %10s runs  %s\n' "$t" "${execs:-?}" "${runs:-?}" "$cov"
    else
        printf 'smoke: %-22s FAILED  %8s execs/s  (exit %s)\n' "$t" "${execs:-?}" "$rc"
        grep -v 'Uses:' "$logs/$t" | grep -E -A25 'panicked|ERROR|SUMMARY' | head -n 60 || tail -n 40 "$logs/$t"
        grep -o 'Test unit written to .*' "$logs/$t" || true
        failed+=("$t")
    fi
done
echo "smoke: $(($(date +%s) - start)) s in all"
if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke: crashes in: ${failed[*]}" >&2
    exit 1
fi
