#!/bin/bash
# Bad input: truncations, flipped header bits, adversarial indexes, bad tar
# headers and random damage. Each must end in a clean error, never a crash.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
RANDOM_VARIANTS=${RANDOM_VARIANTS:-300}

make_raw raw 2
ovbd commit -m base raw l.lsmt				# plain LSMT
ovbd commit --zfile --tar raw lzt.zfile			# header overwrite, tar
ovbd commit raw tmp.lsmt && ovbd zfile tmp.lsmt z.zfile	# fields in the trailer
size() { stat -c %s "$1"; }

# usage errors exit 2
expect_error "usage: no command" 2 ovbd
expect_error "usage: unknown command" 2 ovbd frobnicate
expect_error "usage: cat without layers" 2 ovbd cat
expect_error "usage: bad --algo" 2 ovbd zfile --algo lzo raw out
expect_error "usage: bad --block-size" 2 ovbd zfile --block-size 5000 raw out
expect_error "usage: bad option" 2 ovbd verify --bogus l.lsmt
expect_error "missing file" 1 ovbd verify /nonexistent/blob
expect_error "not an overlaybd blob" 1 ovbd verify raw

# truncations
for f in l.lsmt z.zfile lzt.zfile; do
	s=$(size $f)
	# a wrapped payload's end (the PAX size record's, after the 1536-byte
	# headers): what follows is zeros to a block, the end-of-archive marker
	# (a cut into it is refused: truncated) and ovbd's padding to 4096 bytes
	[ $f = lzt.zfile ] && s=$((1536 + $(head -c 600 $f | tail -c 88 | grep -ao 'size=[0-9]*' | cut -d= -f2)))
	for len in 0 1 23 511 512 1023 4096 $((s / 2)) $((s - 4096)) $((s - 512)) $((s - 100)) $((s - 1)); do
		[ "$len" -ge 0 ] || continue
		head -c "$len" $f >t
		if [ $f = lzt.zfile ] && [ "$len" -gt $((s / 2)) ]; then
			# the header holds the fields: reads may work, verify sees the cut
			check "truncated $f to $len: clean outcome" clean_outcome ovbd cat t -o out
			expect_error "truncated $f to $len: verify refuses it" 1 ovbd verify t
		else
			expect_error "truncated $f to $len" 1 ovbd cat t -o out
		fi
	done
done

e=$((1536 + $(head -c 600 lzt.zfile | tail -c 88 | grep -ao 'size=[0-9]*' | cut -d= -f2)))
head -c $(( (e + 511) / 512 * 512 + 1024 )) lzt.zfile >t
check "lzt.zfile cut after its end-of-archive marker (upstream's wrapper, without ovbd's padding to 4096): verify and cat read it whole" \
	bash -c "'$OVBD' verify t >/dev/null && '$OVBD' cat t -o out && '$OVBD' cat lzt.zfile -o out2 && cmp -s out out2"

# every byte of the ZFile header and trailer fields: the digest catches all
zs=$(size z.zfile)
for base in 0 $((zs - 512)); do
	for ((i = 0; i < 96; i++)); do
		cp z.zfile t; flip_bit t $((base + i)) $((i % 8))
		expect_error "zfile struct at $base byte $i flipped" 1 ovbd verify t
	done
done

# every byte of the LSMT trailer: no digest, so some flips are harmless
ls=$(size l.lsmt)
for ((i = 0; i < 390; i++)); do
	cp l.lsmt t; flip_bit t $((ls - 4096 + i)) $((i % 8))
	check "lsmt trailer byte $i flipped: clean outcome" clean_outcome ovbd verify t
done
# (virtual_size: its top bit, past the 2^50-sector address space; any byte count below is valid)
for field in "magic:0:0" "flags:28:1" "index_offset:32:7" "index_size:40:6" "virtual_size:55:7"; do
	IFS=: read -r name off bit <<<"$field"
	cp l.lsmt t; flip_bit t $((ls - 4096 + off)) "$bit"
	expect_error "lsmt trailer $name damaged" 1 ovbd verify t
