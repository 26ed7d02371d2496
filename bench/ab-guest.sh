#!/bin/sh
# bench/ab.sh's guest: (a)-(e) under REV's module (/data/old.ko) and this
# tree's (/modules), alternating, "AB round=R m=old|new dev=V w=W N" lines.
. /data/fio-guest.sh
ROUNDS=${ROUNDS:-6}
DEVS=$(echo "${DEVS:-a,b,c,d,e}" | tr , ' ')
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
insmod /modules/dm-overlaybd.ko || echo "AB error insmod"
cat raw.img b.lsmt c/L* d.zfile e.zfile >/dev/null
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
# KO: that module under bb and bc, and (d) and (e) opened again under it
# (their lsmt tables name the zfile devices below, which are made anew)
load() {
	for v in d e; do [ ! -b /dev/mapper/b$v ] || ovbd close b$v || echo "AB error ovbd close b$v"; done
	dmsetup remove bb && dmsetup remove bc && rmmod dm_overlaybd || echo "AB error unload"
	if [ "$1" = /modules/dm-overlaybd.ko ]; then insmod "$1" ${NEW_PARAM:-}; else insmod "$1"; fi ||
		echo "AB error insmod $1"
	[ -z "${NEW_PARAM:-}" ] || [ "$1" != /modules/dm-overlaybd.ko ] ||
		echo "AB param $NEW_PARAM: $(cat /sys/module/dm_overlaybd/parameters/${NEW_PARAM%%=*})"
	dmsetup --noudevsync create --readonly bb --table "$tb" || echo "AB error bb under $1"
	dmsetup --noudevsync create --readonly bc --table "$tc" || echo "AB error bc under $1"
	dmsetup --noudevsync mknodes
	ovbd open bd d.zfile >/dev/null && ovbd open be e.zfile >/dev/null || echo "AB error ovbd open bd/be under $1"
	for l in $(/sbin/losetup -a | grep -E '/(d|e)\.zfile' | cut -d: -f1); do /sbin/losetup --direct-io=on "$l"; done
}
ref=$(sha256sum </dev/mapper/ba | cut -d' ' -f1)
# odd rounds run REV's module first, even ones this tree's: whatever a
# round's second half pays (the same dm-linear (a) read up to 10% slower
# there) falls on both alike
for round in $(seq "$ROUNDS"); do
	order="old new"; [ $((round % 2)) = 1 ] || order="new old"
	for m in $order; do
		if [ $m = old ]; then load /data/old.ko; else load /modules/dm-overlaybd.ko; fi
		if [ "$round" = 1 ]; then
			for v in $DEVS; do
				[ $v != a ] || continue
				cold; [ "$(sha256sum </dev/mapper/b$v | cut -d' ' -f1)" = "$ref" ] &&
					echo "AB sha $m $v ok" || echo "AB sha $m $v BAD"
			done
		fi
		for v in $DEVS; do
			cold; echo "AB round=$round m=$m dev=$v w=seq $(seq_mbps /dev/mapper/b$v)"
			cold; echo "AB round=$round m=$m dev=$v w=rand $(rand_iops /dev/mapper/b$v)"
		done
	done
done
echo "ab: done"
