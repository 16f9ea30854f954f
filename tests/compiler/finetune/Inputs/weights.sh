#!/bin/sh
# weights.sh DCC CC MODEL.expr WEIGHTS DIR 'SUBSET OPTION' [more dcc options]:
# compile MODEL with --weights WEIGHTS whole (--prefix full) and with the
# option too (--prefix sub) into DIR, build weights_main.c with both under
# CC (a compiler and its flags, one word per flag), and run it.
set -e
dcc=$1 cc=$2 model=$3 weights=$4 dir=$5 subset=$6
shift 6
here=$(dirname "$0")
mkdir -p "$dir"
"$dcc" --prefix full --weights "$weights" "$@" "$model" -o "$dir/full.c"
# shellcheck disable=SC2086  # the option and its value
"$dcc" --prefix sub --weights "$weights" $subset "$@" "$model" -o "$dir/sub.c"
# shellcheck disable=SC2086
$cc -I"$dir" "-DSUBSET_OPTION=\"$subset\"" -o "$dir/weights" "$here/weights_main.c" "$dir/full.c" "$dir/sub.c" -lm
"$dir/weights"
