#!/bin/bash
# Two module builds side by side in one guest: REV's against the working
# tree's (or NEWREV's, "the new module" below), on make bench's (a) raw
# image through dm-linear, (b) one uncompressed layer, (c) the same over 10
# layers, (d) ZFile lz4 and (e) ZFile zstd. Each round loads REV's module
# and then the new one, with the same (b) and (c) tables on the same loop
# devices and (d), (e) opened again, and reads every device as
# bench/guest.sh does (bench/fio-guest.sh's workloads). (a) runs the same
# code under both, so its spread is the host's noise; the two run in either
# order, in alternate rounds. Prints the medians and the new module's /
# REV's ratio of each figure.
# NEW_PARAM=NAME=VALUE loads the new module with that parameter.
# DEVS="a d" measures only those devices (default "a b c d e"; (a) is
# always measured, as the noise reference): a bisection's shorter run.
# Usage: bench/ab.sh REV [NEWREV]   (ROUNDS, default 6; needs
# build/bench/data, which make bench leaves, or DATA_ONLY=1 bench/run.sh
# in under a minute; one 6.1 guest under TCG,
# about 17 minutes for all five devices)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/bench/guest-lib.sh"
REV=${1:?usage: bench/ab.sh REV [NEWREV]} NEWREV=${2:-}
for r in "$REV" $NEWREV; do
	git -C "$TOP" rev-parse -q --verify "$r^{commit}" >/dev/null ||
		{ echo "ab: revision '$r' is not a commit of $TOP" >&2; exit 2; }
done
DEVS=a$(for v in ${DEVS:-b c d e}; do case $v in [b-e]) printf ' %s' "$v";; a) ;;
	*) echo "ab: DEVS: '$v' is not one of a b c d e" >&2; exit 2;; esac; done)
NSHA=$(( 2 * ($(wc -w <<<"$DEVS") - 1) ))	# an "AB sha" line per module and device but (a)
B=$TOP/build/ab D=$TOP/build/ab/data S=$TOP/build/bench/data
for f in raw.img b.lsmt c/L01 d.zfile e.zfile fio/fio; do
	[ -e "$S/$f" ] || { echo "ab: $S/$f is missing: run make bench, or DATA_ONLY=1 bench/run.sh, first"; exit 1; }
done
make -s -C "$TOP/tools"
rm -rf "$B"; mkdir -p "$D/c" "$B/old" "$B/new"
git -C "$TOP" archive "$REV" src include VERSION | tar -x -C "$B/old"
if [ -n "$NEWREV" ]; then git -C "$TOP" archive "$NEWREV" src include VERSION | tar -x -C "$B/new"
else cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$B/new/"; fi
NEWNAME=${NEWREV:-this tree}
for t in old new; do
	bench_module "$B/$t" 2>/dev/null || { echo "ab: $B/$t/src did not build"; exit 1; }
done
cp "$B/old/src/dm-overlaybd.ko" "$D/old.ko"
cp "$S/raw.img" "$S/b.lsmt" "$S/d.zfile" "$S/e.zfile" "$D/"; cp "$S"/c/L* "$D/c/"
cp -r "$S/fio" "$D/"
cp "$TOP/bench/ab-guest.sh" "$D/guest.sh"; cp "$TOP/bench/fio-guest.sh" "$D/"
bench_data_img "$D" "$B/data.img"
rm -rf "$D"
bench_initrd "$B/new/src/dm-overlaybd.ko" "$B/initrd.gz" "$B" >/dev/null
echo "ab: $REV against ${NEWREV:-the working tree ($(git -C "$TOP" describe --always --dirty))}, devices $DEVS, one Debian $BENCH_KVER guest, TCG, 2 vCPUs"
bench_boot "$B/initrd.gz" "$B/data.img" "ROUNDS=${ROUNDS:-6} DEVS=${DEVS// /,}${NEW_PARAM:+ NEW_PARAM=$NEW_PARAM}" >"$B/console.log"
grep -oE 'AB (error|sha) .*' "$B/console.log" || true
# both modules read (b)-(e) as (a) reads raw.img, and nothing failed
grep -q '^ab: done' "$B/console.log" && ! grep -q 'AB error' "$B/console.log" &&
	[ "$(grep -oE 'AB sha (old|new) [b-e] ok' "$B/console.log" | sort -u | wc -l)" = "$NSHA" ] ||
	{ echo "ab: the guest failed ($B/console.log)"; exit 1; }
! grep -qE 'BUG:|WARNING:|Oops|general protection fault|soft lockup|hung task|oom-killer' "$B/console.log" || { echo "ab: kernel splat ($B/console.log)"; exit 1; }
# "AB round=R m=old|new dev=V w=seq|rand N": the median of each, and new / old
printf '| device, workload | %s | %s | %s / %s |\n|---|---|---|---|\n' "$REV" "$NEWNAME" "$NEWNAME" "$REV"
grep -oE 'AB round=[0-9]+ m=(old|new) dev=[a-e] w=(seq|rand) [0-9.]+' "$B/console.log" >"$B/rounds"
median() {	# M DEV W
	awk -v k="m=$1 dev=$2 w=$3" '$3 " " $4 " " $5 == k {print $6}' "$B/rounds" | sort -g |
		awk -f "$TOP/bench/median.awk"
}
for v in $DEVS; do
	for w in rand seq; do
		awk -v k="$v $w" -v o="$(median old $v $w)" -v x="$(median new $v $w)" \
			'BEGIN {printf "| %s %s | %.1f | %.1f | %.2f |\n", k, (k ~ /seq/ ? "MB/s" : "IOPS"), o, x, x / o}'
	done
done
