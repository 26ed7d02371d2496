#!/bin/sh
# The benchmark, inside one 6.1 guest: every workload on every packaging of
# the same tree, side by side, printing "BENCH <key> <value>" lines.
losetup() { /sbin/losetup "$@"; }
FIO="/data/fio/ld-linux-x86-64.so.2 --library-path /data/fio /data/fio/fio"
BIN="/data/bin/ld-linux-x86-64.so.2 --library-path /data/bin"
RUNTIME=${RUNTIME:-10}
now() { blkprobe now; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mem() { awk '/^(SUnreclaim|VmallocUsed):/ {s += $2} END {print s}' /proc/meminfo; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
bench() { echo "BENCH $*"; }

insmod /modules/dm-overlaybd.ko || { echo "BENCH error insmod"; exit 1; }
echo "bench: warming the host cache"
cat raw.img b.lsmt c/L* d.zfile e.zfile f.erofs >/dev/null

# (a) raw through dm-linear, (b)-(e) through ovbd open
l=$(losetup -r -f --show raw.img)
dmsetup --noudevsync create --readonly ba --table "0 $(blockdev --getsz "$l") linear $l 0"
dmsetup --noudevsync mknodes ba
ovbd open bb b.lsmt >/dev/null
set --; for f in c/L*; do set -- "$@" "$f"; done
ovbd open bc "$@" >/dev/null
ovbd open bd d.zfile >/dev/null
ovbd open be e.zfile >/dev/null
for v in a b c d e; do
	[ -b /dev/mapper/b$v ] || { echo "BENCH error device b$v missing"; exit 1; }
done
# loop devices read their files with direct I/O: the guest's page cache
# would otherwise keep what a loop read, and random reads would measure it
for l in $(losetup -a | cut -d: -f1); do losetup --direct-io=on "$l"; done

echo "bench: sequential reads, 1 MiB direct"
for v in a b c d e; do
	cold
	bw=$($FIO --name=seq --filename=/dev/mapper/b$v --rw=read --bs=1M --direct=1 \
		--ioengine=libaio --iodepth=4 --output-format=json 2>/dev/null |
		grep -o '"bw_bytes" : [0-9]*' | head -1 | grep -o '[0-9]*$')
	bench "seq_MBps_$v" "$(awk -v b="$bw" 'BEGIN {printf "%.1f", b / 1048576}')"
done

echo "bench: random 4 KiB direct reads, QD 32, 2 jobs, ${RUNTIME} s"
for v in a b c d e; do
	cold
	iops=$($FIO --name=rand --filename=/dev/mapper/b$v --rw=randread --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=32 --numjobs=2 --group_reporting --time_based \
		--runtime="$RUNTIME" --output-format=json 2>/dev/null |
		grep -o '"iops" : [0-9.]*' | head -1 | grep -o '[0-9.]*$')
	bench "rand_iops_$v" "$iops"
done
dmsetup status bd | sed 's/^/bench: zfile lz4 status: /'

echo "bench: reading every file of the mounted tree"
lf=$(losetup -r -f --show --direct-io=on f.erofs)
for v in a b c d e f; do
	cold
	mkdir -p /mnt/$v
	if [ $v = f ]; then mount -t erofs -o ro "$lf" /mnt/f
	else mount -t ext4 -o ro,noload /dev/mapper/b$v /mnt/$v; fi || { echo "BENCH error mount $v"; continue; }
	t0=$(now)
	(cd /mnt/$v && find . -type f -print0 | xargs -0 cat >/dev/null)
	t1=$(now)
	bench "tree_s_$v" "$(elapsed "$t0" "$t1")"
	umount /mnt/$v
done

echo "bench: the CPU limit, in-guest lz4 -b and zstd -b on the same data"
head -c 67108864 raw.img >/tmp/sample
lz=$($BIN /data/bin/lz4 -b1 -B4096 -i2 /tmp/sample 2>&1 | tr '\r' '\n' | grep -o '[0-9.]* MB/s' | tail -1 | grep -o '^[0-9.]*')
zs=$($BIN /data/bin/zstd -b3 -B16384 -i2 /tmp/sample 2>&1 | tr '\r' '\n' | grep -o '[0-9.]* MB/s' | tail -1 | grep -o '^[0-9.]*')
bench lz4_decompress_MBps "$lz"
bench zstd_decompress_MBps "$zs"
rm /tmp/sample

echo "bench: kernel memory of a zfile device"
cold; m0=$(mem)
lz=$(losetup -r -f --show d.zfile)
dmsetup --noudevsync create --readonly mz --table "0 $(blockdev --getsz /dev/mapper/bd-z000) zfile $lz -"
m1=$(mem)
bench zfile_mem_KiB "$((m1 - m0))"
bench zfile_blocks "$(dmsetup status mz | awk '{print $6}')"
dmsetup --noudevsync remove mz; losetup -d "$lz"

echo "bench: ctr of 255 layers of 10 000 segments"
table=""
for f in stack/layer*; do table="$table $(losetup -r -f --show "$f") -"; done
vs=$(( $(ls stack | wc -l) * 10000 ))
cold; m0=$(mem)
t0=$(now)
dmsetup --noudevsync create --readonly big --table "0 $vs lsmt$table"
t1=$(now)
m1=$(mem)
bench ctr_255x10k_s "$(elapsed "$t0" "$t1")"
bench lsmt_mem_KiB "$((m1 - m0))"
bench lsmt_segments "$(dmsetup status big | awk '{print $6}')"
dmsetup --noudevsync remove big
echo "bench: done"
