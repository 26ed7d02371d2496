#!/bin/bash
# Verified against unverified reads at native speed (issue 37): the bench's
# lz4 4 KiB ZFile layer of the tree, tar-wrapped as a registry blob, in an
# OCI layout twice, plain and after ovbd verity add, both opened in one UML
# boot from UML's tmpfs (zd: lsmt over zfile over loop; zv: the same over
# dm-verity). dm-verity hashes with bench/uml-sha256's SHA-NI sha256, as a
# native x86-64 kernel would with sha256-ni; without it the rows are skipped,
# saying why. Each round reads both, alternating which goes first: the
# fastest of 3 cold O_DIRECT passes of 1 MiB (one bio in flight) and of 4
# MiB (four), and 20 000 random 4 KiB O_DIRECT reads. Prints BENCH lines
# and the ratios (targets: >= 0.9 sequential, >= 0.95 random 4K).
# Usage: bench/uml-verity.sh [DATA_DIR [OUT_LOG]]  (DATA_DIR: bench/run.sh's
# data, default build/bench/data; DATA_ONLY=1 bench/run.sh makes it)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
LOG=${2:-/dev/null}
. "$TOP/tests/uml/build.sh"
uml_bench_prep uml-verity "${1:-}"
uml_build_sha256
if [ -z "$UML_SHA_KO" ]; then
	echo "BENCH uml_verity_skipped 1"; echo "uml-verity: skipped: $UML_SHA_WHY" | tee -a "$LOG"
	exit 0
fi
A=$UML_B/verity; rm -rf "$A"; mkdir -p "$A"
OVBD=$TOP/tools/build/ovbd
"$OVBD" commit --zfile --algo lz4 --block-size 4096 --tar "$D/raw.img" "$A/d.tar"
"$OVBD" image build --tag v1 "$A/lay" "$A/d.tar" >/dev/null
"$OVBD" verity add --tag vv "$A/lay:v1" >/dev/null
SAMPLE_MIB=$(( $(stat -c %s "$D/raw.img") >> 20 )); [ "$SAMPLE_MIB" -gt 256 ] && SAMPLE_MIB=256
mkdir -p "$TOP/build/bench"
gcc -O2 -o "$TOP/build/bench/randread" "$TOP/bench/randread.c"
res=$A/results.txt
cat >"$A/init.sh" <<EOF
#!/bin/sh
RES=$res SAMPLE_MIB=$SAMPLE_MIB OVBD=$OVBD RANDREAD=$TOP/build/bench/randread
. $TOP/bench/uml-init-lib.sh
[ -z "$UML_CRC_KO" ] || insmod $UML_CRC_KO
insmod $UML_SHA_KO || echo "uml-verity: insmod sha256-uml-ni failed"
for m in $UML_VERITY_KOS; do insmod \$m || echo "uml-verity: insmod \$m failed"; done
insmod $UML_LIBCRC32C && insmod $UML_KO || echo "uml-verity: insmod failed"
# which sha256 dm-verity gets: the highest priority "sha256" in /proc/crypto
echo "BENCH uml_sha256_ni \$(awk '/^name/ {n = \$3} /^driver/ {d = \$3} /^priority/ && n == "sha256" && \$3 > p {p = \$3; b = d} END {print b == "sha256-uml-ni" ? 1 : 0}' /proc/crypto)"
cp -r $A/lay /tmp/img/lay
"\$OVBD" open zd oci:/tmp/img/lay:v1 >/dev/null && "\$OVBD" open zv oci:/tmp/img/lay:vv >/dev/null ||
	{ echo "uml-verity: open failed"; echo o >/proc/sysrq-trigger; sleep 10; }
vpart=\$(dmsetup ls | grep -oE '^ovbd-blob-[0-9a-f]+-[0-9a-f]+-v' | head -n 1)
echo "BENCH uml_verity_devices \$(dmsetup ls | grep -cE '^ovbd-blob-[0-9a-f]+-[0-9a-f]+-v[[:space:]]')"
# the verity device's data block size (its table's 7th field): 4096 for ovbd's ZFile blobs
echo "BENCH uml_verity_dbs \$(dmsetup table \$vpart | awk '{print \$7}')"
for dev in zd zv; do seqread \$dev warmup >/dev/null; done
for r in 1 2 3 4; do
	if [ \$((r % 2)) = 1 ]; then order="zd zv"; else order="zv zd"; fi
	for dev in \$order; do
		seqread \$dev uml_vseq_MBps_\$dev 1
		seqread \$dev uml_vseq4_MBps_\$dev 4
		randiops \$dev uml_vrand4k_iops_\$dev
	done
done
echo "BENCH uml_verity_status \$(dmsetup status \$vpart | awk '{print \$4}')"
"\$OVBD" close zd; "\$OVBD" close zv
echo "uml: done"
echo o >/proc/sysrq-trigger
sleep 10
EOF
chmod +x "$A/init.sh"
UML_PIN=${UML_PIN:-$(( $(nproc) - 1 ))} UML_ARGS="uml_string_erms=$(grep -qw erms /proc/cpuinfo && echo 1 || echo 0)" \
	uml_boot "$A/init.sh" "$A/console.log" "${UML_TIMEOUT:-900}" || true
grep -q '^uml: done' "$res" 2>/dev/null || { echo "uml-verity: the UML guest did not finish ($A/console.log, $res)"; tail -5 "$res" 2>/dev/null; exit 1; }
grep '^BENCH ' "$res" | tee -a "$LOG"
# the medians and the ratios
declare -A ALL
while read -r _ k v; do ALL[$k]="${ALL[$k]:+${ALL[$k]} }$v"; done < <(grep '^BENCH ' "$res")
med() { printf '%s\n' ${ALL[$1]:-0} | sort -g | awk -f "$TOP/bench/median.awk"; }
for k in vseq vseq4 vrand4k; do
	u=uml_${k}_MBps; [ $k = vrand4k ] && u=uml_${k}_iops
	a=$(med ${u}_zd) b=$(med ${u}_zv)
	echo "BENCH uml_verity_ratio_$k $(awk -v a="$a" -v b="$b" 'BEGIN {if (a > 0) printf "%.3f", b / a; else print "n/a"}')" | tee -a "$LOG"
done
