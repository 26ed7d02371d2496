#!/bin/bash
# The userspace read path on the host, side by side in one run: ovbd cat of
# a whole-image ZFile (lz4 and zstd, 4 KiB blocks, CRC on) against the
# local limit, lz4 -b / zstd -b decompressing the same image cut into the
# same 4 KiB blocks, plus CRC32C throughput (dispatched and table) and
# ovbd cat with the table CRC forced (OVBD_CRC32C_PORTABLE=1).
# Usage: userspace.sh RAW_IMAGE WORKDIR CC_HELPER; prints "BENCH key value".
set -eu
RAW=$1 W=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
OVBD=$TOP/tools/build/ovbd
ROUNDS=${ROUNDS:-3}
mkdir -p "$W"
"$OVBD" zfile --algo lz4 --block-size 4096 "$RAW" "$W/u.lz4"
"$OVBD" zfile --algo zstd --block-size 4096 "$RAW" "$W/u.zstd"
bytes=$(stat -c %s "$RAW")
mbps() {	# CMD...: decompressed MB/s (10^6 bytes) of one timed run
	local t0 t1
	t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
	awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", b / (z - a) / 1e6 }'
}
cat "$W/u.lz4" "$W/u.zstd" "$RAW" >/dev/null	# warm the page cache: CPU only
for ((r = 0; r < ROUNDS; r++)); do
	echo "BENCH us_cat_lz4_MBps $(mbps "$OVBD" cat "$W/u.lz4" -o /dev/null)"
	echo "BENCH us_cat_zstd_MBps $(mbps "$OVBD" cat "$W/u.zstd" -o /dev/null)"
	echo "BENCH us_cat_lz4_tablecrc_MBps $(OVBD_CRC32C_PORTABLE=1 mbps "$OVBD" cat "$W/u.lz4" -o /dev/null)"
	echo "BENCH us_lz4_b_MBps $(lz4 -b1 -B4096 -i1 "$RAW" 2>&1 | tr '\r' '\n' | grep -o '[0-9.]* MB/s' | tail -1 | cut -d' ' -f1)"
	echo "BENCH us_zstd_b_MBps $(zstd -b3 -B4096 -i1 "$RAW" 2>&1 | tr '\r' '\n' | grep -o '[0-9.]* MB/s' | tail -1 | cut -d' ' -f1)"
done
"$W/crcspeed"
