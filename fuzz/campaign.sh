#!/usr/bin/env bash
# A long local campaign: runs each named target for SECONDS in libFuzzer's fork mode
# (crashes, timeouts and OOMs are kept in fuzz/artifacts/<target>/ and the campaign goes
# on), then prints one summary line per target: runs, execs/s, coverage, new corpus
# entries and crash count. Logs stay in fuzz/campaigns/<target>.log.
#
# usage: fuzz/campaign.sh SECONDS TARGET...    e.g. fuzz/campaign.sh 3600 paddle_load
# env:   FUZZ_JOBS=N (fork workers, default 1)  FUZZ_SANITIZER=none|address
set -euo pipefail
secs=${1:?usage: fuzz/campaign.sh SECONDS TARGET...}
shift
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$fuzz_dir/.."
sanitizer=${FUZZ_SANITIZER:-none}
[ "$sanitizer" = none ] || export RUSTC_BOOTSTRAP=1
"$fuzz_dir/seed.sh" >/dev/null
cargo fuzz build --fuzz-dir "$fuzz_dir" -s "$sanitizer" >/dev/null 2>&1
bin_dir="$fuzz_dir/target/x86_64-unknown-linux-gnu/release"
mkdir -p "$fuzz_dir/campaigns"
for t in "$@"; do
    corpus="$fuzz_dir/corpus/$t"
    artifacts="$fuzz_dir/artifacts/$t"
    log="$fuzz_dir/campaigns/$t.log"
    mkdir -p "$corpus" "$artifacts"
    before=$(ls "$corpus" | wc -l)
    crashes_before=$(ls "$artifacts" | wc -l)
    args=(-fork="${FUZZ_JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1
        -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -malloc_limit_mb=2048
        -max_len=16384 -artifact_prefix="$artifacts/")
    case $t in
        pickle_decode | paddle_load | reencode_identity | serde_pickle_diff | convert | frame_reader)
            args+=(-dict="$fuzz_dir/pickle.dict") ;;
    esac
    start=$(date +%s)
    "$bin_dir/$t" "${args[@]}" "$corpus" >"$log" 2>&1 || true
    took=$(($(date +%s) - start))
    # fork mode's status lines: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: a/b/c time: Ts"
    last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n1)
    runs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    cov=$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$last")
    ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$last")
    oct=$(sed -E 's/.*oom\/timeout\/crash: ([0-9\/]+).*/\1/' <<<"$last")
    new=$(($(ls "$corpus" | wc -l) - before))
    crashes=$(($(ls "$artifacts" | wc -l) - crashes_before))
    printf 'campaign: %-22s %6s s  %12s runs  %7s execs/s  cov %s ft %s  +%s corpus  oom/timeout/crash %s  new artifacts %s\n' \
        "$t" "$took" "${runs:-?}" "$(( ${runs:-0} / (took > 0 ? took : 1) ))" "${cov:-?}" "${ft:-?}" "$new" "${oct:-?}" "$crashes"
done
