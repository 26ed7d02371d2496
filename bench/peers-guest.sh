#!/bin/sh
# bench/peers.sh, inside the guest: the same layer through dm-overlaybd,
# overlaybd-ublk and overlaybd-tcmu, and the raw image through dm-linear;
# each device's sha256 first, then fio in rounds whose order rotates.
ROUNDS=${ROUNDS:-3} T=${PEER_SECONDS:-5}
FIO="/data/fio/ld-linux-x86-64.so.2 --library-path /data/fio /data/fio/fio"
bench() { echo "BENCH $*"; }
cd /data || exit 1
for m in $(cat kmod/order); do insmod "kmod/$m" 2>/dev/null; done
grep -q ' /sys/kernel/config ' /proc/mounts || mount -t configfs none /sys/kernel/config
insmod /modules/dm-overlaybd.ko 2>/dev/null
cp raw.img layer.zf /tmp/
RAWSZ=$(stat -c %s /tmp/raw.img) RAWSHA=$(cat raw.sha)
export LD_LIBRARY_PATH=/data/peers/lib
mkdir -p /etc/overlaybd /tmp/obdcache/registry /tmp/obdcache/gzip /tmp/res /var/run/overlaybd-ublk /tmp/ublkcache
cp peers/overlaybd.json /etc/overlaybd/; echo '{}' >/tmp/cred.json
mkdir -p /etc/ssl/certs /etc/pki/tls/certs
cp peers/ca-certificates.crt /etc/ssl/certs/; cp peers/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt
# (a) the raw image through dm-linear; (d) dm-overlaybd
l=$(/sbin/losetup -r -f --show /tmp/raw.img)
dmsetup create ra --readonly --table "0 $(blockdev --getsz "$l") linear $l 0" && dmsetup mknodes ra
ovbd open ob /tmp/layer.zf >/dev/null || echo "BENCH error ovbd open"
# (t) overlaybd-tcmu through tcm_loop
printf '{"lowers":[{"file":"/tmp/layer.zf"}],"resultFile":"/tmp/res/tcmu"}\n' >/tmp/tcmu.json
printf '{"lowers":[{"file":"/tmp/layer.zf"}],"resultFile":"/tmp/res/ublk"}\n' >/tmp/ublk.json
peers/overlaybd-tcmu /etc/overlaybd/overlaybd.json >/tmp/tcmu.out 2>&1 &
TPID=$!
sleep 3
C=/sys/kernel/config/target
mkdir -p $C/core/user_1/vol1 && echo -n dev_config=overlaybd//tmp/tcmu.json >$C/core/user_1/vol1/control &&
	echo -n 1 >$C/core/user_1/vol1/enable && mkdir -p $C/loopback/naa.5001405000000001/tpgt_1/lun/lun_0 &&
	echo -n naa.5001405000000001 >$C/loopback/naa.5001405000000001/tpgt_1/nexus &&
	ln -s $C/core/user_1/vol1 $C/loopback/naa.5001405000000001/tpgt_1/lun/lun_0/vol1 || echo "BENCH error tcmu configfs"
