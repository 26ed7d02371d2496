#!/bin/bash
# Build the libFuzzer targets and run each for FUZZ_SECONDS (default 30) from
# its seed corpus. One "ok"/"not ok" line per target, with its exec count.
. "$(dirname "$0")/../lib.sh"
SECONDS_EACH=${FUZZ_SECONDS:-30}
OUT=${FUZZ_BUILD:-$TOP/build/fuzz}
mkdir -p "$OUT"
CORE="$TOP/src/format/zfile.c $TOP/src/format/lsmt.c $TOP/src/format/tar.c $TOP/src/format/detect.c $TOP/tools/lib/port.c"
for t in zfile lsmt tar decode; do
	bin=$OUT/fuzz_$t
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$TOP/include" -o "$bin" "$TOP/tests/fuzz/fuzz_$t.c" $CORE -llz4 -lzstd 2>"$OUT/$t.build.log"; then
		not_ok "fuzz_$t: build failed: $(head -c 300 "$OUT/$t.build.log")"
		continue
	fi
	work=$OUT/corpus_$t; rm -rf "$work"; mkdir -p "$work"
	cp "$TOP/tests/fuzz/corpus/$t/"* "$work/"
	(cd "$OUT" && "$bin" -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 "$work" >"$OUT/$t.log" 2>&1)
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$')
	if [ $rc -eq 0 ] && [ -n "$execs" ]; then
		ok "fuzz_$t: $execs execs in ${SECONDS_EACH}s, clean"
	else
		not_ok "fuzz_$t: exit $rc; $(grep -m3 -E 'ERROR|SUMMARY|crash-' "$OUT/$t.log" | tr '\n' ' ')"
	fi
done
summary
