#!/bin/sh
# The benchmark, inside one 6.1 guest: every workload on every packaging of
# the same tree, side by side, printing "BENCH <key> <value>" lines.
losetup() { /sbin/losetup "$@"; }
BIN="/data/bin/ld-linux-x86-64.so.2 --library-path /data/bin"
PERF="/data/perf/ld-linux-x86-64.so.2 --library-path /data/perf /data/perf/perf"
. /data/fio-guest.sh
ROUNDS=${ROUNDS:-3}
now() { blkprobe now; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mem() { awk '/^(SUnreclaim|VmallocUsed):/ {s += $2} END {print s}' /proc/meminfo; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }
bench() { echo "BENCH $*"; }
# profile NAME CMD...: perf samples both CPUs while CMD runs, then prints
# "BENCHPROF NAME self|comm|incl PERCENT WHAT" lines: the top symbols by
# their own samples, the top tasks, and the inclusive share of the
# module's functions and what they call.
INCL='lsmt_ctr|load_stack|load_layer|ovbd_lsmt_merge|heap_sift_down|ovbd_read$|lsmt_map|zero_fill_bio|memset_erms|blk_mq_submit_bio|zfile_work|read_bio|read_run|load_block|ovbd_zfile_decode_block|crc32c$|LZ4_decompress_safe|ZSTD_decompressDCtx|zstd_decompress_dctx|ext4_file_read_iter|z_erofs|lo_rw_aio|memcpy_erms|clear_page_erms'
profile() {
	name=$1; shift
	[ -x /data/perf/perf ] || { echo "BENCHPROF $name none perf-not-in-the-guest"; return 0; }
	$PERF record -q -e cpu-clock -F 2000 -a -g -o /tmp/perf.data -- "$@" >/dev/null 2>&1 ||
		{ echo "BENCHPROF $name none perf-record-failed"; return 0; }
	$PERF report -i /tmp/perf.data --stdio --no-children --sort sym 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -14 | awk -v n="$name" '{print "BENCHPROF", n, "self", $1, $3}'
	$PERF report -i /tmp/perf.data --stdio --no-children --sort comm 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -6 | awk -v n="$name" '{print "BENCHPROF", n, "comm", $1, $2}'
	$PERF report -i /tmp/perf.data --stdio --children --sort sym 2>/dev/null |
		grep -E '^ +[0-9.]+%' | awk -v n="$name" -v re="^($INCL)" '$4 ~ re && !seen[$4]++ {print "BENCHPROF", n, "incl", $1, $4}'
	rm -f /tmp/perf.data
}

insmod /modules/dm-overlaybd.ko || { echo "BENCH error insmod"; exit 1; }
# ONLY=lazy (bench/run.sh ONLY=lazy): the open --lazy section alone
if [ "${ONLY:-}" != lazy ]; then
echo "bench: warming the host cache"
cat raw.img b.lsmt c/L* d.zfile e.zfile f.erofs >/dev/null

echo "bench: kernel memory of 1, 10 and 255 zfile devices (a 1 MiB ZFile each)"
# before any other device: the first zfile device makes the shared pool and
# the last one frees it, so each figure holds the pool once
lz=$(losetup -r -f --show small.tar)
zsec=$(( ($(ovbd info --json small.tar | sed -n 's/.*"original_size": \([0-9]*\).*/\1/p' | tail -1) + 511) / 512 ))
for round in $(seq "$ROUNDS"); do for n in 1 10 255; do
	cold; m0=$(mem)
	for i in $(seq 1 $n); do
		dmsetup --noudevsync create --readonly zm$i --table "0 $zsec zfile $lz -" ||
			{ echo "BENCH error zfile device zm$i"; break; }
	done
	m1=$(mem)
	bench zfile_devices_${n}_KiB "$((m1 - m0))"
	for i in $(seq 1 $n); do dmsetup --noudevsync remove zm$i; done
done; done
losetup -d "$lz"

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

# Each workload runs ROUNDS times, interleaved over the devices, so that a
# slow spell of the shared host hits every device alike; report.sh takes
# the median. The workloads: bench/fio-guest.sh.
TREE_READ='find . -type f -print0 | xargs -0 cat >/dev/null'
mount_tree() {	# V: mount packaging V read-only on /mnt/V
	mkdir -p /mnt/$1
	if [ $1 = f ]; then mount -t erofs -o ro "$lf" /mnt/f
	else mount -t ext4 -o ro,noload /dev/mapper/b$1 /mnt/$1; fi
}
head -c 67108864 raw.img >/tmp/sample
lf=$(losetup -r -f --show --direct-io=on f.erofs)
for round in $(seq "$ROUNDS"); do
	echo "bench: round $round of $ROUNDS: sequential 1 MiB direct QD 4 and random 4 KiB direct QD 32 x 2 jobs, ${RUNTIME} s each"
	for v in a b c d e; do
		cold
		bench "seq_MBps_$v" "$(seq_mbps /dev/mapper/b$v)"
		cold
		bench "rand_iops_$v" "$(rand_iops /dev/mapper/b$v)"
	done
	# (b) again with every hole piece zeroed in lsmt_map, as before the
	# workqueue took the large ones (bench/analysis.md)
	zw=$(cat /sys/module/dm_overlaybd/parameters/zero_work_sectors)
	echo 0 >/sys/module/dm_overlaybd/parameters/zero_work_sectors
	cold
	bench seq_MBps_b_zero_in_map "$(seq_mbps /dev/mapper/bb)"
	echo "$zw" >/sys/module/dm_overlaybd/parameters/zero_work_sectors
	# (d) with and without zfile's prefetch of the next run, 4 and 1 bios
	# in flight (bench/analysis.md)
	echo N >/sys/module/dm_overlaybd/parameters/seq_prefetch
	cold; bench seq_MBps_d_no_prefetch "$(seq_mbps /dev/mapper/bd)"
	cold; bench seq_MBps_d_qd1_no_prefetch "$(seq_mbps /dev/mapper/bd --iodepth=1)"
	echo Y >/sys/module/dm_overlaybd/parameters/seq_prefetch
	cold; bench seq_MBps_d_qd1 "$(seq_mbps /dev/mapper/bd --iodepth=1)"
	echo "bench: round $round: the CPU limit, in-guest lz4 -b and zstd -b on the same data"
	bench lz4_decompress_MBps "$($BIN /data/bin/lz4 -b1 -B4096 -i2 /tmp/sample 2>&1 |
		tr '\r' '\n' | grep -o '[0-9.]* MB/s' | tail -1 | grep -o '^[0-9.]*')"
	bench zstd_decompress_MBps "$($BIN /data/bin/zstd -b3 -B16384 -i2 /tmp/sample 2>&1 |
		tr '\r' '\n' | grep -o '[0-9.]* MB/s' | tail -1 | grep -o '^[0-9.]*')"
	echo "bench: round $round: reading every file of the mounted tree"
	for v in a b c d e f; do
		cold
		mount_tree $v || { echo "BENCH error mount $v"; continue; }
		t0=$(now)
		(cd /mnt/$v && eval "$TREE_READ")
		t1=$(now)
		bench "tree_s_$v" "$(elapsed "$t0" "$t1")"
		umount /mnt/$v
	done
