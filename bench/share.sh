#!/bin/bash
# Sharing a base, side by side in one guest boot (Debian 6.1, TCG, 2 vCPUs):
# 10 images share one base layer (the bench tree as one ZFile lz4 4 KiB
# layer), each with a small top layer of its own. Each is mounted, and the
# same files of the base are read from each: the base blob's bytes read and
# blocks decoded, and the kernel memory, of 10 images against 1; then one
# image's sequential, random 4K and full-tree reads with zfile's decoded-
# block cache at its default against off. Rounds interleaved (ROUNDS,
# default 3), medians. Writes bench/results/share.md and prints "BENCH key
# value" lines. Part of make bench (bench/run.sh), or alone.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. bench/guest-lib.sh
B=$TOP/build/bench-share D=$TOP/build/bench-share/data
MIB=${BENCH_MIB:-280} ROUNDS=${ROUNDS:-3} READ_MIB=${SHARE_READ_MIB:-24}
OVBD=$TOP/tools/build/ovbd
make -s -C tools
rm -rf "$B"; mkdir -p "$D" "$B/tree"

say "the tree: $MIB MiB of files from /usr/share and /usr/lib, as one lz4 4 KiB layer (the base)"
bench_tree "$MIB" "$B/tree"
size=$(du -sm "$B/tree" | cut -f1)
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$B/tree" "$B/raw.img" "$((size * 5 / 4 + 64))M"
"$OVBD" commit --zfile --algo lz4 --block-size 4096 --tar "$B/raw.img" "$D/base.tar"
say "10 top layers, each a small file of its own over the base"
for k in $(seq 1 10); do
	cp "$B/raw.img" "$B/top.img"
	echo "image $k" >"$B/top.txt"
	debugfs -w -R "write $B/top.txt /top-$k.txt" "$B/top.img" >/dev/null 2>&1
	"$OVBD" commit --zfile --algo lz4 --block-size 4096 --tar --lower="$D/base.tar" "$B/top.img" "$D/top$k.tar"
done
rm -f "$B/top.img" "$B/top.txt" "$B/raw.img"
# the files every image reads: the tree's first READ_MIB MiB of files, by name
(cd "$B/tree" && find . -type f -printf '%s %p\n' | LC_ALL=C sort -k2 |
	awk -v max=$((READ_MIB << 20)) '{ if (t >= max) exit; t += $1; print substr($0, index($0, " ") + 1) }') >"$D/files.txt"
echo "BENCH share_read_bytes $(cd "$B/tree" && tr '\n' '\0' <"$D/files.txt" | xargs -0 cat | wc -c)" >"$B/host.log"
echo "BENCH share_base_bytes $(stat -c %s "$D/base.tar")" >>"$B/host.log"
rm -rf "$B/tree"
bench_copy_bin "$(command -v fio)" "$D/fio"
cp bench/share-guest.sh "$D/guest.sh"; cp bench/fio-guest.sh "$D/"
bench_section_guest "$B" "$D" share "$MIB" "$ROUNDS"
