#!/bin/bash
# The bench's CPU-bound figures at native speed: a User-Mode Linux kernel
# (Debian's linux-source-6.1, ARCH=um, with device-mapper, loop and hostfs)
# runs dm-overlaybd.ko, built for it from the same sources, on this host's
# CPU without emulation. Inside it: zfile sequential reads (lz4 and zstd),
# 4 KiB random reads, and the ctr of 255 layers x 10 000 segments; lz4 -b
# decompresses the same image beside each round's reads (in UML: its user
# processes run natively), and lz4 -b and zstd -b again on the host at the end.
# Usage: uml.sh DATA_DIR OUT_LOG   (DATA_DIR: bench/run.sh's data: raw.img,
# d.zfile, e.zfile, stack/); prints and appends "BENCH key value" lines.
set -eu
D=$(cd "$1" && pwd) LOG=$2	# D absolute: UML starts in its own /
TOP=$(cd "$(dirname "$0")/.." && pwd)
for f in raw.img stack/layer000; do
	[ -s "$D/$f" ] || { echo "uml: $D/$f missing: make the data with bench/run.sh (DATA_ONLY=1 for only the images)"; exit 1; }
done
. "$TOP/tests/uml/build.sh"
uml_build
B=$UML_B OUT=$UML_OUT
# UML is one CPU, but its kernel and each of its processes are host
# processes that hand over to each other through ptrace. Left to the host's
# scheduler they spread over its CPUs, and every hand-over becomes a
# cross-CPU wake-up that no native kernel pays (a third of the lz4 read's
# time on this host). So UML runs on one host CPU, and lz4 -b/zstd -b on
# the same one.
UML_PIN=${UML_PIN:-$(( $(nproc) - 1 ))}
export UML_PIN
# memcpy/memset as a native x86-64 kernel patches them on this CPU: rep
# movsb/stosb with ERMS (tests/uml/build.sh's uml_string_erms); each round
# also reads the brd devices with UML's own loops, side by side
ERMS=0; grep -qw erms /proc/cpuinfo && ERMS=1
export UML_ARGS="uml_string_erms=$ERMS"
# crc32c() as a native x86-64 kernel has it (crc32c-intel, SSE4.2): UML
# builds no arch/x86/crypto, so bench/uml-crc32c registers one for it,
# loaded before libcrc32c binds. A second, shorter boot reads the lz4 image
# with UML's own table CRC32C, for the difference.
uml_build_crc32c || exit 1
CRC_KO=$UML_CRC_KO

# the same layers as (d) and (e), tar-wrapped as registry blobs are
"$TOP/tools/build/ovbd" commit --zfile --algo lz4 --block-size 4096 --tar "$D/raw.img" "$B/d.tar"
"$TOP/tools/build/ovbd" commit --zfile --algo zstd --block-size 16384 --tar "$D/raw.img" "$B/e.tar"
# the sequential figures read the image's first SAMPLE_MIB, the sample that
# lz4 -b and zstd -b decompress on the host below
SAMPLE_MIB=$(( $(stat -c %s "$D/raw.img") >> 20 )); [ "$SAMPLE_MIB" -gt 256 ] && SAMPLE_MIB=256
# the sample that lz4 -b decompresses, in the guest each round and on the host at the end
head -c $((SAMPLE_MIB << 20)) "$D/raw.img" >"$B/sample"
res=$B/results.txt; rm -f "$res"
cat >"$B/init.sh" <<EOF
#!/bin/sh
RES=$res SAMPLE_MIB=$SAMPLE_MIB OVBD=$TOP/tools/build/ovbd RANDREAD=$TOP/build/bench/randread
. $TOP/bench/uml-init-lib.sh
[ -z "$CRC_KO" ] || insmod $CRC_KO || echo "uml: insmod crc32c-uml-sse42 failed"
insmod $UML_LIBCRC32C && insmod $UML_KO || echo "uml: insmod failed"
# which crc32c() the module gets: the highest priority "crc32c" in /proc/crypto
echo "BENCH uml_crc32c_sse42 \$(awk '/^name/ {n = \$3} /^driver/ {d = \$3} /^priority/ && n == "crc32c" && \$3 > p {p = \$3; b = d} END {print b == "crc32c-uml-sse42" ? 1 : 0}' /proc/crypto)"
cp $B/d.tar $B/e.tar $D/raw.img /tmp/img/
zdev zd /tmp/img/d.tar && zdev ze /tmp/img/e.tar || { echo "uml: no zfile devices"; exit 1; }
# the I/O path's own ceiling: the raw image through dm-linear
l=\$(losetup -r -f --show /tmp/img/raw.img)
dmsetup --noudevsync create --readonly za --table "0 \$(blockdev --getsz \$l) linear \$l 0"
dmsetup --noudevsync mknodes za
# the raw and the lz4 image again on RAM disks (brd): a lower device that
# copies in the submitter, as a disk's DMA costs no worker and no page-cache
# lookups, where a loop device reads tmpfs in its own worker
kib=\$(( (\$(stat -c %s /tmp/img/raw.img) + 1023) / 1024 ))
insmod $UML_BRD rd_nr=2 rd_size=\$kib || echo "uml: insmod brd failed"
dd if=/tmp/img/raw.img of=/dev/ram0 bs=1M 2>/dev/null && dd if=/tmp/img/d.tar of=/dev/ram1 bs=1M 2>/dev/null
dmsetup --noudevsync create --readonly zab --table "0 \$(( \$(stat -c %s /tmp/img/raw.img) / 512 )) linear /dev/ram0 0"
dmsetup --noudevsync mknodes zab
zdev zdb /dev/ram1 || echo "uml: no zfile device on brd"
SE=/sys/module/kernel/parameters/uml_string_erms
echo "BENCH uml_string_erms \$(cat \$SE)"
# one untimed pass of each first: the first round's figures were the lowest
# in most runs (zd by 10-20%), as the first touches of each device's path
for dev in za zd ze zab zdb; do seqread \$dev warmup >/dev/null; done
for r in 1 2 3 4 5; do
	# lz4 -b in here, beside this round's reads: a user process of UML
	# runs on the host CPU natively (as fast as on the host: analysis.md),
	# and the host's speed drifts by 10-20% from one minute to the next,
	# so a ratio to one lz4 -b at the end of the run moved with it; each
	# round's ratio is printed, and the report takes their median
	lz=\$(lz4_b_MBps $B/sample)
	echo "BENCH uml_guest_lz4_b_MBps \$lz"
	# one 1 MiB bio in flight (dd bs=1M; keys uml_seq_MBps_*), then four
	# (bs=4M, which O_DIRECT splits into four 1 MiB bios, as the TCG
	# column's fio iodepth 4; keys uml_seq4_MBps_*)
	for q in "1:za zd ze zab zdb" "4:za zd zab zdb"; do
		n=\${q%%:*}; k=; [ "\$n" = 1 ] || k=\$n
		for dev in \${q#*:}; do
			v=\$(seqread \$dev uml_seq\${k}_MBps_\$dev \$n); echo "\$v"
			case \$dev in zd|zdb) echo "\$v" | awk -v l="\$lz" '{if (l > 0) printf "BENCH uml_ratio%s_%s_lz4_b %.3f\\n", k, d, \$3 / l}' k="\$k" d=\$dev;; esac
		done
	done
	if [ "\$(cat \$SE)" = 1 ]; then
		echo 0 >\$SE
		seqread zab uml_seq_MBps_zab_memcpy_orig; seqread zdb uml_seq_MBps_zdb_memcpy_orig
		echo 1 >\$SE
	fi
	randiops zd uml_rand4k_iops_zd
