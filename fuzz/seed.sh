#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ (gitignored) from the committed corpus, corpus/cases/*/.
# Each case's files go to the targets that read their format (case.json "format"; for
# directories and program+params cases, by content: a pickle starts with PROTO (0x80), a
# PIR program with '{', anything else is a tensor stream or a ProgramDesc). Files are
# named <case>__<path> so that re-running only overwrites. roundtrip_structured's input
# is not a file format: it is seeded with a few pickles as raw entropy.
#
# usage: fuzz/seed.sh            (from anywhere; idempotent)
set -euo pipefail
fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cases="$fuzz_dir/../corpus/cases"
out="$fuzz_dir/corpus"
pickle_targets=(pickle_decode paddle_load reencode_identity serde_pickle_diff frame_reader)
max_bytes=$((1024 * 1024)) # larger seeds only slow every run down

put() { # put FILE NAME TARGET...
    local file=$1 name=$2
    shift 2
    for t in "$@"; do
        mkdir -p "$out/$t"
        cp "$file" "$out/$t/$name"
    done
}

n=0
for dir in "$cases"/*/; do
    case_id=$(basename "$dir")
    format=$(sed -n 's/.*"format": *"\([^"]*\)".*/\1/p' "$dir/case.json" 2>/dev/null | head -n1)
    while IFS= read -r -d '' f; do
        base=$(basename "$f")
        case $base in case.json | expected.*.json | values.json) continue ;; esac
        [ "$(stat -c %s "$f")" -le "$max_bytes" ] || continue
        rel=${f#"$dir"}
        name="${case_id}__${rel//\//_}"
        first=$(head -c 64 "$f" | tr -d ' \t\r\n' | head -c 1 | od -An -tx1 | tr -d ' \n')
        kind=$format
        if [ "$kind" != pickle ] && [ "$kind" != tensor_stream ] && [ "$kind" != program ]; then
            case $first in
                80) kind=pickle ;;
                7b) kind=program ;;
                *) kind=binary ;;
            esac
        fi
        # large: checkpoint metadata, safetensors files, indexes (spec/checkpoint.md).
        case $base in
            *.metadata | *.safetensors | *.index.json) put "$f" "$name" large ;;
        esac
        case $kind in
            pickle) put "$f" "$name" "${pickle_targets[@]}" ;;
            tensor_stream) put "$f" "$name" tensor_stream paddle_load ;;
            program) put "$f" "$name" program paddle_load ;;
            binary) put "$f" "$name" tensor_stream program paddle_load ;;
        esac
        if [ "$kind" = pickle ] && [ $((n % 16)) -eq 0 ]; then
            put "$f" "$name" roundtrip_structured
        fi
        n=$((n + 1))
    done < <(find "$dir" -type f -print0 | sort -z)
done
# convert: the pickle seeds, and (when a release pdsave is built) their .safetensors.
mkdir -p "$out/convert"
for f in "$out"/pickle_decode/y_p3_proto4_*; do
    [ -f "$f" ] || continue
    cp "$f" "$out/convert/"
    pdsave="$fuzz_dir/../target/release/pdsave"
    if [ -x "$pdsave" ]; then
        "$pdsave" convert "$f" "$out/convert/$(basename "$f").safetensors" >/dev/null 2>&1 || true
    fi
done
for t in "$out"/*/; do
    echo "seed: $(basename "$t"): $(find "$t" -type f | wc -l) files"
done
