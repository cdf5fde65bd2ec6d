# Sourced by adapters/*/check.sh: sets the array `targets` to what a scanner is given for
# PATH (what paddle.load is given): PATH itself when it exists (a file or a directory), else
# the files of the model prefix PATH (each existing PATH.pdmodel, PATH.json, PATH.pdiparams,
# PATH.pdiparams.info). Exits 2 when there is none.
pdsave_targets() {
  targets=()
  if [[ -e "$1" ]]; then
    targets=("$1")
  else
    for ext in .pdmodel .json .pdiparams .pdiparams.info; do
      [[ -e "$1$ext" ]] && targets+=("$1$ext")
    done
  fi
  if [[ ${#targets[@]} -eq 0 ]]; then
    echo "check.sh: $1: no such file, directory or model prefix" >&2
    exit 2
  fi
}