done
rm /tmp/sample
for v in b c d; do dmsetup status b$v | sed "s/^/bench: status of b$v: /"; done

echo "bench: profiles (perf, untimed repeats)"
cold; profile lsmt_one_layer_seq $SEQ --filename=/dev/mapper/bb --runtime=4
cold; profile raw_linear_seq $SEQ --filename=/dev/mapper/ba --runtime=4
cold; profile zfile_lz4_seq $SEQ --filename=/dev/mapper/bd --runtime=4
cold; profile zfile_zstd_seq $SEQ --filename=/dev/mapper/be --runtime=4
for v in d f; do
	mount_tree $v || continue
	cold; profile "tree_$v" sh -c "cd /mnt/$v && $TREE_READ"
	umount /mnt/$v
done

echo "bench: kernel memory of a zfile device"
lz=$(losetup -r -f --show d.zfile)
# the zfile part under bd (its layer blob's shared part)
bdz=$(ovbd status bd | sed -n 's/^dm    \(ovbd-blob-[^:]*-z\): .*/\1/p' | head -n 1)
for round in $(seq "$ROUNDS"); do
	cold; m0=$(mem)
	dmsetup --noudevsync create --readonly mz --table "0 $(blockdev --getsz /dev/mapper/$bdz) zfile $lz -"
	m1=$(mem)
	bench zfile_mem_KiB "$((m1 - m0))"
	bench zfile_blocks "$(dmsetup status mz | awk '{print $6}')"
	dmsetup --noudevsync remove mz
done
losetup -d "$lz"

