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
	for len in 0 1 23 511 512 1023 4096 $((s / 2)) $((s - 4096)) $((s - 512)) $((s - 1)); do
		[ "$len" -ge 0 ] || continue
		head -c "$len" $f >t
		if [ $f = lzt.zfile ] && [ "$len" -gt $((s / 2)) ]; then
			# the header holds the fields: a cut trailer may be harmless
			check "truncated $f to $len: clean outcome" clean_outcome ovbd cat t -o out
		else
			expect_error "truncated $f to $len" 1 ovbd cat t -o out
		fi
	done
done

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
for field in "magic:0:0" "flags:28:1" "index_offset:32:7" "index_size:40:6" "virtual_size:48:0"; do
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
expect_error "index: nonzero tag" 1 ovbd verify t
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
check "zfile: block CRC message names the block" \
	bash -c "'$OVBD' verify t 2>&1 | grep -q 'zfile block crc = 0'"

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
