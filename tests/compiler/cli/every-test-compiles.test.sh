# Helper of every-test-compiles.test: DCC TESTS_DIR OUT_DIR
dcc=$1 tests=$2 out=$3
n=0 failed=0
for f in $(find "$tests" -name '*.expr' | sort); do
  "$dcc" -w "$f" -o "$out/m.c" --prefix m 2>/dev/null || continue # an error test
  n=$((n + 1))
  for real in double float; do
    # as dcc decides, and with loops wherever there is a tensor
    for limit in 64 0; do
      "$dcc" -w "$f" --real "$real" --unroll-limit $limit --no-header -o "$out/m.c" --prefix m
      for cc in clang gcc; do
        if ! $cc -std=c99 -Wall -Wextra -Werror -pedantic -c "$out/m.c" -o "$out/m.o"; then
          echo "FAILED: $f ($real, --unroll-limit $limit, $cc)"
          failed=$((failed + 1))
        fi
      done
    done
  done
done
echo "every-test-compiles: $n models, $failed failed"
