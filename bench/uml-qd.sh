#!/bin/bash
# The native lz4 read at two request sizes, in the same UML rounds: each
# round runs `lz4 -b` inside UML, then the fastest of 3 cold 256 MiB O_DIRECT
# dd passes of the `ovbd open` stack (zd: lsmt over zfile over loop on tmpfs)
# and of the bare zfile device under it, each with bs=1M (one 1 MiB bio at a
# time) and bs=4M (four 1 MiB bios in flight, as fio's iodepth 4 in the TCG
# guest), and prints each ratio to the round's `lz4 -b` (bench/analysis.md).
# Usage: bench/uml-qd.sh   (BOOTS, default 3; needs build/bench/data from
# make bench or DATA_ONLY=1 bench/run.sh)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
D=$TOP/build/bench/data
. "$TOP/tests/uml/build.sh"
make -s -C "$TOP/tools"
uml_build
uml_build_crc32c
A=$UML_B/qd; rm -rf $A; mkdir -p $A/new
cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$A/new/"
ARCH=um make -s -C "$A/new/src" KDIR="$UML_OUT" KVER=uml >"$A/new.log" 2>&1 || { tail $A/new.log; exit 1; }
"$TOP/tools/build/ovbd" commit --zfile --algo lz4 --block-size 4096 --tar "$D/raw.img" "$A/d.tar"
head -c $((256 << 20)) "$D/raw.img" >"$A/sample"
cat >"$A/init.sh" <<EOF
#!/bin/sh
RES=$A/res-\$BOOT.txt SAMPLE_MIB=256 OVBD=$TOP/tools/build/ovbd
. $TOP/bench/uml-init-lib.sh
[ -z "$UML_CRC_KO" ] || insmod $UML_CRC_KO
insmod $UML_LIBCRC32C && insmod $A/new/src/dm-overlaybd.ko || { echo "insmod failed"; echo o >/proc/sysrq-trigger; }
cp $A/d.tar /tmp/img/
zdev zd /tmp/img/d.tar || { echo "open failed"; echo o >/proc/sysrq-trigger; }
dmsetup table
zf=\$(dmsetup ls | awk '\$1 != "zd" {print \$1; exit}')
echo "zfile dev: \$zf"
sq() {	# DEV BS_MIB
	for p in 1 2 3; do cold; dd if=/dev/mapper/\$1 of=/dev/null bs=\${2}M count=\$((256 / \$2)) iflag=direct 2>&1; done |
	awk '/bytes.*copied/ {for (i = 1; i <= NF; i++) if (\$i == "s,") t = \$(i - 1); if (t > 0 && \$1 / t > best) best = \$1 / t} END {printf "%.1f", best / 1e6}'
}
sq zd 1 >/dev/null; sq \$zf 1 >/dev/null
for r in 1 2 3 4; do
	lz=\$(lz4_b_MBps $A/sample)
	a=\$(sq zd 1); b=\$(sq zd 4); c=\$(sq \$zf 1); d=\$(sq \$zf 4)
	echo "EX lz4_b \$lz zd1 \$a zd4 \$b zf1 \$c zf4 \$d" | awk '{printf "%s r_zd1 %.3f r_zd4 %.3f r_zf1 %.3f r_zf4 %.3f\\n", \$0, \$5/\$3, \$7/\$3, \$9/\$3, \$11/\$3}'
done
echo o >/proc/sysrq-trigger; sleep 10
EOF
chmod +x $A/init.sh
for i in $(seq ${BOOTS:-3}); do
	UML_PIN=$(( $(nproc) - 1 )) UML_ARGS="BOOT=$i uml_string_erms=$(grep -qw erms /proc/cpuinfo && echo 1 || echo 0)" uml_boot "$A/init.sh" "$A/console.log" 600 || true
done
cat $A/res-*.txt | grep -E "^EX|zfile dev|failed"
