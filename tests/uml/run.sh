#!/bin/bash
# The kernel targets under User-Mode Linux (tests/uml/build.sh): one CPU,
# PREEMPT_NONE, no linear map in the page tables. Images made here with ovbd
# (lz4 and zstd ZFiles, tar-wrapped and bare with a partial last sector, and
# a three-layer stack) are opened inside UML with ovbd open (the host's
# binary: UML's root is the host's /), read whole, and their sha256 compared
# with ovbd cat's on the host; then the module unloads and the console must
# hold no splat. Before dm-io was given kmalloc'ed buffers as such
# (DM_IO_KMEM), every read here faulted in the loop worker.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/uml/build.sh"
scratch
if ! uml_build >"$T_DIR/build.out" 2>&1; then
	not_ok "uml: kernel or module build: $(tail -3 "$T_DIR/build.out" | tr '\n' ' ')"
	summary; exit 1
fi
ok "uml: kernel (linux-source-6.1, ARCH=um) and dm-overlaybd.ko built"

# the images: a file system of real files, its zero-filled holes, and a tail
W=$UML_B/test; rm -rf "$W"; mkdir -p "$W/tree"
find /usr/share/doc /usr/share/man -type f -size -2M 2>/dev/null | LC_ALL=C sort | head -3000 |
	tar -cf - -T - 2>/dev/null | tar -xf - -C "$W/tree"
mkfs.ext4 -q -F -O ^has_journal -b 4096 -d "$W/tree" "$W/raw.img" 96M >/dev/null
head -c 3333333 "$W/raw.img" >"$W/odd.raw"	# not a multiple of 512
"$OVBD" commit --zfile --algo lz4 --block-size 4096 --tar "$W/raw.img" "$W/lz4.tar"
"$OVBD" commit --zfile --algo zstd --block-size 16384 --tar "$W/raw.img" "$W/zstd.tar"
"$OVBD" zfile --algo lz4 "$W/odd.raw" "$W/odd.zfile"
# three layers: the image in thirds, each over the ones below
bytes=$(stat -c %s "$W/raw.img"); lowers=()
for k in 1 2 3; do
	head -c $(( bytes / 3 * k / 4096 * 4096 )) "$W/raw.img" >"$W/part"; truncate -s "$bytes" "$W/part"
	[ "$k" = 3 ] && cp "$W/raw.img" "$W/part"
	"$OVBD" commit --zfile ${lowers[@]/#/--lower=} "$W/part" "$W/L$k"
	lowers+=("$W/L$k")
done
rm -rf "$W/tree" "$W/part"
declare -A IMG=([lz4]="$W/lz4.tar" [zstd]="$W/zstd.tar" [odd]="$W/odd.zfile" [stack]="$W/L1 $W/L2 $W/L3")
for n in lz4 zstd odd stack; do echo "$n ${IMG[$n]}"; done >"$W/images"	# NAME FILE... for init
for n in lz4 zstd odd stack; do	# a device ends on a whole sector: zeros after the image
	# shellcheck disable=SC2086
	size=$("$OVBD" cat ${IMG[$n]} | wc -c)
	# shellcheck disable=SC2086
	{ "$OVBD" cat ${IMG[$n]}; head -c $(( (512 - size % 512) % 512 )) /dev/zero; } | sha256sum | cut -d' ' -f1 >"$W/$n.want"
done

cat >"$W/init.sh" <<IN
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs run /run	# the host's /run says udev runs; in here it does not
exec >$W/results 2>&1
insmod $UML_LIBCRC32C && insmod $UML_KO && echo "insmod ok"
while read -r n f <&3; do
	if $OVBD open u\$n \$f >/dev/null; then
		echo "open \$n ok"
		echo "sha \$n \$(sha256sum </dev/mapper/u\$n | cut -d' ' -f1)"
		echo "direct \$n \$(dd if=/dev/mapper/u\$n bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
		$OVBD close u\$n && echo "close \$n ok"
	fi
done 3<$W/images
rmmod dm_overlaybd && echo "rmmod ok"
echo "uml: done"
echo o >/proc/sysrq-trigger	# power off: UML exits 0 (an init that exits makes it abort)
sleep 10
IN
chmod +x "$W/init.sh"
uml_boot "$W/init.sh" "$W/console.log" "${UML_TIMEOUT:-600}" || true
if ! grep -q '^uml: done' "$W/results" 2>/dev/null; then
	not_ok "uml: the guest did not finish (console: $W/console.log)"
	tail -20 "$W/console.log" | sed 's/^/# /'
	summary; exit 1
fi
check "uml: insmod" grep -q '^insmod ok' "$W/results"
for n in lz4 zstd odd stack; do
	want=$(cat "$W/$n.want")
	check "uml: ovbd open of the $n image" grep -q "^open $n ok" "$W/results"
	check "uml: the $n device reads the bytes ovbd cat reads (buffered)" grep -q "^sha $n $want\$" "$W/results"
	check "uml: the $n device reads the bytes ovbd cat reads (O_DIRECT)" grep -q "^direct $n $want\$" "$W/results"
	check "uml: ovbd close of the $n image" grep -q "^close $n ok" "$W/results"
done
check "uml: rmmod" grep -q '^rmmod ok' "$W/results"
if grep -E 'BUG:|WARNING:|Oops|Segfault|Kernel panic|UBSAN|KASAN|general protection' "$W/console.log" | grep -v 'Attempted to kill init'; then
	not_ok "uml: a splat on the console ($W/console.log)"
else
	ok "uml: no splat on the console"
fi
summary
