#!/bin/bash
# Two module builds side by side in one guest: REV's against the working
# tree's, on make bench's (a) raw image through dm-linear, (b) one
# uncompressed layer, (c) the same over 10 layers, (d) ZFile lz4 and (e)
# ZFile zstd. Each round loads REV's module and then this tree's, with the
# same (b) and (c) tables on the same loop devices and (d), (e) opened
# again, and reads every device as bench/guest.sh does (1 MiB sequential
# with 4 in flight, random 4 KiB with 32 x 2). (a) runs the same code under
# both, so its spread is the host's noise; the two run in either order,
# in alternate rounds. Prints the medians and this
# tree's / REV's ratio of each figure.
# NEW_PARAM=NAME=VALUE loads this tree's module with that parameter.
# Usage: bench/ab.sh REV   (ROUNDS, default 6; needs build/bench/data,
# which make bench leaves; one 6.1 guest under TCG, about 17 minutes)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/guest-lib.sh"
REV=$1
B=$TOP/build/ab D=$TOP/build/ab/data S=$TOP/build/bench/data
for f in raw.img b.lsmt c/L01 d.zfile e.zfile fio/fio; do
	[ -e "$S/$f" ] || { echo "ab: $S/$f is missing: run make bench first"; exit 1; }
done
make -s -C "$TOP/tools"
rm -rf "$B"; mkdir -p "$D/c" "$B/old" "$B/new"
git -C "$TOP" archive "$REV" src include VERSION | tar -x -C "$B/old"
cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$B/new/"
for t in old new; do
	bench_module "$B/$t" 2>/dev/null || { echo "ab: $B/$t/src did not build"; exit 1; }
done
cp "$B/old/src/dm-overlaybd.ko" "$D/old.ko"
cp "$S/raw.img" "$S/b.lsmt" "$S/d.zfile" "$S/e.zfile" "$D/"; cp "$S"/c/L* "$D/c/"
cp -r "$S/fio" "$D/"
cp "$TOP/bench/ab-guest.sh" "$D/guest.sh"
bench_data_img "$D" "$B/data.img"
rm -rf "$D"
bench_initrd "$B/new/src/dm-overlaybd.ko" "$B/initrd.gz" "$B" >/dev/null
echo "ab: $REV against the working tree ($(git -C "$TOP" describe --always --dirty)), one Debian $BENCH_KVER guest, TCG, 2 vCPUs"
bench_boot "$B/initrd.gz" "$B/data.img" "ROUNDS=${ROUNDS:-6}${NEW_PARAM:+ NEW_PARAM=$NEW_PARAM}" >"$B/console.log"
grep -oE 'AB (error|sha) .*' "$B/console.log" || true
# both modules read (b)-(e) as (a) reads raw.img, and nothing failed
grep -q '^ab: done' "$B/console.log" && ! grep -q 'AB error' "$B/console.log" &&
	[ "$(grep -oE 'AB sha (old|new) [b-e] ok' "$B/console.log" | sort -u | wc -l)" = 8 ] ||
	{ echo "ab: the guest failed ($B/console.log)"; exit 1; }
! grep -qE 'BUG:|WARNING:|Oops|soft lockup' "$B/console.log" || { echo "ab: kernel splat ($B/console.log)"; exit 1; }
# "AB round=R m=old|new dev=V w=seq|rand N": the median of each, and new / old
printf '| device, workload | %s | this tree | this tree / %s |\n|---|---|---|---|\n' "$REV" "$REV"
awk '/^AB round=/ {
	split($3, m, "="); split($4, d, "="); split($5, w, "="); k = d[2] " " w[2]
	v[k, m[2], ++n[k, m[2]]] = $6; keys[k] = 1
}
function median(k, who,   i, j, t, c, a) {
	c = n[k, who]; for (i = 1; i <= c; i++) a[i] = v[k, who, i]
	for (i = 2; i <= c; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
	for (k in keys) { o = median(k, "old"); x = median(k, "new")
		printf "| %s %s | %.1f | %.1f | %.2f |\n", k, (k ~ /seq/ ? "MB/s" : "IOPS"), o, x, x / o }
}' "$B/console.log" | sort