done

# adversarial LSMT indexes
ioff=$(get_le l.lsmt $((ls - 4096 + 32)) 8)
isz=$(get_le l.lsmt $((ls - 4096 + 40)) 8)
e0=$(get_le l.lsmt "$ioff" 8); e1=$(get_le l.lsmt $((ioff + 16)) 8)
cp l.lsmt t; put_le t $((ioff + 16)) "$e0" 8
expect_error "index: overlapping entries" 1 ovbd verify t
cp l.lsmt t; put_le t "$ioff" "$e1" 8; put_le t $((ioff + 16)) "$e0" 8
expect_error "index: unsorted entries" 1 ovbd verify t
cp l.lsmt t; put_le t $((ioff + 8)) $((1 << 54)) 8
expect_error "index: moffset out of range" 1 ovbd verify t
cp l.lsmt t; put_le t $((ioff + 6)) 0 2
expect_error "index: zero length" 1 ovbd verify t
cp l.lsmt t; put_le t $((ioff + 15)) 5 1
ovbd cat l.lsmt -o want
check "index: a nonzero tag (overlaybd-merge output) is read and ignored" \
	bash -c "'$OVBD' verify t >/dev/null && '$OVBD' cat t -o got && cmp -s got want"
cp l.lsmt t; put_le t "$ioff" $(( ((1 << 50) - 2) | (16 << 50) )) 8
expect_error "index: an entry ending past 2^50 - 1 sectors" 1 ovbd verify t
check "index: that refusal names the entry's end" \
	bash -c "'$OVBD' verify t 2>&1 | grep -q 'lsmt index entry end = $(( (1 << 50) + 14 )), expected at most 2^50 - 1 sectors (entry 0)'"
cp l.lsmt t; put_le t $((ls - 4096 + 40)) $((1 << 40)) 8
expect_error "index: huge count" 1 ovbd verify t
cp l.lsmt t; put_le t $((ls - 4096 + 40)) $((isz + 1)) 8
expect_error "index: count past the trailer" 1 ovbd verify t

# ZFile index and blocks
zi=$(get_le z.zfile $((zs - 512 + 40)) 8)
cp z.zfile t; put_le t "$zi" 200000 4
expect_error "zfile: oversized stored block length" 1 ovbd verify t
cp z.zfile t; put_le t "$zi" 3 4
expect_error "zfile: stored length <= 4 with verify" 1 ovbd verify t
cp z.zfile t; flip_bit t 600 3
expect_error "zfile: block CRC mismatch" 1 ovbd verify t
check "zfile: block CRC message names the stored CRC and the block" \
	bash -c "'$OVBD' verify t 2>&1 | grep -qE 'zfile block crc = [0-9]+, expected .*\(block 0\)'"

