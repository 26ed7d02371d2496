#!/bin/bash
# Regenerate the seed corpora with ovbd: small images of every kind.
set -e
here=$(cd "$(dirname "$0")" && pwd)
OVBD=${OVBD:-$here/../../tools/build/ovbd}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cd "$t"
{ yes "seed text" | head -c 9000; head -c 3000 /dev/urandom; head -c 4000 /dev/zero; } >raw
truncate -s 48K raw
for d in zfile lsmt tar decode; do rm -rf "${here:?}/corpus/$d"; mkdir -p "$here/corpus/$d"; done
"$OVBD" zfile raw "$here/corpus/zfile/lz4-4k"
"$OVBD" zfile --algo zstd --block-size 8192 raw "$here/corpus/zfile/zstd-8k"
"$OVBD" zfile --no-verify raw "$here/corpus/zfile/lz4-noverify"
"$OVBD" commit raw base
"$OVBD" commit --zfile raw "$here/corpus/zfile/commit-z"
printf 'x' | dd of=raw bs=1 seek=5000 conv=notrunc status=none
dd if=/dev/zero of=raw bs=512 seek=2 count=4 conv=notrunc status=none
"$OVBD" commit --lower base raw top
cp base "$here/corpus/lsmt/one"
{ printf '\001'; cat base base; } >"$here/corpus/lsmt/two"
"$OVBD" zfile --tar raw "$here/corpus/tar/zfile-tar"
head -c 4096 "$here/corpus/tar/zfile-tar" >"$here/corpus/tar/head"
# decode seeds: byte 0 = flags (bit 0 zstd, bit 1 verify, size code), byte 1 = tail
blk() { # ZFILE FLAGS NAME
	local off len
	len=$(od -An -tu4 -j "$(od -An -tu8 -j $(( $(stat -c %s "$1") - 512 + 40 )) -N 8 "$1" | tr -d ' ')" -N 4 "$1" | tr -d ' ')
	{ printf "\\x$(printf %02x "$2")\\x00"; dd if="$1" bs=1 skip=512 count="$len" status=none; } >"$here/corpus/decode/$3"
}
blk "$here/corpus/zfile/lz4-4k" 2 lz4-verify
blk "$here/corpus/zfile/zstd-8k" 7 zstd-verify-8k
blk "$here/corpus/zfile/lz4-noverify" 0 lz4
# crafted hostile layers (tests/craft.py), one seed per class of issue 10
craft() { python3 "$here/../craft.py" "$@"; }
craft wrap "$here/corpus/lsmt/wrap-2-50"
craft tagged "$here/corpus/lsmt/merged-tags"; rm -f "$here/corpus/lsmt/merged-tags.sha256"
craft zeroed0 "$here/corpus/lsmt/zeroed-moffset-0"
craft bomb "$here/corpus/lsmt/padded-index" 2048	# under the fuzzers' 64 KiB max_len
craft many "$here/corpus/lsmt/many-segments" 3000
craft paxdir "$t/paxdir" "$here/corpus/lsmt/merged-tags"
head -c 4096 "$t/paxdir" >"$here/corpus/tar/pax-directory"
