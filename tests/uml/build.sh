#!/bin/bash
# Build (once) a User-Mode Linux kernel from Debian's linux-source-6.1 with
# device-mapper, loop, hostfs and LZ4/zstd, and (each time) dm-overlaybd.ko
# for it from this tree. Sourced by tests/uml/run.sh, bench/uml.sh and
# bench/uml-ab.sh; sets
# UML_B (build/uml), UML_OUT (the kernel build, $UML_OUT/linux), UML_KO,
# UML_LIBCRC32C (libcrc32c.ko, which UML_KO needs: insmod it first) and
# UML_BRD (brd.ko, the RAM disk bench/uml.sh reads from).
# UML is one CPU with PREEMPT_NONE, and its kernel has no linear map in the
# page tables: bugs that an SMP x86-64 guest hides show there.
UML_B=$TOP/build/uml
UML_OUT=$UML_B/out
# The options uml_build sets (see there) are all in the kernel's .config.
uml_config_ok() {
	local c=$UML_OUT/.config o
	for o in '^CONFIG_ZSTD_DECOMPRESS=y' '^CONFIG_LZ4_DECOMPRESS=y' '^CONFIG_LIBCRC32C=m' \
		 '^# CONFIG_VMAP_STACK is not set' '^CONFIG_BLK_DEV_RAM=m' '^CONFIG_KERNEL_STACK_ORDER=3' \
		 '^# CONFIG_NET is not set' '^CONFIG_CC_OPTIMIZE_FOR_PERFORMANCE=y' '^# CONFIG_FRAME_POINTER is not set' \
		 '^CONFIG_DM_VERITY=m' '^CONFIG_DM_BUFIO=m'; do
		grep -q "$o" "$c" 2>/dev/null || return 1
	done
}
# uml_patch_string_erms KSRC: memcpy and memset jump to their rep movsb/
# stosb versions when uml_string_erms is set, to the loops otherwise (what
# the unpatched alternatives left them)
uml_patch_string_erms() {
	local k=$1 f
	for f in memcpy memset; do
		perl -0pi -e "s/ALTERNATIVE_2 \"jmp ${f}_orig\", \"\", X86_FEATURE_REP_GOOD, \\\\\n\\s*\"jmp ${f}_erms\", X86_FEATURE_ERMS/cmpb \\\$0, uml_string_erms(%rip)\n\tjne ${f}_erms\n\tjmp ${f}_orig/" \
			"$k/arch/x86/lib/${f}_64.S"
		grep -q "jne ${f}_erms" "$k/arch/x86/lib/${f}_64.S" || return 1
	done
	cat >"$k/arch/x86/um/string_erms.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
/* dm-overlaybd's UML build: memcpy/memset use rep movsb/stosb when set (tests/uml/build.sh) */
#include <linux/moduleparam.h>
unsigned char uml_string_erms;
core_param(uml_string_erms, uml_string_erms, byte, 0644);
C
	sed -i 's/^obj-y = bugs_\$(BITS).o /obj-y = string_erms.o bugs_$(BITS).o /' "$k/arch/x86/um/Makefile"
	grep -q '^obj-y = string_erms.o' "$k/arch/x86/um/Makefile"
}
uml_build() {
	local tarball ksrc
	tarball=$(ls /usr/src/linux-source-6.1*.tar.xz 2>/dev/null | head -1)
	[ -n "$tarball" ] || { echo "uml: /usr/src/linux-source-6.1.tar.xz missing (apt-get install linux-source-6.1)"; return 1; }
	mkdir -p "$UML_B"
	ksrc=$UML_B/$(basename "$tarball" .tar.xz)
	[ -f "$ksrc/Makefile" ] || tar -C "$UML_B" -xf "$tarball"
	# The host's XSAVE area. UML 6.1 keeps 2696 bytes of FP state per
	# process (what AVX-512 needs) and passes a buffer of that size to
	# PTRACE_SETREGSET, but the host kernel takes only its whole area, and
	# with AMX that is 11008 bytes: the host answers EFAULT and init dies at
	# its first switch ("userspace - ptrace set fp regs failed, errno = 14").
	# So UML is built for this host CPU's size (CPUID 0xd: the area of the
	# features its kernel enabled), never less than 2696; ptrace clamps a
	# larger buffer to the host's size. The kernel stacks grow from 16 to
	# 32 KiB (KERNEL_STACK_ORDER 3): UML keeps a second FP buffer in
	# thread_info, at the base of each kernel stack, and with 11008 bytes
	# there a deep stack ran into it (PTRACE_SETREGSET then refused a
	# header holding kernel addresses, EINVAL, and killed the process).
	local xs
	xs=$(printf '%s\n' '#include <cpuid.h>' '#include <stdio.h>' \
		'int main(void) { unsigned a, b, c, d; __cpuid_count(0xd, 0, a, b, c, d); printf("%u", (b + 63) / 64 * 64); return 0; }' |
		gcc -x c -o "$UML_B/xsave-size" - && "$UML_B/xsave-size") || { echo "uml: cannot read the host's XSAVE size"; return 1; }
	[ "$xs" -ge 2696 ] || xs=2696
	sed -i -E "s/DEFINE_LONGS\(HOST_FP_SIZE, [0-9]+\);/DEFINE_LONGS(HOST_FP_SIZE, $xs);/" "$ksrc/arch/x86/um/user-offsets.c"
	grep -q "DEFINE_LONGS(HOST_FP_SIZE, $xs);" "$ksrc/arch/x86/um/user-offsets.c" ||
		{ echo "uml: arch/x86/um/user-offsets.c has no HOST_FP_SIZE to set"; return 1; }
	# memcpy and memset as a native kernel has them on this CPU. An x86-64
	# kernel patches both at boot (alternatives): `rep movsb`/`rep stosb`
	# where the CPU has ERMS. UML applies no alternatives, so it always runs
	# memcpy_orig/memset_orig, loops of 8-byte moves, and that copy was 12%
	# of the lz4 read's profile. The patched UML reads a boot parameter
	# instead, uml_string_erms (0 by default: UML's own loops; 1: rep
	# movsb/stosb), also writable at /sys/module/kernel/parameters/ for
	# side-by-side runs in one boot (bench/uml.sh).
	if ! grep -q uml_string_erms "$ksrc/arch/x86/lib/memcpy_64.S"; then
		uml_patch_string_erms "$ksrc" || { echo "uml: cannot patch memcpy/memset for uml_string_erms"; return 1; }
	fi
	# LZ4_DECOMPRESS and ZSTD_DECOMPRESS are selected, not chosen: the
	# crypto algorithms select them, as in Debian's kernels. libcrc32c is a
	# module, as in Debian's kernels: it binds to the best "crc32c" loaded
	# before it (bench/uml.sh loads an SSE4.2 one first). No VMAP_STACK:
	# UML 6.1 remaps a vmalloc range's pages on the host when it flushes it
	# (flush_tlb_kernel_range: munmap, then mmap), and a kthread whose stack
	# lies in that range (freeing a module's init memory purges the lazy vmap
	# areas around it) faults forever on its own stack if a signal (UML's
	# interrupts) comes in between: a 100% CPU hang after insmod, seen once
	# in five boots with three modules loaded. Nothing here uses a network,
	# a keyboard or another file system, so UML's defconfig loses NET,
	# INPUT, REISERFS, ISO9660 and AUTOFS: about a third less to compile.
	# Compiled as Debian's x86-64 kernels are, for speed (-O2, where UML's
	# defconfig has -Os) and without frame pointers (Debian's use the ORC
	# unwinder): the bench's native column stands for those kernels, and
	# the module is built with the kernel's flags.
	# (.xsave-size and .string-erms: what the last good build was made with)
	if ! uml_config_ok || [ ! -x "$UML_OUT/linux" ] || [ ! -f "$UML_OUT/.string-erms" ] ||
	   [ "$(cat "$UML_OUT/.xsave-size" 2>/dev/null)" != "$xs" ]; then
		[ -f "$UML_OUT/.config" ] || make -s -C "$ksrc" ARCH=um O="$UML_OUT" defconfig >/dev/null
		"$ksrc/scripts/config" --file "$UML_OUT/.config" -e MODULES -e MODULE_UNLOAD -e BLK_DEV \
			-e BLK_DEV_LOOP -m BLK_DEV_RAM -e MD -e BLK_DEV_DM -e HOSTFS -e DEVTMPFS -e DEVTMPFS_MOUNT -e CRYPTO \
			-e CRYPTO_LZ4 -e CRYPTO_ZSTD -e CRYPTO_CRC32C -m LIBCRC32C -e EXT4_FS -e MAGIC_SYSRQ -d VMAP_STACK \
			-m DM_VERITY -m DM_BUFIO -e CRYPTO_SHA256 -d DM_VERITY_FEC -d DM_VERITY_VERIFY_ROOTHASH_SIG \
			-d DEBUG_INFO -d KASAN -d UBSAN -d GCOV_KERNEL --set-val KERNEL_STACK_ORDER 3 \
			-d NET -d INPUT -d REISERFS_FS -d ISO9660_FS -d AUTOFS_FS \
			-d CC_OPTIMIZE_FOR_SIZE -e CC_OPTIMIZE_FOR_PERFORMANCE -d FRAME_POINTER
		make -s -C "$ksrc" ARCH=um O="$UML_OUT" olddefconfig >/dev/null
		uml_config_ok ||
			{ echo "uml: the kernel config lacks LZ4/ZSTD decompression, a modular libcrc32c, brd, dm-verity or 32 KiB stacks, or has VMAP_STACK, NET, -Os or frame pointers"; return 1; }
		make -s -C "$ksrc" ARCH=um O="$UML_OUT" -j"$(nproc)" >"$UML_B/build.log" 2>&1 &&
			make -s -C "$ksrc" ARCH=um O="$UML_OUT" -j"$(nproc)" modules_prepare >>"$UML_B/build.log" 2>&1 ||
			{ tail -20 "$UML_B/build.log"; return 1; }
		echo "$xs" >"$UML_OUT/.xsave-size"
		touch "$UML_OUT/.string-erms"
	fi
	rm -rf "$UML_B/module"; mkdir -p "$UML_B/module"
	cp -r "$TOP/src" "$TOP/include" "$TOP/VERSION" "$UML_B/module/"
	ARCH=um make -s -C "$UML_B/module/src" KDIR="$UML_OUT" KVER=uml >"$UML_B/module.log" 2>&1 ||
		{ tail -20 "$UML_B/module.log"; return 1; }
	UML_KO=$UML_B/module/src/dm-overlaybd.ko
	UML_LIBCRC32C=$UML_OUT/lib/libcrc32c.ko
	UML_BRD=$UML_OUT/drivers/block/brd.ko
	[ -f "$UML_LIBCRC32C" ] && [ -f "$UML_BRD" ] || { echo "uml: $UML_LIBCRC32C or $UML_BRD was not built"; return 1; }
}
# uml_boot INIT CONSOLE_LOG [SECONDS]: boot UML with the host's / as its root
# (hostfs) and INIT as init; returns when init exits (UML then stops).
# With UML_PIN=N, UML's host processes all run on host CPU N; UML_ARGS adds
# to the kernel's command line.
uml_boot() {
	# shellcheck disable=SC2086
	${UML_PIN:+taskset -c "$UML_PIN"} timeout "${3:-1200}" "$UML_OUT/linux" mem=3G root=/dev/root rootfstype=hostfs rootflags=/ rw \
		init="$1" con=null con0=fd:0,fd:1 ${UML_ARGS:-} >"$2" 2>&1 </dev/null
}