# tar headers
cp lzt.zfile t; flip_bit t $((1024 + 148)) 0
expect_error "tar: bad ustar checksum" 1 ovbd verify t
cp lzt.zfile t; flip_bit t 148 0
expect_error "tar: bad PAX header checksum" 1 ovbd verify t
cp lzt.zfile t; put_bytes t 512 '99 size=1\n'
expect_error "tar: PAX record longer than its data" 1 ovbd verify t
s=$(size lzt.zfile); rec="size=$((s * 2))"; len=$(( ${#rec} + 4 ))
cp lzt.zfile t; put_bytes t 512 "$len $rec\n"
expect_error "tar: PAX size past the end" 1 ovbd verify t

# crafted images (tests/craft.py): issue 10's classes, issue 16's upstream rules
CRAFT="python3 $TOP/tests/craft.py"
$CRAFT wrap wrap.lsmt
expect_error "crafted: virtual_size 0 and an entry across 2^50 is refused" 1 ovbd cat wrap.lsmt -o out
# entries past virtual_size (issue 40): clipped as upstream's reader clips them;
# a virtual_size of any byte count (shrink: 20 MiB + 300 B, odd: 16 sectors + 300 B)
for kind in clip shrink odd; do
	python3 "$TOP/tests/craft.py" $kind $kind.lsmt
	check "crafted: $kind: entries past virtual_size clipped, ovbd cat reads exactly virtual_size bytes of the reference" \
		bash -c "'$OVBD' cat $kind.lsmt -o out && [ \$(stat -c %s out) = \$(cat $kind.lsmt.size) ] &&
			 [ \$(sha256sum <out | cut -d' ' -f1) = \$(cat $kind.lsmt.sha256) ]"
	check "crafted: $kind: ovbd verify accepts it and says the entries were clipped" \
		bash -c "'$OVBD' verify $kind.lsmt | grep -q 'clipped to it'"
done
$CRAFT tagged tagged.lsmt
check "crafted: overlaybd-merge tags are ignored: content as written" \
	bash -c "'$OVBD' cat tagged.lsmt -o got && [ \$(sha256sum <got | cut -c1-64) = \$(cat tagged.lsmt.sha256) ]"
$CRAFT bomb bomb.lsmt $((16 << 20)); ovbd zfile --algo zstd bomb.lsmt bomb.zfile; rm bomb.lsmt
if [[ $OVBD == *asan* ]]; then	# ASan reserves terabytes of address space
	check "crafted: 16M padding entries in a $(size bomb.zfile)-byte ZFile: verify passes" ovbd verify bomb.zfile
else
	check "crafted: 16M padding entries (256 MiB of index) in a $(size bomb.zfile)-byte ZFile: verify passes in 150 MB of address space" \
		bash -c "ulimit -v 150000; '$OVBD' verify bomb.zfile"
fi
$CRAFT many many.lsmt 200000; ovbd zfile many.lsmt many.zfile
$CRAFT paxdir paxdir.tar many.zfile
check "crafted: a PAX header of a directory does not apply to the blob after it" ovbd verify paxdir.tar
$CRAFT paxdir paxdir-lsmt.tar tagged.lsmt
check "crafted: the same around an uncompressed layer reads as the layer" \
	bash -c "'$OVBD' cat paxdir-lsmt.tar -o got2 && cmp -s got2 got"
$CRAFT zeroed0 zeroed0.lsmt
check "crafted: a zeroed entry with moffset 0 reads, verify warns that upstream refuses it" \
	bash -c "'$OVBD' verify zeroed0.lsmt 2>&1 | grep -q 'upstream overlaybd refuses this layer'"
expect_error "crafted: verify --strict fails on it" 1 bash -c "'$OVBD' verify --strict zeroed0.lsmt 2>&1 >/dev/null | grep refused >&2; exit 1"

# what ovbd commit writes opens in upstream too (issue 16)
cp raw raw2; dd if=/dev/zero of=raw2 bs=4096 seek=20 count=30 conv=notrunc status=none
ovbd commit --lower l.lsmt raw2 zl.lsmt
check "commit: a block that became zeros is a zeroed entry (info counts it)" \
	bash -c "'$OVBD' info --json zl.lsmt | grep -q '\"zeroed_entries\": [1-9]'"
check "commit: its moffset is the data end, as upstream's discards: verify --strict passes" \
	ovbd verify --strict zl.lsmt
check "commit: a base layer's parent_uuid is the nil uuid" \
	bash -c "'$OVBD' info l.lsmt | grep -q 'parent_uuid.*00000000-0000-0000-0000-000000000000'"
paysize=$(head -c 600 lzt.zfile | tail -c 88 | grep -ao 'size=[0-9]*' | cut -d= -f2)
list_tar_py() { python3 -c 'import sys, tarfile
for m in tarfile.open(sys.argv[1]): print(m.name, m.size)' "$1"; }
for reader in "tar tvf" "bsdtar tvf" "list_tar_py"; do
	set -- $reader
	if [ "$1" != list_tar_py ] && ! command -v "$1" >/dev/null; then
		not_ok "tar reader $1 is missing (tools/install-deps.sh installs it)"; continue
	fi
	check "commit --tar: $1 lists overlaybd.commit with the PAX size $paysize" \
		bash -c "$(declare -f list_tar_py); $reader lzt.zfile | grep -qE '$paysize.*overlaybd.commit|overlaybd.commit $paysize'"
done

# a new user's mistakes (issue 15): refused, nothing destroyed, nothing half-written
make_raw base.raw 2; cp base.raw base.keep
ovbd commit --tar base.raw L1; cp base.raw r2; printf 'two' | dd of=r2 bs=1 seek=5000 conv=notrunc status=none
ovbd commit --lower L1 --zfile r2 L2; cp r2 r3; printf 'three' | dd of=r3 bs=1 seek=9000 conv=notrunc status=none
ovbd commit --lower L1 --lower L2 r3 L3
expect_error "chain: layers given top first are refused" 1 ovbd cat L3 L2 L1 -o out
check "chain: the refusal names both layers and both uuids" \
	bash -c "'$OVBD' cat L1 L3 L2 -o out 2>&1 | grep -qE 'layer 1: L3: parent_uuid [0-9A-F-]{36} is not the uuid [0-9A-F-]{36} of layer 0 \\(L1\\)'"
# the combinations (README "The layer chain"): only a layer whose parent is
# set and is not the uuid of the layer below is refused
expect_error "chain: a layer out of order above the base is refused (L1 L3)" 1 ovbd cat L1 L3 -o out
expect_error "chain: ovbd table checks it too" 1 ovbd table img L1 L3
expect_error "chain: ovbd commit --lower checks it too" 1 ovbd commit --lower L1 --lower L3 r3 Lx
check "chain: --ignore-chain maps them anyway" ovbd cat --ignore-chain L1 L3 -o out
check "chain: a base layer with a nil parent, then the right order, reads RAW back" \
	bash -c "'$OVBD' cat L1 L2 L3 -o out && cmp -s out r3"
# a base whose parent_uuid is set names a layer outside the stack (a qcow2
# import by overlaybd-create with a parent does this): upstream opens it
check "chain: a base layer with a non-nil parent opens (L2 L3), as upstream's reader does" \
	bash -c "'$OVBD' cat L2 L3 -o out && '$OVBD' table img L2 L3 >/dev/null && '$OVBD' commit --lower L2 r3 Lx >/dev/null"
check "chain: a stack of one whose layer has a parent opens (L3)" ovbd cat L3 -o out
expect_error "chain: two layers given top first are refused (L2 L1: the base's parent is a layer of the stack)" 1 ovbd cat L2 L1 -o out
check "chain: a stack of one with a nil parent opens (L1)" ovbd cat L1 -o out
rm -f Lx
rm -f out
expect_error "output: commit with RAW and OUT swapped is refused" 2 ovbd commit L1 base.raw
check "output: ...and the raw image is untouched" cmp -s base.raw base.keep
expect_error "output: zfile onto its own input is refused" 2 ovbd zfile base.raw base.raw
expect_error "output: zfile onto an existing non-blob is refused" 2 ovbd zfile L1 base.raw
check "output: --force replaces it" bash -c "cp base.raw victim && '$OVBD' zfile --force L1 victim && '$OVBD' verify victim >/dev/null"
check "output: replacing an existing blob needs no --force" bash -c "'$OVBD' commit base.raw L1copy && '$OVBD' commit base.raw L1copy"
mkdir -p adir
expect_error "output: commit of a directory fails" 1 ovbd commit adir newout
check "output: ...and leaves no output file" [ ! -e newout ]
expect_error "output: zfile of a directory fails" 1 ovbd zfile adir newout
check "output: ...and leaves no output file" [ ! -e newout ]
expect_error "output: cat -o of a corrupt layer fails" 1 ovbd cat wrap.lsmt -o newout
check "output: ...and leaves no partial file, temporary or not" bash -c "[ ! -e newout ] && ! ls -a | grep -q '\\.ovbd-'"
expect_error "output: cat onto one of its inputs is refused" 2 ovbd cat L1 -o L1
check "cat: refuses a terminal as standard output" bash -c "script -qec '$OVBD cat L1' /dev/null | grep -q 'standard output is a terminal'"
expect_error "options: --uuid must be RFC 4122" 2 ovbd commit --uuid nonsense base.raw x1
expect_error "options: --parent must be RFC 4122" 2 ovbd commit --parent zz base.raw x1
check "options: a valid --uuid is stored upper-case" bash -c "'$OVBD' commit --uuid 0a7d1e6f-9a38-4c2e-8e2b-2f0c6b1d0001 base.raw x1 && '$OVBD' info x1 | grep -q 0A7D1E6F-9A38-4C2E-8E2B-2F0C6B1D0001"
expect_error "options: -m over 255 bytes is refused, not cut" 2 ovbd commit -m "$(printf '%0300d' 0)" base.raw x2
expect_error "options: --algo without --zfile is refused" 2 ovbd commit --algo zstd base.raw x2
expect_error "options: --block-size without --zfile is refused" 2 ovbd commit --block-size 8192 base.raw x2
check "usage: an unknown option is named" bash -c "'$OVBD' info --frob x 2>&1 | grep -q \"unknown option '--frob'\""
check "usage: a surplus argument is said" bash -c "'$OVBD' info a b 2>&1 | grep -q '2 arguments after the options do not fit'"
check "usage: ovbd CMD --help lists options and an example" bash -c "'$OVBD' commit --help | grep -q '^options:' && '$OVBD' commit --help | grep -q '^example:'"
check "usage: ovbd --help indents descriptions below the commands" bash -c "'$OVBD' --help | grep -q '^        Print the kind'"

printf '{"lowers": [{"file": "L1"}' >trunc.json
check "config: a JSON document that ends early says so" \
	bash -c "'$OVBD' open cfg --config trunc.json 2>&1 | grep -q 'ends early'"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	check "open: a non-root user is told that root is needed, in full" \
		bash -c "setpriv --reuid=65534 --regid=65534 --clear-groups '$OVBD' open nr L1 2>&1 | grep -qx 'ovbd: open nr: needs root: it creates loop and device-mapper devices'"
else
	skip "open as non-root: needs root and setpriv to switch to nobody"
fi

# the build: probes never cached from a broken header tree, missing headers named
if [ -x "$TOP/src/conftest.sh" ]; then
	mkdir -p fakek; echo 'all:' >fakek/Makefile
	check "build: conftest fails on a header tree that cannot build a module, and says so" \
		bash -c "! '$TOP/src/conftest.sh' '$T_DIR/fakek' '$T_DIR/probes.h' 2>err && grep -q 'does not build against .*nothing cached' err"
	check "build: ...and caches nothing" [ ! -e probes.h ]
	check "build: make without headers names the package to install" \
		bash -c "make -s -C '$TOP/src' KVER=0.0-none KDIR='$T_DIR/none' 2>&1 | grep -q 'install linux-headers-0.0-none'"
	check "build: ...and writes no probe cache" [ ! -d "$TOP/src/.probes/0.0-none" ]
fi

# make demo HOST=1 loads the module with modprobe when installed (tools/load-module.sh)
mkdir -p stub fakeproc/sys/kernel "fakelib/$(uname -r)"; : >fakeproc/modules
echo 0 >fakeproc/sys/kernel/modules_disabled
printf '#!/bin/sh\necho "$(basename "$0") $*" >>%s/calls\n' "$T_DIR" >stub/modprobe
cp stub/modprobe stub/modinfo; cp stub/modprobe stub/insmod; chmod +x stub/*
loadmod() { env PATH="$T_DIR/stub:$PATH" OVBD_PROC="$T_DIR/fakeproc" OVBD_LIBMOD="$T_DIR/fakelib" "$TOP/tools/load-module.sh" "$@"; }
: >calls; loadmod "$T_DIR/nowhere" >/dev/null
check "demo HOST=1: an installed module is loaded with modprobe, not insmod" \
	bash -c "grep -qx 'modprobe dm-overlaybd' calls && ! grep -q insmod calls"
printf '#!/bin/sh\nexit 1\n' >stub/modinfo; : >calls
mkdir -p tree/src; : >tree/src/dm-overlaybd.ko
loadmod "$T_DIR/tree" >/dev/null
check "demo HOST=1: a module built here is loaded with insmod" grep -q "insmod $T_DIR/tree/src/dm-overlaybd.ko" calls
out=$(env PATH="$T_DIR/stub:$PATH" OVBD_PROC="$T_DIR/fakeproc" OVBD_LIBMOD="$T_DIR/fakelib" "$TOP/tools/load-module.sh" "$T_DIR/nowhere")
check "demo HOST=1: neither installed nor built: said so" grep -q 'neither installed' <<<"$out"
out=$(env OVBD_PROC="$T_DIR/fakeproc" OVBD_LIBMOD="$T_DIR/nolib" "$TOP/tools/load-module.sh" "$T_DIR/nowhere")
check "demo HOST=1: a kernel that cannot load modules: pointed to the QEMU demo" grep -q 'run make demo' <<<"$out"

# what verify says it checked, and what it cannot
check "verify: an uncompressed layer's data is said to be unchecked" \
	bash -c "'$OVBD' verify l.lsmt | grep -q 'data not checked: an uncompressed LSMT layer stores no checksums'"
check "verify: a ZFile's CRCs and decodes are said to be checked" \
	bash -c "'$OVBD' verify z.zfile | grep -q 'CRC32C and decode of every block'"

# the project's own files say what the tool does
check "man page: renders without warnings and names every command" \
	bash -c "MANWIDTH=100 man -l '$TOP/tools/ovbd.8' 2>man.err >man.txt && [ ! -s man.err ] &&
		 for c in info cat verify zfile commit table open close status list convert 'image build' pull push rmi gc runtime-config bundle vm-disks; do grep -q \"ovbd \$c\" man.txt || { echo \"missing \$c\"; exit 1; }; done"
check "man page: the block size is a power of two from 4096 to 65536" grep -q 'a power of two from 4096 to 65536' "$TOP/tools/ovbd.8"
check "debian/control names no upstream project as its Homepage" bash -c "! grep -q '^Homepage: .*containerd' '$TOP/debian/control'"
check "install-deps --runtime-only --list: what mapping needs, no compilers" \
	bash -c "'$TOP/tools/install-deps.sh' --runtime-only --list >rt.txt && grep -qx dkms rt.txt && grep -qx dmsetup rt.txt && ! grep -qx build-essential rt.txt"
check "install-deps: an unknown argument is refused" bash -c "'$TOP/tools/install-deps.sh' --bogus 2>/dev/null; [ \$? = 2 ]"
check "build: ovbd compiles with no warning, plain and with the sanitizers' flags" \
	bash -c "for f in '-O2 -g' '-O1 -g -fsanitize=address,undefined'; do rm -rf '$T_DIR/bw'; make -s -C '$TOP/tools' BUILD='$T_DIR/bw' CFLAGS=\"\$f\" 2>&1 | grep -q warning && exit 1; done; true"
check "build: without kernel headers, make still builds ovbd, then names the package" \
	bash -c "make -s -C '$TOP' KVER=0.0-none 2>&1 | grep -q 'install linux-headers-0.0-none' && [ -x '$TOP/tools/build/ovbd' ]"

# random damage and random truncation
for f in lzt.zfile z.zfile l.lsmt; do
	s=$(size $f); bad=0
	for ((v = 0; v < RANDOM_VARIANTS / 3; v++)); do
		cp $f t
		for ((k = 0; k < 1 + v % 8; k++)); do
			flip_bit t $(( (RANDOM * 32768 + RANDOM) % s )) $((RANDOM % 8))
		done
		[ $((v % 5)) -eq 0 ] && truncate -s $(( (RANDOM * 32768 + RANDOM) % s )) t
		clean_outcome ovbd verify t || { bad=$((bad + 1)); cp t "$TOP/build/badinput-failure.bin" 2>/dev/null; }
	done
	check "random damage to $f: $((RANDOM_VARIANTS / 3)) variants, clean outcomes ($bad bad)" [ $bad -eq 0 ]
done
summary
