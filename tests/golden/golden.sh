#!/usr/bin/env bash
# Golden output: generated/NAME/ holds what dcc emits for examples/NAME/*.expr.
#   golden.sh --update DCC   regenerate generated/
#   golden.sh --check DCC    regenerate into a temporary folder and fail,
#                            printing the diff, if generated/ differs
set -euo pipefail
mode=$1
dcc=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

generate() { # into folder $1
  local out=$1 ex name
  for ex in examples/*/*.expr; do
    name=$(basename "$ex" .expr)
    mkdir -p "$out/$(basename "$(dirname "$ex")")"
    # shellcheck disable=SC2046  # the flags file holds several words
    "$dcc" "$ex" $(cat "${ex%.expr}.dccflags" 2>/dev/null) -o "$out/$(basename "$(dirname "$ex")")/$name.c"
  done
}

case $mode in
--update)
  rm -rf generated.new
  generate generated.new
  rm -rf generated
  mv generated.new generated
  echo "golden: generated/ refreshed"
  ;;
--check)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -ru generated "$tmp" >"$tmp.diff" 2>&1; then
    sed "s|$tmp|(regenerated)|g" "$tmp.diff"
    rm -f "$tmp.diff"
    echo "golden: generated/ is stale: run 'make golden' and review the diff"
    exit 1
  fi
  rm -f "$tmp.diff"
  echo "golden: generated/ is up to date ($(find generated -type f | wc -l) files)"
  ;;
*)
  echo "usage: golden.sh --update|--check DCC" >&2
  exit 2
  ;;
esac
