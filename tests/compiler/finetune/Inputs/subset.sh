#!/bin/sh
# subset.sh DCC CC MODEL.expr DIR 'SUBSET OPTION' [more dcc options]:
# compile MODEL whole (--prefix full) and with the option (--prefix sub)
# into DIR, build subset_main.c with both under CC (a compiler and its
# flags, one word per flag), and run it.
set -e
dcc=$1 cc=$2 model=$3 dir=$4 subset=$5
shift 5
here=$(dirname "$0")
mkdir -p "$dir"
"$dcc" --prefix full "$@" "$model" -o "$dir/full.c"
# shellcheck disable=SC2086  # the option and its value
"$dcc" --prefix sub $subset "$@" "$model" -o "$dir/sub.c"
# shellcheck disable=SC2086
$cc -I"$dir" "-DSUBSET_OPTION=\"$subset\"" -o "$dir/subset" "$here/subset_main.c" "$dir/full.c" "$dir/sub.c" -lm
"$dir/subset"
