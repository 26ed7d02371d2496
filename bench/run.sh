#!/bin/bash
# make bench: package one real file tree six ways, run every workload on all
# of them in one Debian 6.1 guest (TCG, 2 vCPUs), and print ratios measured
# side by side. Writes bench/results/latest.md (table, raw numbers, date,
# commit). BENCH_MIB sets the tree size (default 280 MiB of files), ROUNDS the
# rounds of each guest workload (default 3; the kernel passes it to init).
# The guest: bench/guest-lib.sh. DATA_ONLY=1 makes only the images that
# bench/ab.sh and bench/uml.sh read ((a)-(e), fio and the 255-layer stacks,
# about a minute) and stops there. ONLY=lazy makes only the open --lazy
# section's images and runs only it in the guest (bench/results/lazy.md; the
# full run's latest.md is left as it is).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. bench/guest-lib.sh
B=$TOP/build/bench D=$TOP/build/bench/data
MIB=${BENCH_MIB:-280}
OVBD=$TOP/tools/build/ovbd
full() { [ "${ONLY:-}" != lazy ]; }

[ "${SKIP_DEPS:-0}" = 1 ] || tools/install-deps.sh
make -s -C tools
rm -rf "$B"; mkdir -p "$D/c" "$D/stack" "$D/stack1" "$B/tree"

say "the tree: $MIB MiB of files from /usr/share and /usr/lib"
bench_tree "$MIB" "$B/tree"
size=$(du -sm "$B/tree" | cut -f1)
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$B/tree" "$D/raw.img" "$((size * 5 / 4 + 64))M"

