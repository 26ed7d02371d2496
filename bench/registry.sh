#!/bin/bash
# Pull speed against curl, side by side in one run: a local docker-registry
# on 127.0.0.1 (started and stopped here) serves an image of RAW_IMAGE made
# with ovbd commit --zfile --tar; each round times ovbd pull into an empty
# store, ovbd pull of the same image verified (its layers' dm-verity trees
# made as they stream, each root hash checked) into another, and curl
# fetching the same blobs to the same disk.
# Usage: registry.sh RAW_IMAGE WORKDIR; prints "BENCH key value".
set -eu
RAW=$1 W=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
OVBD=$TOP/tools/build/ovbd
ROUNDS=${ROUNDS:-3}
mkdir -p "$W"; cd "$W"
rm -rf layout reg pulled curled
half=$(( $(stat -c %s "$RAW") / 2 / 4096 * 4096 ))
head -c "$half" "$RAW" >low.raw; truncate -s "$(stat -c %s "$RAW")" low.raw
"$OVBD" commit --zfile --tar low.raw L1
"$OVBD" commit --lower L1 --zfile --tar "$RAW" L2
"$OVBD" image build --tag bench layout L1 L2 >/dev/null
. "$TOP/tests/registry-lib.sh"
start_registry "$W/reg"
port=$REG_PORT pid=$REG_PID
trap 'kill $pid 2>/dev/null' EXIT
"$OVBD" push layout:bench "127.0.0.1:$port/bench:v1" 2>/dev/null >/dev/null
# the same image verified: each layer's dm-verity tree made as it streams in
"$OVBD" verity add --tag benchv layout:bench >/dev/null
"$OVBD" push layout:benchv "127.0.0.1:$port/bench:vv" 2>/dev/null >/dev/null
bytes=$(( $(stat -c %s L1) + $(stat -c %s L2) ))
digests=$(for f in L1 L2; do echo "sha256:$(sha256sum "$f" | cut -c1-64)"; done)
now() { date +%s.%N; }
mbps() { awk -v b="$bytes" -v a="$1" -v z="$2" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }'; }
echo "BENCH pull_bytes $bytes"
for ((r = 0; r < ROUNDS; r++)); do
	rm -rf pulled pulledv curled; mkdir -p curled; sync
	# verified and unverified in turn first: the second of two pulls finds the
	# registry's files in the page cache
	for kind in $( [ $((r % 2)) = 0 ] && echo "plain verity" || echo "verity plain"); do
		t0=$(now)
		if [ "$kind" = plain ]; then
			"$OVBD" pull "127.0.0.1:$port/bench:v1" pulled >/dev/null 2>&1
			sync; echo "BENCH pull_ovbd_MBps $(mbps "$t0" "$(now)")"
		else
			"$OVBD" pull "127.0.0.1:$port/bench:vv" pulledv >/dev/null 2>&1
			sync; echo "BENCH pull_verity_MBps $(mbps "$t0" "$(now)")"
		fi
	done
	t1=$(now)
	for d in $digests; do
		curl -s -f -L -o "curled/${d#sha256:}" "http://127.0.0.1:$port/v2/bench/blobs/$d"
	done
	sync; t2=$(now)
	echo "BENCH pull_curl_MBps $(mbps "$t1" "$t2")"
done
