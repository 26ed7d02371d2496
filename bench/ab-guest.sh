#!/bin/sh
# bench/ab.sh's guest: (a), (b) and (c) under REV's module (/data/old.ko) and
# this tree's (/modules), alternating, "AB round=R m=old|new dev=V w=W N" lines.
FIO="/data/fio/ld-linux-x86-64.so.2 --library-path /data/fio /data/fio/fio"
ROUNDS=${ROUNDS:-5}
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
seq_mbps() {
	$FIO --name=s --rw=read --bs=1M --direct=1 --ioengine=libaio --iodepth=4 --time_based \
		--runtime=5 --output-format=json --filename="$1" 2>/dev/null |
		grep -o '"bw_bytes" : [0-9]*' | head -1 | awk '{printf "%.1f", $3 / 1e6}'
}
rand_iops() {
	$FIO --name=r --rw=randread --bs=4k --direct=1 --ioengine=libaio --iodepth=32 --numjobs=2 \
		--group_reporting --time_based --runtime=5 --output-format=json --filename="$1" 2>/dev/null |
		grep -o '"iops" : [0-9.]*' | head -1 | awk '{print $3}'
}
insmod /modules/dm-overlaybd.ko || echo "AB error insmod"
cat raw.img b.lsmt c/L* >/dev/null
l=$(/sbin/losetup -r -f --show raw.img)
dmsetup --noudevsync create --readonly ba --table "0 $(blockdev --getsz "$l") linear $l 0"
dmsetup --noudevsync mknodes ba
ovbd open bb b.lsmt >/dev/null || echo "AB error ovbd open bb"
set --; for f in c/L*; do set -- "$@" "$f"; done
ovbd open bc "$@" >/dev/null || echo "AB error ovbd open bc"
# direct I/O, as bench/guest.sh's; an open descriptor keeps each loop device
# bound while the tables over it are removed and made again
for l in $(/sbin/losetup -a | cut -d: -f1); do
	/sbin/losetup --direct-io=on "$l"; sleep 1000000 <"$l" &
done
tb=$(dmsetup table bb) tc=$(dmsetup table bc)
load() {	# KO: that module under bb and bc
	dmsetup remove bb && dmsetup remove bc && rmmod dm_overlaybd || echo "AB error unload"
	insmod "$1" || echo "AB error insmod $1"
	dmsetup --noudevsync create --readonly bb --table "$tb" || echo "AB error bb under $1"
	dmsetup --noudevsync create --readonly bc --table "$tc" || echo "AB error bc under $1"
	dmsetup --noudevsync mknodes
}
ref=$(sha256sum </dev/mapper/ba | cut -d' ' -f1)
for round in $(seq "$ROUNDS"); do
	for m in old new; do
		if [ $m = old ]; then load /data/old.ko; else load /modules/dm-overlaybd.ko; fi
		if [ "$round" = 1 ]; then
			for v in b c; do
				cold; [ "$(sha256sum </dev/mapper/b$v | cut -d' ' -f1)" = "$ref" ] &&
					echo "AB sha $m $v ok" || echo "AB sha $m $v BAD"
			done
		fi
		for v in a b c; do
			cold; echo "AB round=$round m=$m dev=$v w=seq $(seq_mbps /dev/mapper/b$v)"
			cold; echo "AB round=$round m=$m dev=$v w=rand $(rand_iops /dev/mapper/b$v)"
		done
	done
done
echo "ab: done"