done
# untimed repeats for the host's perf (uml.sh samples this process from outside);
# the modules' symbols, which perf on the host cannot see, for its report
grep '\\[' /proc/kallsyms >$B/modsyms.txt
touch $B/prof.go
# (one process for all of them: a dd a pass spent a fifth of the samples
# in UML's exec and page faults)
$TOP/build/bench/seqloop /dev/mapper/zd $SAMPLE_MIB 300 $B/prof.stop
$TOP/tools/build/ovbd close zd; $TOP/tools/build/ovbd close ze; $TOP/tools/build/ovbd close zdb
dmsetup --noudevsync remove za; dmsetup --noudevsync remove zab; losetup -d \$l; umount /tmp/img
rmmod brd
table="lsmt"; for f in $D/stack/layer*; do table="\$table \$(losetup -r -f --show \$f) -"; done
vs=\$(( \$(ls $D/stack | wc -l) * 10000 ))
for r in 1 2 3; do
	cold; t0=\$(now)
	dmsetup --noudevsync create --readonly big --table "0 \$vs \$table" &&
		t1=\$(now) && echo "BENCH uml_ctr_255x10k_s \$(el \$t0 \$t1)" &&
		echo "BENCH uml_ctr_segments \$(dmsetup status big | awk '{print \$6}')"
	dmsetup --noudevsync remove big
