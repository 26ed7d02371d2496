# Sourced by bench/run.sh and bench/ab.sh (TOP set): the bench's guest, one
# Debian 6.1 kernel under QEMU TCG with 2 vCPUs. Its CPU is TCG's "max"
# model: the default qemu64 lacks SSE4.2, which would leave the kernel's
# crc32c, and only it, without its hardware instruction.
BENCH_KVER=$(ls /lib/modules | grep -E '^6\.1\.' | sort -V | tail -1)
say() { printf '== %s\n' "$*"; }	# a step of the bench, on the host
bench_module() {	# DIR: dm-overlaybd.ko of the src, include and VERSION copied into DIR
	make -s -C "$1/src" KVER="$BENCH_KVER" >/dev/null
}
bench_data_img() {	# DIR IMG: IMG, an ext4 image of DIR: the guest's /data
	mkfs.ext4 -q -F -O ^has_journal -d "$1" "$2" "$(( $(du -sm "$1" | cut -f1) * 11 / 10 + 128 ))M"
}
bench_initrd() {	# KO OUT WORKDIR: the guest's initramfs, with KO, ovbd and blkprobe
	gcc -O2 -static -o "$3/blkprobe" "$TOP/tests/qemu/blkprobe.c"
	BLKPROBE=$3/blkprobe "$TOP/tests/qemu/mkinitramfs.sh" "$BENCH_KVER" "$1" "$TOP/tools/build/ovbd" "$2"
}
bench_boot() {	# INITRD DATA_IMG [CMDLINE...]: boot the guest; its console on stdout
	timeout 3600 qemu-system-x86_64 -accel tcg -cpu max -m ${BENCH_MEM:-8192} -smp 2 -nographic -no-reboot \
		-kernel "/boot/vmlinuz-$BENCH_KVER" -initrd "$1" \
		-append "console=ttyS0 panic=-1 loglevel=4 log_buf_len=16M${3:+ $3}" \
		-drive "file=$2,if=virtio,format=raw,readonly=on" </dev/null 2>&1 | tr -d '\r'
}
bench_tree() {	# MIB DIR: MIB MiB of files from /usr/share and /usr/lib, copied into DIR
	find /usr/share /usr/lib -type f -size -16M -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 |
		awk -v max=$(($1 << 20)) '{ if (t >= max) exit; t += $1; print $2 }' >"$2.files"
	tar -cf - -T "$2.files" 2>/dev/null | tar -xf - -C "$2"
	rm -f "$2.files"
}
bench_copy_bin() {	# BIN DIR: the binary, its libraries and the loader, for the guest
	mkdir -p "$2"; cp -L "$1" "$2/"
	ldd "$1" | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do cp -L "$lib" "$2/"; done
}
# B D NAME MIB ROUNDS: a section's own guest (bench/NAME.sh): /data from D
# (its guest.sh run at boot), this tree's module, then NAME-report.sh of its
# BENCH lines and B/host.log into bench/results/NAME.md
bench_section_guest() {
	local B=$1 D=$2 name=$3 mib=$4 rounds=$5
	bench_data_img "$D" "$B/data.img"
	rm -rf "$B/module"; mkdir -p "$B/module"; cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$B/module/"
	bench_module "$B/module"
	bench_initrd "$B/module/src/dm-overlaybd.ko" "$B/initrd.gz" "$B"
	say "one guest: Debian $BENCH_KVER, TCG, 2 vCPUs"
	bench_boot "$B/initrd.gz" "$B/data.img" "ROUNDS=$rounds" | tee "$B/console.log" | grep -E '^(bench|BENCH)'
	grep -q '^bench: done' "$B/console.log" || { echo "bench: the guest did not finish ($B/console.log)"; return 1; }
	grep -hE '^BENCH(PROF)? ' "$B/console.log" "$B/host.log" >"$B/all.log"
	"$TOP/bench/$name-report.sh" "$B/all.log" "$mib" >"$B/$name.md" || return 1
	cp "$B/$name.md" "$TOP/bench/results/$name.md"
	cat "$TOP/bench/results/$name.md"
}