TDEV=
for i in $(seq 1 30); do
	for s in /sys/class/scsi_disk/*/device/block/*; do [ -e "$s" ] && TDEV=/dev/$(basename "$s"); done
	[ -n "$TDEV" ] && [ -b "$TDEV" ] && break; sleep 1; mdev -s 2>/dev/null
done
[ -b "$TDEV" ] || { echo "BENCH error tcmu: no SCSI disk ($(cat /tmp/res/tcmu 2>/dev/null); $(tail -c 300 /tmp/tcmu.out))"; TDEV=
	echo "bench: peers: the daemons' log:"; tail -n 40 /tmp/overlaybd.log /tmp/tcmu.out 2>&1 | sed 's/^/bench:   /'; }
# (u) overlaybd-ublk
UDEV=$(peers/overlaybd-ublk add --config /tmp/ublk.json --service-config /etc/overlaybd/overlaybd.json \
	--log-path /tmp/ublk.log --cache-dir /tmp/ublkcache 2>/tmp/ublk.err | grep -o '/dev/ublkb[0-9]*' | head -n 1)
sleep 2; mdev -s 2>/dev/null
UPID=; for f in /var/run/overlaybd-ublk/*.pid; do [ -f "$f" ] && UPID=$(cat "$f"); done
[ -b "$UDEV" ] || { echo "BENCH error ublk: no device ($(cat /tmp/res/ublk 2>/dev/null); $(tail -c 300 /tmp/ublk.err))"; UDEV=
	echo "bench: peers: ublk's log:"; tail -n 40 /tmp/ublk.log /tmp/ublk.err 2>&1 | sed 's/^/bench:   /'; ls /dev/ublk* 2>&1 | sed 's/^/bench:   /'; }
# n: dm-overlaybd again, with zfile's direct reads off (direct_reads=N):
# every random read through a pool slot, as before they existed
DR=/sys/module/dm_overlaybd/parameters/direct_reads
DEVS="a:/dev/mapper/ra d:/dev/mapper/ob${UDEV:+ u:$UDEV}${TDEV:+ t:$TDEV}"
for e in $DEVS; do
	h=$(head -c "$RAWSZ" "${e#*:}" | sha256sum | cut -d' ' -f1)
	if [ "$h" = "$RAWSHA" ]; then bench "peer_sha_ok_${e%%:*}" 1; else echo "BENCH error sha256 of ${e%%:*} (${e#*:}): $h, expected $RAWSHA"; fi
done
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
run() {	# KEY DEV FIO_ARGS...: MB/s, IOPS and busy ticks (1/100 s, both vCPUs) per MiB
	local k=$1 d=$2 out b0 b1; shift 2
	sync; echo 3 >/proc/sys/vm/drop_caches
	b0=$(busy)
	out=$($FIO --name=$k --filename="$d" --readonly --direct=1 --ioengine=libaio --size="$RAWSZ" \
		--time_based=1 --runtime=$T --output-format=terse --terse-version=3 "$@" 2>/dev/null)
	b1=$(busy)
	echo "$out" | awk -F';' -v k="$k" -v b=$((b1 - b0)) '{
		printf "BENCH peer_%s_MBps %.1f\nBENCH peer_%s_iops %s\n", k, $7 * 1024 / 1e6, k, $8
		if ($6 > 0) printf "BENCH peer_%s_cpu_ms_per_MiB %.2f\n", k, b * 10 / ($6 / 1024) }'
}
[ -w $DR ] && DEVS="$DEVS n:/dev/mapper/ob"
set -- $DEVS; N=$#
for r in $(seq 1 "$ROUNDS"); do
	set -- $DEVS; k=$(( (r - 1) % N )); while [ $k -gt 0 ]; do x=$1; shift; set -- "$@" "$x"; k=$((k - 1)); done
	echo "bench: round $r of $ROUNDS, order: $*"
	for e in "$@"; do
		v=${e%%:*} d=${e#*:}
		[ "$v" = n ] && echo N >$DR
		run seq_${v} "$d" --rw=read --bs=1M --iodepth=1
		run rand16_${v} "$d" --rw=randread --bs=4k --iodepth=16 --randseed=$r
		run rand1_${v} "$d" --rw=randread --bs=4k --iodepth=1 --randseed=$r
		[ "$v" = n ] && echo Y >$DR
	done
done
# the path of a 4 KiB read, profiled: perf over both vCPUs during 4 s of
# random reads of the raw image and of dm-overlaybd with and without direct
# reads, at queue depths 16 and 1 ("BENCHPROF NAME PCT SYMBOL", the top 40)
PERF="/data/perf/ld-linux-x86-64.so.2 --library-path /data/perf /data/perf/perf"
prof() {	# NAME DEV DIRECT_READS QD
	if [ ! -x /data/perf/perf ]; then echo "BENCHPROF $1 none perf-not-in-the-guest"; return 0; fi
	echo "$3" >$DR; sync; echo 3 >/proc/sys/vm/drop_caches
	if $PERF record -q -e cpu-clock -F 2000 -a -o /tmp/perf.data -- $FIO --name=p --filename="$2" --readonly \
		--direct=1 --ioengine=libaio --size="$RAWSZ" --time_based=1 --runtime=4 --rw=randread --bs=4k --iodepth="$4" >/dev/null 2>&1; then
		$PERF report -i /tmp/perf.data --stdio --no-children --sort sym 2>/dev/null |
			grep -E '^ +[0-9.]+%' | head -40 | awk -v n="$1" '{print "BENCHPROF", n, $1, $3}'
	else
		echo "BENCHPROF $1 none perf-record-failed"
	fi
	rm -f /tmp/perf.data; echo Y >$DR
}
if [ -w $DR ]; then
	prof raw_qd16 /dev/mapper/ra Y 16; prof direct_qd16 /dev/mapper/ob Y 16; prof slot_qd16 /dev/mapper/ob N 16
	prof raw_qd1 /dev/mapper/ra Y 1; prof direct_qd1 /dev/mapper/ob Y 1; prof slot_qd1 /dev/mapper/ob N 1
fi
ovbd close ob; dmsetup remove ra; /sbin/losetup -d "$l"
[ -n "$UDEV" ] && peers/overlaybd-ublk del -n "${UDEV#/dev/ublkb}" >/dev/null 2>&1
kill $TPID 2>/dev/null
echo "bench: done"
