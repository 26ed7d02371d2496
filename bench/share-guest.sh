#!/bin/sh
# bench/share.sh, inside the guest: 10 images on one base against 1, then
# one image with zfile's decoded-block cache at its default against off;
# rounds interleaved, a "BENCH key value" line per figure and round.
ROUNDS=${ROUNDS:-3}
. /data/fio-guest.sh
now() { blkprobe now; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# kernel memory: unreclaimable slab and vmalloc (KiB), and the page cache
mem() { awk '/^(SUnreclaim|VmallocUsed):/ {s += $2} END {print s}' /proc/meminfo; }
reclaimable() { awk '/^SReclaimable:/ {print $2}' /proc/meminfo; }
pagecache() { awk '/^Cached:/ {print $2}' /proc/meminfo; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
bench() { echo "BENCH $*"; }
CM=/sys/module/dm_overlaybd/parameters/cache_mb
cd /data || exit 1
insmod /modules/dm-overlaybd.ko || { echo "BENCH error insmod"; exit 1; }
cm0=$(cat $CM)
# the base blob's loop device(s), the bytes read from them, and the base's
# zfile device(s): those whose table reads that loop
base_loops() { /sbin/losetup -j /data/base.tar | cut -d: -f1; }
base_bytes() { for l in $(base_loops); do awk '{print $3 * 512}' /sys/block/${l#/dev/}/stat; done | awk '{s += $1} END {print s + 0}'; }
base_decoded() {
	for l in $(base_loops); do
		mm=$(printf '%d:%d' "$(stat -c 0x%t "$l")" "$(stat -c 0x%T "$l")")
		dmsetup table | awk -v mm="$mm" '$4 == "zfile" && $5 == mm {sub(":$", "", $1); print $1}'
	done | while read -r z; do dmsetup status "$z" | awk '{print $8}'; done | awk '{s += $1} END {print s + 0}'
}
read_files() { (cd "$1" && tr '\n' '\0' </data/files.txt | xargs -0 cat >/dev/null); }
open_n() {	# N: images s1..sN mounted on /mnt/s1..
	for k in $(seq 1 "$1"); do
		ovbd open s$k base.tar top$k.tar >/dev/null 2>/tmp/e || echo "BENCH error open s$k $(head -c 200 /tmp/e)"
		mkdir -p /mnt/s$k; mount -t ext4 -o ro,noload /dev/mapper/s$k /mnt/s$k || echo "BENCH error mount s$k"
	done
}
close_n() { for k in $(seq 1 "$1"); do umount /mnt/s$k; ovbd close s$k; done; }
for r in $(seq 1 "$ROUNDS"); do
	echo "bench: round $r of $ROUNDS: 1 and 10 images on one base, each reading the same files"
	for n in 1 10; do
		cold; m0=$(mem); p0=$(pagecache); c0=$(reclaimable)
		open_n $n
		b0=$(base_bytes) d0=$(base_decoded)
		t0=$(now)
		for k in $(seq 1 $n); do read_files /mnt/s$k; done
		t1=$(now)
		bench share_${n}_base_bytes $(( $(base_bytes) - b0 ))
		bench share_${n}_base_decoded $(( $(base_decoded) - d0 ))
		bench share_${n}_kernel_KiB $(( $(mem) - m0 ))
		bench share_${n}_reclaimable_KiB $(( $(reclaimable) - c0 ))
		bench share_${n}_pagecache_KiB $(( $(pagecache) - p0 ))
		bench share_${n}_read_s "$(elapsed "$t0" "$t1")"
		bench share_${n}_base_loops "$(base_loops | wc -l)"
		[ $n = 10 ] && ovbd status s1 | grep -q '(used by s1, s10, s2, s3, s4, s5, s6, s7, s8, s9)' ||
			[ $n = 1 ] || echo "BENCH error the base's parts are not shared: $(ovbd status s1 | tr '\n' '|' | head -c 300)"
		close_n $n
	done
	echo "bench: round $r: one image, the decoded-block cache at its default ($cm0 MiB) and off"
	open_n 1; umount /mnt/s1
	for cm in $cm0 0; do
		echo $cm >$CM
		k=$([ $cm = 0 ] && echo off || echo on)
		cold; bench share_seq_MBps_cache_$k "$(seq_mbps /dev/mapper/s1)"
		cold; bench share_rand_iops_cache_$k "$(rand_iops /dev/mapper/s1)"
		cold; mount -t ext4 -o ro,noload /dev/mapper/s1 /mnt/s1
		t0=$(now); (cd /mnt/s1 && find . -type f -print0 | xargs -0 cat >/dev/null); t1=$(now)
		bench share_tree_s_cache_$k "$(elapsed "$t0" "$t1")"
		umount /mnt/s1
	done
	echo $cm0 >$CM
	ovbd close s1
done
echo "bench: done"