# uml_build_sha256: after uml_build, bench/uml-sha256 (a SHA-NI "sha256" for
# the bench's UML kernel: see its comment) built for it; UML_SHA_KO is the
# module, or empty (UML_SHA_WHY says why) on a host CPU without SHA-NI or
# when its userspace self-test against OpenSSL fails. UML_VERITY_KOS: the
# dm-bufio and dm-verity modules, in load order.
uml_build_sha256() {
	UML_SHA_KO= UML_SHA_WHY=
	UML_VERITY_KOS="$UML_OUT/drivers/md/dm-bufio.ko $UML_OUT/drivers/md/dm-verity.ko"
	grep -qw sha_ni /proc/cpuinfo || { UML_SHA_WHY="the host CPU has no SHA extensions"; return 0; }
	gcc -O2 -o "$UML_B/sha256-selftest" "$TOP/bench/uml-sha256/selftest.c" -lcrypto &&
		"$UML_B/sha256-selftest" >/dev/null || { UML_SHA_WHY="its self-test against OpenSSL failed"; return 0; }
	rm -rf "$UML_B/sha256"; cp -r "$TOP/bench/uml-sha256" "$UML_B/sha256"
	make -s -C "$UML_OUT" ARCH=um M="$UML_B/sha256" modules >"$UML_B/sha256.log" 2>&1 ||
		{ echo "uml: bench/uml-sha256 did not build ($UML_B/sha256.log)"; return 1; }
	UML_SHA_KO=$UML_B/sha256/sha256-uml-ni.ko
}
# uml_build_crc32c: after uml_build, bench/uml-crc32c (an SSE4.2 "crc32c"
# for the bench's UML kernel: see its comment) built for it; UML_CRC_KO is
# the module, or empty on a host CPU without SSE4.2.
uml_build_crc32c() {
	UML_CRC_KO=
	grep -qw sse4_2 /proc/cpuinfo || return 0
	rm -rf "$UML_B/crc32c"; cp -r "$TOP/bench/uml-crc32c" "$UML_B/crc32c"
	make -s -C "$UML_OUT" ARCH=um M="$UML_B/crc32c" modules >"$UML_B/crc32c.log" 2>&1 ||
		{ echo "uml: bench/uml-crc32c did not build ($UML_B/crc32c.log)"; return 1; }
	UML_CRC_KO=$UML_B/crc32c/crc32c-uml-sse42.ko
}

# uml_bench_prep PROG [DATA_DIR]: the start of every bench/uml-*.sh: D (the
# bench data, default build/bench/data) checked, ovbd, the UML kernel and
# the SSE4.2 crc32c built
uml_bench_prep() {
	D=$(cd "${2:-$TOP/build/bench/data}" 2>/dev/null && pwd) || D=${2:-$TOP/build/bench/data}
	[ -s "$D/raw.img" ] || { echo "$1: $D/raw.img missing: DATA_ONLY=1 bench/run.sh makes it"; exit 1; }
	make -s -C "$TOP/tools"
	uml_build
	uml_build_crc32c
}
