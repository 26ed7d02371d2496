#!/bin/bash
# End-to-end tests in a QEMU guest booting Debian's kernel for SERIES (6.1 or
# 6.12) under TCG: builds dm-overlaybd.ko for that kernel, the initramfs and
# the data disk, boots once, counts the guest's ok/not ok lines and fails on
# any kernel splat. OVBD_QEMU_KVM=1 uses KVM (hangs on some hosts, so opt-in).
# QUICK=1 runs a subset, FULL=1 the soak's round counts (the default is
# CI's: tests/run-all); SMOKE=1 only loads the module and maps one image.
. "$(dirname "$0")/../lib.sh"
SERIES=${1:?usage: run.sh 6.1|6.12}
B=$TOP/build/qemu; mkdir -p "$B"
kver=$(ls /lib/modules | grep -E "^${SERIES//./\\.}[.-]" | sort -V | tail -1)
if [ -z "$kver" ] || [ ! -e "/boot/vmlinuz-$kver" ] || [ ! -e "/lib/modules/$kver/build/Makefile" ]; then
	not_ok "qemu $SERIES: kernel image and headers not installed (tools/install-deps.sh)"
	summary; exit 1
fi

# the module for exactly this kernel, in its own copy of the sources, unless
# MODULE_KO names one (the packaging tests pass the one DKMS installed)
if [ -n "${MODULE_KO:-}" ]; then
	ko=$B/installed-$kver.ko
	case $MODULE_KO in *.xz) xz -dc "$MODULE_KO" >"$ko";; *.zst) zstd -qdc "$MODULE_KO" >"$ko";; *) cp "$MODULE_KO" "$ko";; esac
else
	mod=$B/module-$kver; rm -rf "$mod"; mkdir -p "$mod"
	cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$mod/"
	if make -s -C "$mod/src" KVER="$kver" W=1 >"$B/module-$kver.log" 2>&1 && ! grep -q "warning:" "$B/module-$kver.log"; then
		ok "module builds for $kver with W=1 and no warnings"
	else
		not_ok "module build for $kver: $(grep -m3 -E 'warning|error' "$B/module-$kver.log")"
		summary; exit 1
	fi
	ko=$mod/src/dm-overlaybd.ko
fi
gcc -O2 -static -o "$TOP/build/preader" "$TOP/tests/qemu/blkprobe.c" 2>/dev/null
cp "$TOP/build/preader" "$TOP/build/blkprobe"
# the data disk is the same for both kernels: build it once per tree state
# (VARIANTS: the generated images mkdata.sh makes; tests/run-all sets it by depth)
export VARIANTS=${VARIANTS:-300}
stamp=$( (cat "$TOP"/tests/qemu/{mkdata.sh,guest-tests.sh} "$TOP"/tests/{craft.py,convert-image.py,treelist.c} "$OVBD"; echo "$VARIANTS") | sha256sum | cut -c1-16)
if [ ! -f "$B/data-$stamp.img" ]; then
	rm -f "$B"/data-*.img
	"$TOP/tests/qemu/mkdata.sh" "$B/data" >"$B/mkdata.log" 2>&1 || { not_ok "fixtures: $(tail -3 "$B/mkdata.log")"; summary; exit 1; }
	mkfs.ext4 -q -F -O ^has_journal -d "$B/data" "$B/data-$stamp.img" "$(( $(du -sm "$B/data" | cut -f1) * 3 / 2 + 64 ))M"
fi
# a smoke run or an installed module keeps its own files beside the full run's
run=$kver${SMOKE:+-smoke}${MODULE_KO:+-installed}
initrd=$B/initrd-$run.cpio.gz
BLKPROBE=$TOP/build/blkprobe "$TOP/tests/qemu/mkinitramfs.sh" "$kver" "$ko" "$OVBD" "$initrd"

accel="-accel tcg"; [ "${OVBD_QEMU_KVM:-0}" = 1 ] && accel="-accel kvm -cpu host"
full=""; [ "${FULL:-0}" = 1 ] && full=ovbd.full
# SECTIONS="containers verity" (a developer's run): only those sections of
# guest-tests.sh, after its module section; a partial run, never CI's
sections=""; [ -n "${SECTIONS:-}" ] && sections="ovbd.sections=$(echo $SECTIONS | tr ' ' ,)"
cmdline() { echo "console=ttyS0 panic=-1 loglevel=4 log_buf_len=16M ${QUICK:+ovbd.quick} $full ${SMOKE:+ovbd.smoke} $1"; }
append=$(cmdline "$sections")
tag=$SERIES${SMOKE:+ smoke}
log=$B/console-$run.log
# the guest's hang guard: CI's depth ends in 10-15 minutes under TCG; each
# generated variant past CI's 300 takes about 0.6 s there (1.2 allowed), and
# FULL's other rounds (lazy, crash, lifecycle) about 10 minutes more
extra=$(( VARIANTS > 300 ? (VARIANTS - 300) * 6 / 5 : 0 ))
[ "${FULL:-0}" = 1 ] && extra=$((extra + 1800))
limit=${QEMU_TIMEOUT:-$((2400 + extra))}
# A kernel that dies before it runs /init (no module of ours loaded, no
# test run) is booted once more: under TCG, Debian's 6.12 has died so in
# its early text patching (an int3 Oops in sched_clock_cpu, on a loaded
# host). The first console is kept and the retry is said; a second such
# death fails the run as any other.
# the VM flow's disks (ovbd vm-disks --qemu, from the fixtures), after the
# data disk: -device order is PCI order, so the data disk stays /dev/vda
vmdisks=$(cat "$B/data/vm/qemu.args" 2>/dev/null)
boot() {	# APPEND CONSOLE: one boot under the hang guard; rc is QEMU's exit
	local start; start=$(date +%s)
	timeout "$limit" "${OVBD_QEMU:-qemu-system-x86_64}" $accel -m 2048 -smp 2 -nographic -no-reboot \
		-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" -append "$1" \
		-drive "file=$B/data-$stamp.img,if=none,id=data,format=raw,readonly=on" \
		-device virtio-blk-pci,drive=data,serial=ovbd-data $vmdisks >"$2" 2>&1 </dev/null
	rc=$?
	echo "# qemu $kver: exit $rc after $(( $(date +%s) - start )) s; console in $2"
}
for attempt in 1 2; do
	boot "$append" "$log"
	[ $attempt = 1 ] && [ $rc != 124 ] && ! grep -q "guest: init started" "$log" || break
	mv "$log" "${log%.log}-boot1.log"
	echo "# qemu $kver: the kernel died before /init ($(tr -d '\r' <"${log%.log}-boot1.log" |
		grep -m1 -oE '(Oops|BUG|Kernel panic)[^[]{0,60}')); booting once more (first console: ${log%.log}-boot1.log)"