if full; then
say "(b) one uncompressed layer, (d) lz4 4 KiB, (e) zstd 16 KiB"
"$OVBD" commit "$D/raw.img" "$D/b.lsmt"
"$OVBD" commit --zfile --algo lz4 --block-size 4096 "$D/raw.img" "$D/d.zfile"
"$OVBD" commit --zfile --algo zstd --block-size 16384 "$D/raw.img" "$D/e.zfile"
head -c $((1 << 20)) "$D/raw.img" >"$B/small.raw"
# tar-wrapped, as a registry's layer: a bare ZFile's partial last sector,
# which a loop device drops, can hold its trailer's fields
"$OVBD" zfile --tar "$B/small.raw" "$D/small.tar"; rm "$B/small.raw"
say "(c) the same content over 10 uncompressed layers"
bytes=$(stat -c %s "$D/raw.img"); lowers=()
for k in $(seq 1 10); do
	part=$(( (bytes / 10 * k) / 4096 * 4096 )); [ "$k" = 10 ] && part=$bytes
	head -c "$part" "$D/raw.img" >"$B/part.img"; truncate -s "$bytes" "$B/part.img"
	name=$(printf 'L%02d' "$k")
	"$OVBD" commit ${lowers[@]/#/--lower=} "$B/part.img" "$D/c/$name"
	lowers+=("$D/c/$name")
done
rm "$B/part.img"
bench_copy_bin "$(command -v fio)" "$D/fio"
say "255 layers of 10 000 segments, and 255 of 1 (for the index's marginal memory)"
make -s -C tools build/libovbd.a
bench_cc() {	# OUT SRC...: a bench helper linked with the format core and ovbd's own
	gcc -O2 -I"$TOP/include" -I"$TOP/tools/lib" -o "$B/$1" "${@:2}" "$TOP/tools/build/libovbd.a" -llz4 -lzstd
}
bench_cc mkstack bench/mkstack.c
"$B/mkstack" "$D/stack" 255 10000
"$B/mkstack" "$D/stack1" 255 1
# the same load, validation and merge in userspace on the host CPU
bench_cc ctrtime bench/ctrtime.c tools/lib/stack.c tools/lib/blob.c tools/lib/util.c
cat "$D"/stack/* >/dev/null
echo "BENCH host_userspace_255x10k_s $("$B/ctrtime" "$D"/stack/layer*)" >"$B/host.log"
if [ "${DATA_ONLY:-0}" = 1 ]; then rm -rf "$B/tree"; say "DATA_ONLY: $D has what bench/ab.sh and bench/uml.sh read"; exit 0; fi
fi	# full
if full; then
say "(f) EROFS lz4hc of the same tree"
mkfs.erofs -zlz4hc "$D/f.erofs" "$B/tree" >/dev/null
say "native speed: the module in User-Mode Linux (bench/uml.sh)"
[ "${SKIP_UML:-0}" = 1 ] || bench/uml.sh "$D" "$B/host.log" || echo "bench: the UML run failed (build/uml/)"
say "verified reads at native speed: dm-verity under the lz4 layer in UML (bench/uml-verity.sh)"
[ "${SKIP_UML:-0}" = 1 ] || bench/uml-verity.sh "$D" "$B/host.log" >/dev/null ||
	echo "bench: the UML verity run failed (build/uml/verity/)"
say "userspace reads on the host: ovbd cat against lz4 -b / zstd -b, CRC32C"
bench_cc crcspeed bench/crcspeed.c
bench/userspace.sh "$D/raw.img" "$B" | tee -a "$B/host.log"
say "pull from a local registry against curl"
bench/registry.sh "$D/raw.img" "$B/registry" | tee -a "$B/host.log"
rm -rf "$B/registry"
fi	# full
say "a registry's storage with the tree as a 1-layer lz4 image, for open --lazy in the guest"
"$OVBD" commit --zfile --tar "$D/raw.img" "$B/lazy.tar"
"$OVBD" image build --tag v1 "$B/lazy-layout" "$B/lazy.tar" >/dev/null
. tests/registry-lib.sh
start_registry "$B/lazy-reg"
"$OVBD" push "$B/lazy-layout:v1" "127.0.0.1:$REG_PORT/tree:v1" >/dev/null 2>&1
# the same layer verified (its tree in the registry as the image's artifact)
"$OVBD" verity add --tag vv "$B/lazy-layout:v1" >/dev/null
"$OVBD" push "$B/lazy-layout:vv" "127.0.0.1:$REG_PORT/tree:vv" >/dev/null 2>&1
# the same tree over 10 lz4 layers (each a tenth of raw.img more than the one below)
bytes=$(stat -c %s "$D/raw.img"); lowers=()
for k in $(seq 1 10); do
	part=$(( (bytes / 10 * k) / 4096 * 4096 )); [ "$k" = 10 ] && part=$bytes
	head -c "$part" "$D/raw.img" >"$B/part.img"; truncate -s "$bytes" "$B/part.img"
	"$OVBD" commit --zfile --tar ${lowers[@]/#/--lower=} "$B/part.img" "$B/ten$k.tar"
	lowers+=("$B/ten$k.tar")
done
"$OVBD" image build --tag v1 "$B/ten-layout" "${lowers[@]}" >/dev/null
"$OVBD" push "$B/ten-layout:v1" "127.0.0.1:$REG_PORT/ten:v1" >/dev/null 2>&1
rm -rf "$B/part.img" "$B"/ten*.tar "$B/ten-layout"
# a 4 GiB image (BIG_MIB): the tree and copies of it until the file system
# is nearly full, real data throughout, as an image of that size carries;
# one lz4 layer. The same first file is read from it.
BIG_MIB=${BIG_MIB:-4096}
mkdir -p "$B/big"; cp -a "$B/tree/." "$B/big/"
for k in $(seq 1 $(( BIG_MIB * 85 / 100 / size - 1 ))); do cp -a "$B/tree" "$B/big/copy$k"; done
mkfs.ext4 -q -F -O ^has_journal -b 4096 -i 8192 -d "$B/big" "$B/big.img" "${BIG_MIB}M"
rm -rf "$B/big"
"$OVBD" commit --zfile --tar "$B/big.img" "$B/big.tar"; rm "$B/big.img"
"$OVBD" image build --tag v1 "$B/big-layout" "$B/big.tar" >/dev/null
"$OVBD" push "$B/big-layout:v1" "127.0.0.1:$REG_PORT/big:v1" >/dev/null 2>&1
echo "BENCH lazy_big_blob_bytes $(stat -c %s "$B/big.tar")" >>"$B/host.log"
rm -rf "$B/big.tar" "$B/big-layout"
kill "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
rm -rf "$D/registry"; cp -a "$B/lazy-reg" "$D/registry"; rm -rf "$B/lazy-reg" "$B/lazy-layout" "$B/lazy.tar"
# the program a container would start: the first file of 1-4 MiB in the tree
(cd "$B/tree" && find . -type f -size +1M -size -4M | LC_ALL=C sort | head -1) >"$D/lazy-file.txt"
if full; then
say "convert an ordinary gzip image of the tree against tar -x to tmpfs"
bench/convert.sh "$B/tree" "$B/convert" | tee -a "$B/host.log"
rm -rf "$B/convert"
rm -f "$B/u.lz4" "$B/u.zstd"

bench_copy_bin "$(command -v lz4)" "$D/bin"; bench_copy_bin "$(command -v zstd)" "$D/bin"
# perf (linux-perf, built for 6.1) profiles the guest where targets are missed
bench_copy_bin "$(command -v perf)" "$D/perf"
# ovbd as it was before libdevmapper and the loop ioctls (dmsetup and losetup
# subprocesses), to time open against the in-process one in the same boot
say "ovbd of 4f9949c (subprocesses), for ovbd open side by side"
rm -rf "$B/old"; mkdir -p "$B/old"
git -C "$TOP" archive 4f9949c tools include src VERSION | tar -x -C "$B/old"
make -s -C "$B/old/tools" >/dev/null
bench_copy_bin "$B/old/tools/build/ovbd" "$D/oldovbd"
fi	# full
cp bench/guest.sh bench/fio-guest.sh "$D/"
ls -l "$D" | sed 's/^/  /'
bench_data_img "$D" "$B/data.img"
rm -rf "$B/tree"

rm -rf "$B/module"; mkdir -p "$B/module"; cp -r src include VERSION "$B/module/"
bench_module "$B/module"
bench_initrd "$B/module/src/dm-overlaybd.ko" "$B/initrd.gz" "$B"

say "one guest: Debian $BENCH_KVER, TCG, 2 vCPUs (-cpu max: SSE4.2, as on real hardware, for crc32c)"
bench_boot "$B/initrd.gz" "$B/data.img" "${ROUNDS:+ROUNDS=$ROUNDS}${ONLY:+ ONLY=$ONLY}" |
	tee "$B/console.log" | grep -E '^(bench|BENCH)'
grep -q '^bench: done' "$B/console.log" || { echo "bench: the guest did not finish ($B/console.log)"; exit 1; }
cat "$B/console.log" "$B/host.log" >"$B/all.log"
# a report that fails leaves the last latest.md as it was
bench/report.sh "$B/all.log" "$MIB" >"$B/latest.md" || { echo "bench: bench/report.sh failed on $B/all.log"; exit 1; }
if ! full; then	# the lazy rows alone, beside the full run's table
	{ sed -n '1,4p' "$B/latest.md"; echo; echo "ONLY=lazy: the open --lazy section alone (bench/run.sh ONLY=lazy)."; echo
	  echo "| figure | ratio | measured |"; echo "|---|---|---|"
	  grep -E '^\| (open --lazy|the same over|where |reading the whole tree after)' "$B/latest.md"; } >bench/results/lazy.md
	cat bench/results/lazy.md; exit 0
fi
cp "$B/latest.md" bench/results/latest.md
cat bench/results/latest.md
# a section's table rows into latest.md, under its own heading, when this
# run made its bench/results/NAME.md anew (so every row of latest.md is of one run)
append_rows() {	# NAME TITLE
	[ bench/results/$1.md -nt "$B/latest.md" ] || { echo "bench: $1: no new results, no rows in latest.md"; return 0; }
	{ echo; echo "### $2 (bench/$1.sh, bench/results/$1.md)"; echo
	  grep -m 1 -E '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' bench/results/$1.md; echo
	  awk '/^\|/ {print; t = 1; next} t {exit}' bench/results/$1.md; } >>bench/results/latest.md
}
say "containers: ovbd bundle against skopeo + umoci unpack, in a guest of their own (bench/bundle.sh)"
[ "${SKIP_BUNDLE:-0}" = 1 ] || { bench/bundle.sh | tail -8 || echo "bench: the bundle run failed (build/bench-bundle/)"; append_rows bundle "A container from a registry"; }
say "sharing a base: 10 images on one base layer, and the decoded-block cache, in a guest of their own (bench/share.sh)"
[ "${SKIP_SHARE:-0}" = 1 ] || { bench/share.sh | tail -14 || echo "bench: the sharing run failed (build/bench-share/)"; append_rows share "Sharing a base"; }
say "random reads against upstream's daemons, in a 6.12 guest of their own (bench/peers.sh; needs ../shared/peers)"
[ "${SKIP_PEERS:-0}" = 1 ] || { bench/peers.sh | tail -14 || echo "bench: the peers run failed (build/bench-peers/)"; append_rows peers "Against upstream's daemons"; }