echo "bench: ctr of 255 layers of 10 000 segments, and of 255 layers of 1"
stack_table() {	# DIR: "lsmt <loop> - ..." over the layers in DIR
	printf 'lsmt'
	for f in "$1"/layer*; do printf ' %s -' "$(losetup -r -f --show "$f")"; done
}
big=$(stack_table stack) small=$(stack_table stack1)
vs=$(( $(ls stack | wc -l) * 10000 ))
for round in $(seq "$ROUNDS"); do
	cold; m0=$(mem)
	t0=$(now)
	dmsetup --noudevsync create --readonly big --table "0 $vs $big"
	t1=$(now)
	m1=$(mem)
	bench ctr_255x10k_s "$(elapsed "$t0" "$t1")"
	bench lsmt_mem_KiB "$((m1 - m0))"
	bench lsmt_segments "$(dmsetup status big | awk '{print $6}')"
	dmsetup --noudevsync remove big
	# what removing gives back: slab pages that the ctr's transient
	# allocations left behind stay counted on both sides and cancel
	m2=$(mem)
	bench lsmt_freed_KiB "$((m1 - m2))"
	# the same layers' fixed costs with one segment each: the difference
	# is what the merged index costs per segment
	cold; m0=$(mem)
	dmsetup --noudevsync create --readonly small --table "0 $(ls stack1 | wc -l) $small"
	m1=$(mem)
	bench lsmt1_segments "$(dmsetup status small | awk '{print $6}')"
	dmsetup --noudevsync remove small
	m2=$(mem)
	bench lsmt1_freed_KiB "$((m1 - m2))"
done
cold; profile ctr_255x10k dmsetup --noudevsync create --readonly big --table "0 $vs $big"
dmsetup --noudevsync remove big

echo "bench: ovbd open + close of 255 layers: in-process against dmsetup/losetup subprocesses"
OLD="/data/oldovbd/ld-linux-x86-64.so.2 --library-path /data/oldovbd /data/oldovbd/ovbd"
for round in $(seq "$ROUNDS"); do
	t0=$(now)
	ovbd open --ignore-chain o255 stack1/layer* >/dev/null
	t1=$(now)
	ovbd close o255
	t2=$(now)
	$OLD open --ignore-chain p255 stack1/layer* >/dev/null
	t3=$(now)
	$OLD close p255
	t4=$(now)
	bench open255_inproc_s "$(elapsed "$t0" "$t1")"
	bench close255_inproc_s "$(elapsed "$t1" "$t2")"
	bench open255_subproc_s "$(elapsed "$t2" "$t3")"
	bench close255_subproc_s "$(elapsed "$t3" "$t4")"
