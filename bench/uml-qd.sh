#!/bin/bash
# The native lz4 read at two request sizes, in the same UML rounds: each
# round runs `lz4 -b` inside UML, then the fastest of 3 cold 256 MiB O_DIRECT
# dd passes of the `ovbd open` stack (zd: lsmt over zfile over loop on tmpfs)
# and of the bare zfile device under it, each with bs=1M (one 1 MiB bio at a
# time) and bs=4M (four 1 MiB bios in flight, as fio's iodepth 4 in the TCG
# guest), and prints each ratio to the round's `lz4 -b` of the same bytes:
# raw.img's first 256 MiB for the stack, the layer file's for the bare
# zfile device (bench/analysis.md).
# Usage: bench/uml-qd.sh   (BOOTS, default 3; needs build/bench/data from
# make bench or DATA_ONLY=1 bench/run.sh)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/uml/build.sh"
uml_bench_prep uml-qd
A=$UML_B/qd; rm -rf $A; mkdir -p $A/mod
cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$A/mod/"
ARCH=um make -s -C "$A/mod/src" KDIR="$UML_OUT" KVER=uml >"$A/mod.log" 2>&1 || { tail $A/mod.log; exit 1; }
"$TOP/tools/build/ovbd" commit --zfile --algo lz4 --block-size 4096 --tar "$D/raw.img" "$A/d.tar"
head -c $((256 << 20)) "$D/raw.img" >"$A/sample"
# what the bare zfile device's first 256 MiB hold: the LSMT layer file
# (no zero blocks: ovbd commit left them out, and lsmt serves them)
"$TOP/tools/build/ovbd" zfile -d "$A/d.tar" "$A/layer"
head -c $((256 << 20)) "$A/layer" >"$A/sample-layer"; rm -f "$A/layer"
cat >"$A/init.sh" <<EOF
#!/bin/sh
RES=$A/res-\$BOOT.txt SAMPLE_MIB=256 OVBD=$TOP/tools/build/ovbd
. $TOP/bench/uml-init-lib.sh
[ -z "$UML_CRC_KO" ] || insmod $UML_CRC_KO
insmod $UML_LIBCRC32C && insmod $A/mod/src/dm-overlaybd.ko || { echo "insmod failed"; echo o >/proc/sysrq-trigger; }
cp $A/d.tar /tmp/img/
zdev zd /tmp/img/d.tar || { echo "open failed"; echo o >/proc/sysrq-trigger; }
# the zfile device that ovbd open made under zd's lsmt (its layer blob's shared part)
zf=\$(dmsetup ls | awk '\$1 ~ /^ovbd-blob-.*-z\$/ {print \$1; exit}')
echo "zfile dev: \$zf"
seqread zd warmup >/dev/null; seqread \$zf warmup >/dev/null
for r in 1 2 3 4; do
	lz=\$(lz4_b_MBps $A/sample); ll=\$(lz4_b_MBps $A/sample-layer)
	a=\$(seqread zd zd1 1 | cut -d' ' -f3); b=\$(seqread zd zd4 4 | cut -d' ' -f3)
	c=\$(seqread \$zf zf1 1 | cut -d' ' -f3); d=\$(seqread \$zf zf4 4 | cut -d' ' -f3)
	# the stack against lz4 -b of raw.img's bytes, the bare zfile device against lz4 -b of the layer's
	echo "EX lz4_b \$lz lz4_b_layer \$ll zd1 \$a zd4 \$b zf1 \$c zf4 \$d" | awk '{printf "%s r_zd1 %.3f r_zd4 %.3f r_zf1 %.3f r_zf4 %.3f\\n", \$0, \$7/\$3, \$9/\$3, \$11/\$5, \$13/\$5}'
done
echo o >/proc/sysrq-trigger; sleep 10
EOF
chmod +x $A/init.sh
for i in $(seq ${BOOTS:-3}); do
	UML_PIN=${UML_PIN:-$(( $(nproc) - 1 ))} UML_ARGS="BOOT=$i uml_string_erms=$(grep -qw erms /proc/cpuinfo && echo 1 || echo 0)" uml_boot "$A/init.sh" "$A/console.log" 600 || true
done
cat $A/res-*.txt | grep -E "^EX|zfile dev|failed"
