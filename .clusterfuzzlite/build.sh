#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every target of fuzz/ with its seed corpus (from
# corpus/cases, via fuzz/seed.sh), dictionary and libFuzzer options. The base image
# provides nightly Rust and cargo-fuzz and sets the sanitizer flags.
cd "$SRC/pdsave"
cargo fuzz build -O --debug-assertions
fuzz/seed.sh >/dev/null
bin=fuzz/target/x86_64-unknown-linux-gnu/release
for t in $(cargo fuzz list); do
    cp "$bin/$t" "$OUT/"
    if [ -d "fuzz/corpus/$t" ]; then
        (cd "fuzz/corpus/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
    fi
    case $t in
        pickle_decode | paddle_load | reencode_identity | serde_pickle_diff | convert)
            cp fuzz/pickle.dict "$OUT/$t.dict" ;;
    esac
    # The same bounds as fuzz/smoke.sh (timeouts: ClusterFuzzLite's own default, 25 s).
    printf '[libfuzzer]\nmax_len = 16384\nrss_limit_mb = 2560\n' >"$OUT/$t.options"
done