done
fi	# ONLY=lazy
echo "bench: open --lazy against ovbd pull + ovbd open, docker-registry on the guest's loopback"
# Two links between the registry and the client: the loopback as it is (the
# TCG guest's own CPU is then the limit, about 30 MB/s), and a 200 Mbit/s
# link with a 10 ms round trip, emulated with netem on lo (MTU 1500, as on a
# real network: with lo's 64 KiB MTU, netem's rate limit collapses TCP to
# about 3 MB/s). nbd runs over a unix socket, so only HTTP crosses the link.
if [ -d /data/registry ] && command -v nbdkit >/dev/null && command -v docker-registry >/dev/null; then
	regpid=$(guest-registry /data/registry accesslog) || echo "BENCH error docker-registry"
	REF=127.0.0.1:5000/tree:v1 FILE=$(cat /data/lazy-file.txt)
	mkdir -p /mnt/lz
	nbdbytes() { awk '{s += $3} END {print s * 512}' /sys/block/nbd*/stat; }
	# what nbdkit fetched: the bytes of the registry's 206 (Range) answers
	# logged since line $1 of its access log (the background download asks
	# for whole blobs, and its one line comes when it completes)
	rangebytes() { tail -n "+$(($1 + 1))" /tmp/reg.log | awk '$9 == 206 {s += $10} END {print s + 0}'; }
	for link in lo wan; do
		if [ $link = wan ]; then
			ip link set lo mtu 1500
			/sbin/tc qdisc add dev lo root netem rate 200mbit delay 5ms limit 100000 ||
				{ echo "BENCH error tc netem"; break; }
			sfx=_wan
		else
			sfx=
		fi
		for round in $(seq "$ROUNDS"); do
			rm -rf /tmp/lstore; cold
			n0=$(nbdbytes); l0=$(wc -l </tmp/reg.log); t0=$(now)
			OVBD_STORE=/tmp/lstore ovbd open --lazy --timings lz $REF >/dev/null 2>/tmp/lz.timings
			tm=$(now)
			mount -t ext4 -o ro,noload /dev/mapper/lz /mnt/lz
			tr=$(now)
			cat "/mnt/lz/$FILE" >/dev/null
			t1=$(now)
			# where the time to that read went: open's phases (--timings), the mount, the read
			for kv in $(sed -n 's/^timings: //p' /tmp/lz.timings); do
				bench "lazy${sfx}_phase_${kv%%=*}_s" "${kv#*=}"
			done
			bench lazy${sfx}_phase_mount_s "$(elapsed "$tm" "$tr")"
			bench lazy${sfx}_phase_read_s "$(elapsed "$tr" "$t1")"
			bench lazy${sfx}_nbd_bytes $(( $(nbdbytes) - n0 ))
			bench lazy${sfx}_registry_bytes "$(rangebytes "$l0")"
			i=0; while [ $i -lt 3000 ] && [ -e /run/ovbd/lz.lazy ]; do sleep 0.2; i=$((i + 1)); done
			if [ $link = lo ]; then
				cold; t2=$(now)
				bytes=$(tar -cf - -C /mnt/lz . | wc -c)
				t3=$(now)
			fi
			umount /mnt/lz; OVBD_STORE=/tmp/lstore ovbd close lz
			rm -rf /tmp/lstore; cold
			t4=$(now)
			ovbd pull $REF /tmp/lstore >/dev/null 2>&1
			ovbd open pl oci:/tmp/lstore:v1 >/dev/null
			mount -t ext4 -o ro,noload /dev/mapper/pl /mnt/lz
			cat "/mnt/lz/$FILE" >/dev/null
			t5=$(now)
			if [ $link = lo ]; then
				cold; t6=$(now)
				tar -cf - -C /mnt/lz . | wc -c >/dev/null
				t7=$(now)
				bench after_handover_MBps "$(awk -v b="$bytes" -v a="$t2" -v z="$t3" 'BEGIN {printf "%.1f", b / (z - a) / 1e6}')"
				bench local_open_MBps "$(awk -v b="$bytes" -v a="$t6" -v z="$t7" 'BEGIN {printf "%.1f", b / (z - a) / 1e6}')"
			fi
			umount /mnt/lz; ovbd close pl
			bench lazy${sfx}_first_read_s "$(elapsed "$t0" "$t1")"
			bench pull${sfx}_open_first_read_s "$(elapsed "$t4" "$t5")"
			if [ $link = lo ]; then	# the same first read, of the verified image (trees from the registry too)
				rm -rf /tmp/lstore; cold; t8=$(now)
				OVBD_STORE=/tmp/lstore ovbd open --lazy lv ${REF%:v1}:vv >/dev/null
				mount -t ext4 -o ro,noload /dev/mapper/lv /mnt/lz
				cat "/mnt/lz/$FILE" >/dev/null
				t9=$(now)
				bench lazy_verity_first_read_s "$(elapsed "$t8" "$t9")"
				i=0; while [ $i -lt 3000 ] && [ -e /run/ovbd/lv.lazy ]; do sleep 0.2; i=$((i + 1)); done
				umount /mnt/lz; OVBD_STORE=/tmp/lstore ovbd close lv
			fi
		done
		# the same first read from the 4 GiB image (big) and from the tree
		# over 10 layers (ten), closed before the handover: what grows with
		# the image and with the layer count
		for img in big ten; do
			iref=127.0.0.1:5000/$img:v1
			for round in $(seq "$ROUNDS"); do
				rm -rf /tmp/lstore; cold
				n0=$(nbdbytes); l0=$(wc -l </tmp/reg.log); t0=$(now)
				OVBD_STORE=/tmp/lstore ovbd open --lazy --timings lz $iref >/dev/null 2>/tmp/lz.timings ||
					{ echo "BENCH error lazy_$img $(tail -c 300 /tmp/lz.timings)"; break; }
				tm=$(now)
				mount -t ext4 -o ro,noload /dev/mapper/lz /mnt/lz
				tr=$(now)
				cat "/mnt/lz/$FILE" >/dev/null
				t1=$(now)
				bench lazy_${img}${sfx}_nbd_bytes $(( $(nbdbytes) - n0 ))
				bench lazy_${img}${sfx}_registry_bytes "$(rangebytes "$l0")"
				for kv in $(sed -n 's/^timings: //p' /tmp/lz.timings); do
					bench "lazy_${img}${sfx}_phase_${kv%%=*}_s" "${kv#*=}"
				done
				bench lazy_${img}${sfx}_phase_mount_s "$(elapsed "$tm" "$tr")"
				bench lazy_${img}${sfx}_phase_read_s "$(elapsed "$tr" "$t1")"
				umount /mnt/lz; OVBD_STORE=/tmp/lstore ovbd close lz
				rm -rf /tmp/lstore; cold
				t4=$(now)
				ovbd pull $iref /tmp/lstore >/dev/null 2>&1
				ovbd open pl oci:/tmp/lstore:v1 >/dev/null
				mount -t ext4 -o ro,noload /dev/mapper/pl /mnt/lz
				cat "/mnt/lz/$FILE" >/dev/null
				t5=$(now)
				umount /mnt/lz; ovbd close pl
				bench lazy_${img}${sfx}_first_read_s "$(elapsed "$t0" "$t1")"
				bench pull_${img}${sfx}_open_first_read_s "$(elapsed "$t4" "$t5")"
			done
		done
		rm -rf /tmp/lstore
	done
	/sbin/tc qdisc del dev lo root 2>/dev/null; ip link set lo mtu 65536
	rm -rf /tmp/lstore /tmp/reg
	kill $regpid
fi
echo "bench: done"
