#!/bin/bash
# The 4 KiB random read at native speed, before and after zfile's direct
# reads, in the same User-Mode Linux boots (bench/uml.sh's kernel, the
# SSE4.2 crc32c a native kernel uses): the working tree's module, with the
# module parameter direct_reads=N (the slot path every read took before)
# and =Y, the two alternating in every round. Devices, all over loop
# devices of files in UML's tmpfs: za, the raw image through dm-linear (the
# I/O path alone); zf, the lz4 4 KiB layer's bare zfile part; zd, the `ovbd
# open` stack over it (lsmt over zfile). Each round reads each device with
# 20 000 random O_DIRECT 4 KiB preads (queue depth 1, bench/randread.c)
# and with fio (libaio, queue depth 16, 3 s). Then, for each setting, the
# host's perf samples UML's CPU for 3 s of queue-depth-1 reads of zd, and
# the samples are put into the stages of the path (bench/analysis.md).
# Prints "RR <round> <direct_reads> <device> <qd> <IOPS>" lines, the
# medians, and the profiles, into build/uml/rand/summary.txt.
# Usage: bench/uml-rand.sh   (ROUNDS, default 3; needs build/bench/data
# from make bench or DATA_ONLY=1 bench/run.sh). PARAM and VALUES compare
# another module parameter's two values the same way, e.g. the decoded-
# block cache off and at its default: PARAM=cache_mb VALUES="0 64".
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/uml/build.sh"
uml_bench_prep uml-rand
A=$UML_B/rand; rm -rf "$A"; mkdir -p "$A/mod"
cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$A/mod/"
ARCH=um make -s -C "$A/mod/src" KDIR="$UML_OUT" KVER=uml >"$A/mod.log" 2>&1 || { tail "$A/mod.log"; exit 1; }
"$TOP/tools/build/ovbd" commit --zfile --algo lz4 --block-size 4096 --tar "$D/raw.img" "$A/d.tar"
gcc -O2 -o "$A/randread" "$TOP/bench/randread.c"
# queue-depth-1 random reads until STOP exists, for the profile
cat >"$A/randloop.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int fd = open(argv[1], O_RDONLY | O_DIRECT);
	off_t blocks = fd < 0 ? 0 : lseek(fd, 0, SEEK_END) / 4096;
	void *buf;

	if (argc != 3 || blocks < 1 || posix_memalign(&buf, 4096, 4096))
		return 1;
	srandom(2);
	for (long i = 0; (i & 1023) || access(argv[2], F_OK); i++)
		if (pread(fd, buf, 4096, (random() % blocks) * 4096) != 4096)
			return 1;
	return 0;
}
C
gcc -O2 -o "$A/randloop" "$A/randloop.c"
PARAM=${PARAM:-direct_reads} VALUES=${VALUES:-N Y}
read -r V1 V2 <<<"$VALUES"
DR=/sys/module/dm_overlaybd/parameters/$PARAM
cat >"$A/init.sh" <<EOF
#!/bin/sh
RES=$A/res.txt SAMPLE_MIB=256 OVBD=$TOP/tools/build/ovbd RANDREAD=$A/randread
. $TOP/bench/uml-init-lib.sh
[ -z "$UML_CRC_KO" ] || insmod $UML_CRC_KO
insmod $UML_LIBCRC32C && insmod $A/mod/src/dm-overlaybd.ko || { echo "uml-rand: insmod failed"; echo o >/proc/sysrq-trigger; }
cp $A/d.tar $D/raw.img /tmp/img/
zdev zd /tmp/img/d.tar || { echo "uml-rand: open failed"; echo o >/proc/sysrq-trigger; }
zf=\$(dmsetup ls | awk '\$1 ~ /^ovbd-blob-.*-z\$/ {print \$1; exit}')
l=\$(losetup -r -f --show /tmp/img/raw.img)
dmsetup --noudevsync create --readonly za --table "0 \$(blockdev --getsz \$l) linear \$l 0"
dmsetup --noudevsync mknodes za
ln -s /dev/mapper/\$zf /dev/mapper/zf
fio16() {	# DEV: IOPS of 3 s of random 4 KiB reads at queue depth 16, cold
	cold
	fio --name=r --filename=/dev/mapper/\$1 --direct=1 --rw=randread --bs=4k --ioengine=libaio \\
		--iodepth=16 --runtime=3 --time_based --randrepeat=1 --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{print \$8}'
}
for dev in za zf zd; do $A/randread /dev/mapper/\$dev 2000; done	# the first touches, untimed
for r in \$(seq ${ROUNDS:-3}); do
	for m in $V1 $V2; do
		echo \$m >$DR
		for dev in za zf zd; do
			echo "RR \$r \$m \$dev 1 \$(randiops \$dev x | cut -d' ' -f3)"
			echo "RR \$r \$m \$dev 16 \$(fio16 \$dev)"
		done
	done
