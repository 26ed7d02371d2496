#!/bin/bash
# The lsmt target of two module builds side by side in one guest: REV's
# against the working tree's, on make bench's (a) raw image through
# dm-linear, (b) one uncompressed layer and (c) the same over 10 layers.
# Each round loads REV's module and then this tree's, with the same tables
# on the same loop devices, and reads every device as bench/guest.sh does
# (1 MiB sequential with 4 in flight, random 4 KiB with 32 x 2). (a) runs
# the same code under both, so its spread is the host's noise. Prints the
# medians and this tree's / REV's ratio of each figure.
# Usage: bench/ab.sh REV   (ROUNDS, default 5; needs build/bench/data,
# which make bench leaves; one 6.1 guest under TCG, about 10 minutes)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
REV=$1
B=$TOP/build/ab D=$TOP/build/ab/data S=$TOP/build/bench/data
OVBD=$TOP/tools/build/ovbd
for f in raw.img b.lsmt c/L01 fio/fio; do
	[ -e "$S/$f" ] || { echo "ab: $S/$f is missing: run make bench first"; exit 1; }
done
make -s -C "$TOP/tools"
kver=$(ls /lib/modules | grep -E '^6\.1\.' | sort -V | tail -1)
build_ko() {	# DIR: dm-overlaybd.ko of the tree unpacked in DIR
	make -s -C "$1/src" KVER="$kver" >/dev/null 2>&1 || { echo "ab: $1/src did not build"; exit 1; }
}
rm -rf "$B"; mkdir -p "$D/c" "$B/old" "$B/new"
git -C "$TOP" archive "$REV" src include VERSION | tar -x -C "$B/old"
cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$B/new/"
build_ko "$B/old"; build_ko "$B/new"
cp "$B/old/src/dm-overlaybd.ko" "$D/old.ko"
cp "$S/raw.img" "$S/b.lsmt" "$D/"; cp "$S"/c/L* "$D/c/"
cp -r "$S/fio" "$D/"
cp "$TOP/bench/ab-guest.sh" "$D/guest.sh"
mkfs.ext4 -q -F -O ^has_journal -d "$D" "$B/data.img" "$(( $(du -sm "$D" | cut -f1) * 11 / 10 + 128 ))M"
rm -rf "$D"
gcc -O2 -static -o "$B/blkprobe" "$TOP/tests/qemu/blkprobe.c"
BLKPROBE=$B/blkprobe "$TOP/tests/qemu/mkinitramfs.sh" "$kver" "$B/new/src/dm-overlaybd.ko" "$OVBD" "$B/initrd.gz" >/dev/null
echo "ab: $REV against the working tree ($(git -C "$TOP" describe --always --dirty)), one Debian $kver guest, TCG, 2 vCPUs"
timeout 1800 qemu-system-x86_64 -accel tcg -cpu max -m 3072 -smp 2 -nographic -no-reboot \
	-kernel "/boot/vmlinuz-$kver" -initrd "$B/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=4 log_buf_len=16M ROUNDS=${ROUNDS:-5}" \
	-drive "file=$B/data.img,if=virtio,format=raw,readonly=on" </dev/null 2>&1 |
	tr -d '\r' >"$B/console.log"
grep -oE 'AB (error|sha) .*' "$B/console.log" || true
# both modules read (b) and (c) as (a) reads raw.img, and nothing failed
grep -q '^ab: done' "$B/console.log" && ! grep -q 'AB error' "$B/console.log" &&
	[ "$(grep -oE 'AB sha (old|new) [bc] ok' "$B/console.log" | sort -u | wc -l)" = 4 ] ||
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