done
# A guest that dies later of the same fault of TCG's (an int3 Oops: a
# static key flipped at run time while the other vCPU runs that code:
# 6.12 in the CI run of a17c20c, after 184 results, so most likely in the
# containers part, where runc and crun create cgroups and attach their
# device programs) is booted once more for the part it died in and
# the parts after it (each part runs alone: what several use is in
# guest-tests.sh's prelude). The first console keeps its results up to
# that part, and its splat check covers it up to the Oops; the Oops is
# said on a "#" line, the first console kept. Any other death, or a
# second one, fails.
cut="" oops=0	# the part the first boot died in (its results come from the second), the Oops' line
[ $rc != 124 ] && [ -z "${SMOKE:-}" ] && ! grep -q "=== guest done" "$log" &&
	oops=$(tr -d '\r' <"$log" | grep -nE -m1 '(Oops: )?int3: [0-9a-f]{4} \[#1\]' | cut -d: -f1)
if [ "${oops:-0}" -gt 0 ]; then
	cut=$(tr -d '\r' <"$log" | awk '/^# section [0-9]+ / { s = $4 } END { print s }')
	rest=$(awk -v from="${cut:-module}" -v only=",$(echo ${SECTIONS:-} | tr ' ' ,)," '/^section [a-z0-9-]+$/ {
		if ($2 == from) on = 1
		if (on && $2 != "module" && $2 != "end" && (only == ",," || index(only, "," $2 ","))) { printf "%s%s", sep, $2; sep = "," } }' \
		"$TOP/tests/qemu/guest-tests.sh")
	mv "$log" "${log%.log}-died.log"
	echo "# qemu $kver: the guest died of an int3 Oops in part '${cut:-module}' ($(tr -d '\r' <"${log%.log}-died.log" |
		grep -m1 -oE 'RIP: [^ ]+')); booting once more for ${rest:-end} (first console: ${log%.log}-died.log)"
	boot "$(cmdline "ovbd.sections=${rest:-end}")" "$log"
fi
# the guest's "# section SECONDS NAME" marks: seconds per section, on one line
for l in ${cut:+"${log%.log}-died.log"} "$log"; do
	tr -d '\r' <"$l" | awk '/^# section [0-9]+ / { if (name != "") t = t sprintf(" %s %ds", name, $3 - at); name = $4; at = $3 }
		END { if (t != "") print "# sections:" t }'
done
{
	# the first boot's results before the part it died in; the second
	# boot's module part again only where it failed
	[ -n "$cut" ] && tr -d '\r' <"${log%.log}-died.log" | awk -v cut="$cut" '/^# section [0-9]+ / && $4 == cut { exit } { print }'
	tr -d '\r' <"$log" | awk -v cut="$cut" '/^# section [0-9]+ / { part = $4 } cut == "" || part != "module" || /^not ok - /'
} | grep -E '^(ok|not ok|skip) - ' | sed "s/^\(ok\|not ok\|skip\) - /\1 - [$tag] /" >"$B/results-$run.txt"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }";;
	"not ok - "*) not_ok "${line#not ok - }";;
	"skip - "*) skip "${line#skip - }";;
	esac
done <"$B/results-$run.txt"
if [ $rc = 124 ]; then
	not_ok "[$tag] guest ran to the end: stopped by the hang guard after $limit s (QEMU_TIMEOUT)"
else
	check "[$tag] guest ran to the end" grep -q "=== guest done" "$log"
fi
# the test script itself ran to its last line (a guest without its data disk
# runs nothing, and must not pass)
check "[$tag] the guest's test script ran to its end (guest: ${SMOKE:+smoke }tests finished)" \
	grep -q "guest: ${SMOKE:+smoke }tests finished" "$log"
splats=$( { [ -n "$cut" ] && tr -d '\r' <"${log%.log}-died.log" | head -n $((oops - 1))
	tr -d '\r' <"$log"; } | grep -nE 'BUG:|WARNING:|Oops|general protection fault|KASAN|UBSAN|hung task|soft lockup|Call Trace' | head -5)
check "[$tag] no kernel splat on the console${splats:+: $splats}" [ -z "$splats" ]
summary