done
echo "STATUS \$(dmsetup status \$zf)"
# the host's perf samples each setting's reads of zd (uml-rand.sh, below)
grep '\\[' /proc/kallsyms >$A/modsyms.txt
for m in $V1 $V2; do
	echo \$m >$DR; cold
	touch $A/prof-\$m.go
	$A/randloop /dev/mapper/zd $A/prof-\$m.stop
done
echo "uml-rand: done"
echo o >/proc/sysrq-trigger; sleep 10
EOF
chmod +x "$A/init.sh"

profile() {	# MODE: perf on the host over UML's CPU for 3 s of MODE's reads
	local i=0
	while [ ! -e "$A/prof-$1.go" ] && [ $i -lt 12000 ] && kill -0 "$uml" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	if [ -e "$A/prof-$1.go" ] && perf record -q -F 4000 -C "$PIN" -o "$A/perf-$1.data" -- sleep 3 >/dev/null 2>&1; then
		# samples in UML's modules have no symbols on the host: the nearest
		# below, from UML's /proc/kallsyms; the host kernel's get a [host] mark
		perf script -i "$A/perf-$1.data" -F ip,sym,dso 2>/dev/null | awk -v syms="$A/modsyms.txt" '
			function hex(x,  i, v) { x = tolower(x); v = 0
				for (i = 1; i <= length(x); i++) v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
				return v }
			BEGIN { n = 0
				while ((getline l < syms) > 0) { split(l, f, " "); a[n] = hex(f[1]); s[n] = f[3]; n++ } }
			NF >= 2 { name = $2
			  if ($0 ~ /kernel.kallsyms/) name = "[host]" name
			  else if (name == "[unknown]") { v = hex($1); best = -1
				for (i = 0; i < n; i++) if (a[i] <= v && (best < 0 || a[i] > a[best])) best = i
				if (best >= 0) name = s[best] }
			  p[name]++; t++ }
			END { for (k in p) printf "%.2f %s\n", 100 * p[k] / t, k }' | sort -rn >"$A/prof-$1.syms"
		# the stages of the path (bench/path-stages.awk), and the symbols
		awk -f "$TOP/bench/path-stages.awk" "$A/prof-$1.syms" | sort -k1,1 -k2,2rn |
			awk -v m="$1" '{print "PROF" $1, m, substr($0, length($1) + 2)}' >"$A/prof-$1.txt"
		awk -v m="$1" '$1 >= 0.8 {print "PROFSYM", m, $1 "%", $2}' "$A/prof-$1.syms" >>"$A/prof-$1.txt"
	else
		echo "PROFSTAGE $1 none: perf record failed" >"$A/prof-$1.txt"
	fi
	touch "$A/prof-$1.stop"
}
PIN=${UML_PIN:-$(( $(nproc) - 1 ))}
UML_PIN=$PIN UML_ARGS="uml_string_erms=$(grep -qw erms /proc/cpuinfo && echo 1 || echo 0)" uml_boot "$A/init.sh" "$A/console.log" 1200 &
uml=$!
profile $V1
profile $V2
wait "$uml" || true
grep -q '^uml-rand: done' "$A/res.txt" 2>/dev/null || { echo "uml-rand: UML did not finish ($A/console.log)"; tail -5 "$A/res.txt" 2>/dev/null; exit 1; }
{
	grep -E '^(RR|STATUS)' "$A/res.txt"
	for m in $V1 $V2; do for dev in za zf zd; do for qd in 1 16; do
		awk -v m=$m -v d=$dev -v q=$qd '$1 == "RR" && $3 == m && $4 == d && $5 == q {print $6}' "$A/res.txt" | sort -n |
			awk -v p=$PARAM -v m=$m -v d=$dev -v q=$qd '{v[NR] = $1} END {if (NR) printf "MEDIAN %s=%s %s qd%s %.0f\n", p, m, d, q, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
	done; done; done
	cat "$A/prof-$V1.txt" "$A/prof-$V2.txt" | grep -E '^PROF(STAGE|OWN)'
	cat "$A/prof-$V1.txt" "$A/prof-$V2.txt" | grep PROFSYM
} | tee "$A/summary.txt"
