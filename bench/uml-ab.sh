#!/bin/bash
# Two module builds side by side at native speed: REV's dm-overlaybd.ko
# against the working tree's (or NEWREV's), both built for bench/uml.sh's
# User-Mode Linux kernel, in alternating boots (REV, new, REV, new, ...) on
# one host CPU. Each boot opens the lz4 image of bench/uml.sh with `ovbd
# open` from loop on tmpfs (zd) and from a RAM disk (zdb), reads each once
# untimed, then runs 3 rounds of `lz4 -b` inside UML beside the fastest of
# 3 cold 256 MiB O_DIRECT passes of each device, as bench/uml.sh does, and
# 20 000 cold random 4 KiB reads of zd (bench/randread.c, as uml.sh's).
# Prints every round and, per module, the median (quartiles) of each
# device's ratio to its round's `lz4 -b` and of zd's random-read IOPS.
# This host's speed moves a round by up to 0.2, so compare medians over
# several boots (bench/analysis.md).
# Usage: bench/uml-ab.sh REV [NEWREV]   (BOOTS per module, default 4; needs
# build/bench/data from make bench or DATA_ONLY=1 bench/run.sh)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
REV=${1:?usage: bench/uml-ab.sh REV [NEWREV]} NEWREV=${2:-}
for r in "$REV" $NEWREV; do
	git -C "$TOP" rev-parse -q --verify "$r^{commit}" >/dev/null ||
		{ echo "uml-ab: revision '$r' is not a commit of $TOP" >&2; exit 2; }
done
. "$TOP/tests/uml/build.sh"
uml_bench_prep uml-ab
A=$UML_B/ab2
rm -rf "$A"; mkdir -p "$A/old" "$A/new"
git -C "$TOP" archive "$REV" src include VERSION | tar -x -C "$A/old"
if [ -n "$NEWREV" ]; then git -C "$TOP" archive "$NEWREV" src include VERSION | tar -x -C "$A/new"
else cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$A/new/"; fi
for m in old new; do
	ARCH=um make -s -C "$A/$m/src" KDIR="$UML_OUT" KVER=uml >"$A/$m.log" 2>&1 ||
		{ tail -20 "$A/$m.log"; exit 1; }
done
"$TOP/tools/build/ovbd" commit --zfile --algo lz4 --block-size 4096 --tar "$D/raw.img" "$A/d.tar"
head -c $((256 << 20)) "$D/raw.img" >"$A/sample"
gcc -O2 -o "$A/randread" "$TOP/bench/randread.c"
# one boot: ABMOD (old or new) and BOOT come from UML's command line
cat >"$A/init.sh" <<EOF
#!/bin/sh
RES=$A/res-\$ABMOD-\$BOOT.txt SAMPLE_MIB=256 OVBD=$TOP/tools/build/ovbd RANDREAD=$A/randread
. $TOP/bench/uml-init-lib.sh
[ -z "$UML_CRC_KO" ] || insmod $UML_CRC_KO
insmod $UML_LIBCRC32C && insmod $A/\$ABMOD/src/dm-overlaybd.ko && insmod $UML_BRD rd_nr=1 rd_size=$(( ($(stat -c %s "$A/d.tar") >> 10) + 1024 )) ||
	{ echo "uml-ab: insmod failed"; echo o >/proc/sysrq-trigger; }
cp $A/d.tar /tmp/img/
dd if=$A/d.tar of=/dev/ram0 bs=1M 2>/dev/null
zdev zd /tmp/img/d.tar && zdev zdb /dev/ram0 || { echo "uml-ab: ovbd open failed"; echo o >/proc/sysrq-trigger; }
seqread zd warmup >/dev/null; seqread zdb warmup >/dev/null
for r in 1 2 3; do
	lz=\$(lz4_b_MBps $A/sample)
	a=\$(seqread zd zd | cut -d' ' -f3); b=\$(seqread zdb zdb | cut -d' ' -f3)
	ri=\$(randiops zd x | cut -d' ' -f3)
	echo "AB \$ABMOD lz4_b \$lz zd \$a zdb \$b" | awk -v ri="\$ri" '{printf "%s ratio_zd %.3f ratio_zdb %.3f rand_zd %s\\n", \$0, \$6 / \$4, \$8 / \$4, ri}'
done
echo o >/proc/sysrq-trigger; sleep 10
EOF
chmod +x "$A/init.sh"
for i in $(seq "${BOOTS:-4}"); do
	for m in old new; do
		UML_PIN=${UML_PIN:-$(( $(nproc) - 1 ))} UML_ARGS="ABMOD=$m BOOT=$i uml_string_erms=$(grep -qw erms /proc/cpuinfo && echo 1 || echo 0)" \
			uml_boot "$A/init.sh" "$A/console-$m.log" 600 || true
	done
done
cat "$A"/res-*.txt >"$A/results.txt" 2>/dev/null || true
grep '^AB ' "$A/results.txt" || { echo "uml-ab: no results ($A/console-old.log)"; exit 1; }
for m in old new; do
	for k in ratio_zd ratio_zdb rand_zd; do
		awk -v m=$m -v k=$k '$2 == m {for (i = 3; i < NF; i++) if ($i == k) print $(i + 1)}' "$A/results.txt" | sort -n |
			awk -v m=$m -v k=$k -v name="$([ $m = old ] && echo "$REV" || echo "${NEWREV:-this tree}")" \
				'{v[NR] = $1} END {f = k ~ /^ratio/ ? "%.3f" : "%.0f"
				if (NR) printf "%s %s: median " f " (quartiles " f "-" f ") of %d rounds\n", name, k,
					NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)], NR}'
	done
done