done
losetup -D
echo "uml: done"
echo o >/proc/sysrq-trigger	# power off: UML exits 0 (an init that exits makes it abort)
sleep 10
EOF
chmod +x "$B/init.sh"
mkdir -p "$TOP/build/bench"
gcc -O2 -o "$TOP/build/bench/randread" "$TOP/bench/randread.c"
# sequential 1 MiB O_DIRECT passes over the first MIB MiB until STOP exists
cat >"$B/seqloop.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int fd = open(argv[1], O_RDONLY | O_DIRECT), mib = atoi(argv[2]), passes = atoi(argv[3]);
	void *buf;

	if (argc != 5 || fd < 0 || posix_memalign(&buf, 4096, 1 << 20))
		return 1;
	for (int p = 0; p < passes && access(argv[4], F_OK); p++)
		for (int i = 0; i < mib; i++)
			if (pread(fd, buf, 1 << 20, (off_t)i << 20) != 1 << 20)
				return 1;
	return 0;
}
C
gcc -O2 -o "$TOP/build/bench/seqloop" "$B/seqloop.c"
# perf on the host samples UML's kernel process (its kernel threads, the
# decoders among them, all run in it) while the guest repeats the lz4 reads
profile_uml() {	# PID of the background uml_boot
	local i=0 pid
	while [ ! -e "$B/prof.go" ] && [ $i -lt 6000 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	pid=$(pgrep -o -f "^$OUT/linux ")	# the first UML process is its kernel
	if [ -e "$B/prof.go" ] && [ -n "$pid" ] &&
	   perf record -q -F 2000 -p "$pid" -o "$B/perf.data" -- sleep 3 >/dev/null 2>&1; then
		# samples in the modules, which have no symbols on the host, get
		# the nearest symbol below their address from the guest's
		# /proc/kallsyms (UML's kernel addresses are the host process's)
		perf script -i "$B/perf.data" -F ip,sym 2>/dev/null | awk -v syms="$B/modsyms.txt" '
			function hex(x,  i, v) { x = tolower(x); v = 0
				for (i = 1; i <= length(x); i++) v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
				return v }
			BEGIN { n = 0
				while ((getline l < syms) > 0) { split(l, f, " "); a[n] = hex(f[1]); s[n] = f[3] f[4]; n++ } }
			NF >= 2 { name = $2
			  if (name == "[unknown]") { v = hex($1); best = -1
				for (i = 0; i < n; i++) if (a[i] <= v && (best < 0 || a[i] > a[best])) best = i
				if (best >= 0) name = s[best] }
			  p[name]++; t++ }
			END { for (k in p) printf "%.2f%% %s\n", 100 * p[k] / t, k }' | sort -rn | head -"${UML_PROF_LINES:-20}" |
			awk '{print "BENCHPROF uml_zfile_lz4_seq self", $1, $2}' >"$B/prof.txt"
		# UML's own mechanism (ptrace hand-overs, its interrupts as host
		# signals) runs in the host's kernel: no native kernel has it
		perf report -i "$B/perf.data" --stdio --no-children --sort dso 2>/dev/null |
			awk '$2 == "[kernel.kallsyms]" {sub("%", "", $1); k = $1} END {print "BENCH uml_prof_host_kernel_pct", k + 0}' >>"$B/prof.txt"
	else
		echo "BENCHPROF uml_zfile_lz4_seq none perf-record-failed" >"$B/prof.txt"
	fi
	touch "$B/prof.stop"
}
rm -f "$res" "$B/prof.go" "$B/prof.stop" "$B/prof.txt"
uml_boot "$B/init.sh" "$B/console.log" "${UML_TIMEOUT:-1200}" &
uml=$!
profile_uml "$uml"
wait "$uml" || true
[ -n "${UML_KEEP_PERF:-}" ] || rm -f "$B/perf.data"; rm -f "$B/prof.go" "$B/prof.stop"
grep -q '^uml: done' "$res" 2>/dev/null || { echo "uml: the UML guest did not finish ($B/console.log, $res)"; cat "$res" 2>/dev/null | tail -5; exit 1; }
# the second boot: the same lz4 reads with UML's table CRC32C (no SSE4.2 driver)
if [ -n "$CRC_KO" ]; then
	res2=$B/results-table.txt; rm -f "$res2"
	cat >"$B/init-table.sh" <<EOF
#!/bin/sh
RES=$res2 SAMPLE_MIB=$SAMPLE_MIB OVBD=$TOP/tools/build/ovbd RANDREAD=$TOP/build/bench/randread
. $TOP/bench/uml-init-lib.sh
insmod $UML_LIBCRC32C && insmod $UML_KO || echo "uml: insmod failed"
cp $B/d.tar /tmp/img/
zdev zd /tmp/img/d.tar || echo "uml: no zfile device"
for r in 1 2 3; do
	seqread zd uml_seq_MBps_zd_tablecrc
	randiops zd uml_rand4k_iops_zd_tablecrc
done
$TOP/tools/build/ovbd close zd
echo "uml: done"
echo o >/proc/sysrq-trigger
sleep 10
EOF
	chmod +x "$B/init-table.sh"
	uml_boot "$B/init-table.sh" "$B/console-table.log" "${UML_TIMEOUT:-1200}" || true
	grep -q '^uml: done' "$res2" 2>/dev/null || { echo "uml: the second UML boot did not finish ($B/console-table.log)"; exit 1; }
	cat "$res2" >>"$res"
fi
# the host's own decompression speed of the same content, at the end of the run
echo "BENCH uml_host_cpu $UML_PIN" >>"$res"
echo "BENCH uml_host_lz4_b_MBps $(taskset -c "$UML_PIN" lz4 -b1 -B4096 -i3 "$B/sample" 2>&1 | tr '\r' '\n' | grep -oE '[0-9.]+ MB/s' | tail -1 | grep -oE '[0-9.]+')" >>"$res"
echo "BENCH uml_host_zstd_b_MBps $(taskset -c "$UML_PIN" zstd -b3 -B16384 -i3 "$B/sample" 2>&1 | tr '\r' '\n' | grep -oE '[0-9.]+ MB/s' | tail -1 | grep -oE '[0-9.]+')" >>"$res"
rm -f "$B/sample"
cat "$B/prof.txt" >>"$res" 2>/dev/null || true
grep '^BENCH' "$res" | tee -a "$LOG"
