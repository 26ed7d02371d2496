#!/bin/bash
# Round trips through the writers and the reference reader.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1

# zfile then zfile -d, for both codecs and every block size
{ yes "compressible text" | head -c 150000; head -c 100001 /dev/urandom; head -c 70000 /dev/zero; } >in.bin
head -c 262144 /dev/urandom >random.bin
: >empty.bin
for algo in lz4 zstd; do
	for bs in 4096 8192 16384 32768 65536; do
		for extra in "" --no-verify --tar; do
			ovbd zfile --algo $algo --block-size $bs $extra in.bin z && ovbd zfile -d z out
			check "zfile $algo bs=$bs ${extra:-verify}" same_file in.bin out
		done
	done
	# incompressible 64 KiB blocks are stored larger than the block
	ovbd zfile --algo $algo --block-size 65536 random.bin z && ovbd zfile -d z out
	check "zfile $algo incompressible 64k blocks" same_file random.bin out
	ovbd zfile --algo $algo empty.bin z && ovbd zfile -d z out
	check "zfile $algo empty input" same_file empty.bin out
done
check "zfile -d output passes verify" ovbd verify z >/dev/null
check "zfile: stdin-like cat of a standalone zfile" bash -c "'$OVBD' cat z | cmp -s - empty.bin"

# commit then cat gives back RAW, in every wrapping
make_raw raw1 4
for opts in "" "--zfile" "--zfile --algo zstd --block-size 16384" "--tar" "--zfile --tar"; do
	ovbd commit $opts -m "layer one" raw1 l1 && ovbd cat l1 -o out
	check "commit ${opts:-plain} then cat" same_file raw1 out
	check "commit ${opts:-plain} passes verify" ovbd verify l1 >/dev/null
done
ovbd commit --uuid 11111111-2222-3333-4444-555555555555 -m base raw1 base.lsmt
check "commit --uuid is recorded" bash -c "'$OVBD' info base.lsmt | grep -q 'uuid *11111111-2222-3333-4444-555555555555'"
check "info --json is JSON" bash -c "'$OVBD' info --json base.lsmt | python3 -m json.tool >/dev/null"

# two layers: overwrite, zero out data (zeroed entries) and write into holes
cp raw1 raw2
printf 'changed' | dd of=raw2 bs=1 seek=1000 conv=notrunc status=none
dd if=/dev/zero of=raw2 bs=4096 seek=100 count=20 conv=notrunc status=none
head -c 10000 /dev/urandom | dd of=raw2 bs=1 seek=3000000 conv=notrunc status=none
ovbd commit --zfile --lower base.lsmt raw2 top.zfile
ovbd cat base.lsmt top.zfile -o out
check "two layers give back raw2" same_file raw2 out
check "zeroed entries for data zeroed over a lower layer" \
	bash -c "'$OVBD' info --json top.zfile | grep -q '\"zeroed_entries\": [1-9]'"
check "parent uuid defaults to the lower layer's" \
	bash -c "'$OVBD' info top.zfile | grep -q 'parent_uuid *11111111-2222-3333-4444-555555555555'"
ovbd cat base.lsmt -o out
check "lower layer alone still gives raw1" same_file raw1 out

# 10 layers, mixed wrappings, then 255 small layers
cp raw1 cur; layers=()
for i in $(seq 1 10); do
	head -c 4096 /dev/urandom | dd of=cur bs=4096 seek=$((i * 37)) conv=notrunc status=none
	dd if=/dev/zero of=cur bs=512 seek=$((i * 301)) count=3 conv=notrunc status=none
	case $((i % 4)) in
	0) o="";; 1) o="--zfile";; 2) o="--zfile --algo zstd --tar";; 3) o="--tar";;
	esac
	ovbd commit $o ${layers[@]/#/--lower=} cur "L$i" || break
	layers+=("L$i")
done
ovbd cat "${layers[@]}" -o out
check "10 mixed layers give back the last raw" same_file cur out

truncate -s 256K small; layers=()
for i in $(seq 1 255); do
	printf "layer %03d" "$i" | dd of=small bs=512 seek=$(( (i * 7) % 512 )) conv=notrunc status=none
	[ $((i % 50)) -eq 0 ] && dd if=/dev/zero of=small bs=512 seek=$(( (i * 7) % 512 )) count=1 conv=notrunc status=none
	ovbd commit ${layers[@]/#/--lower=} small "S$i" || break
	layers+=("S$i")
done
ovbd cat "${layers[@]}" -o out
check "255 layers give back the last raw" same_file small out
expect_error "256 layers are refused" 2 ovbd cat "${layers[@]}" S1

# table syntax
ovbd table img base.lsmt top.zfile >tables
check "table: zfile device then lsmt device" bash -c "
	grep -qx 'img-z001: 0 [0-9]* zfile top.zfile [0-9]*' tables &&
	grep -qx 'img: 0 8192 lsmt base.lsmt [0-9]* /dev/mapper/img-z001 [0-9]*' tables"
summary
