# Shared helpers of the shell test suites. Each suite prints "ok - ...",
# "not ok - ...", "skip - ..." lines and ends with its own count line.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OVBD=${OVBD:-$TOP/tools/build/ovbd}
# a suite run on its own builds the tool, as make check does before any suite
if [ "$OVBD" = "$TOP/tools/build/ovbd" ] && [ ! -x "$OVBD" ] && ! make -s -C "$TOP/tools" >&2; then
	echo "not ok - ovbd build (make -C tools) for $(basename "$0")"; echo "0 passed, 1 failed, 0 skipped"; exit 1
fi
SHARED_IMAGES=${SHARED_IMAGES:-$TOP/../shared/images}
T_PASS=0 T_FAIL=0 T_SKIP=0

ok()     { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
skip()   { T_SKIP=$((T_SKIP + 1)); echo "skip - $*"; }

# check NAME CMD...: pass when CMD succeeds.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

summary() {
	echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
	[ "$T_FAIL" -eq 0 ]
}

# A scratch directory removed at exit.
scratch() {
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ovbd-test.XXXXXX")
	trap 'rm -rf "$T_DIR"' EXIT
}

# ovbd under a time limit, so that a hang is a failure and not a stuck run.
ovbd() { timeout 60 "$OVBD" "$@"; }

same_file() { cmp -s "$1" "$2"; }

# expect_error NAME CODE CMD...: CMD exits with CODE and prints one clean
# "ovbd: ..." line on stderr (never a crash, a sanitizer report or a hang).
expect_error() {
	local name=$1 code=$2 rc err; shift 2
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -eq "$code" ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
	   [[ $err == ovbd:* ]]; then
		ok "$name"
	else
		not_ok "$name (exit $rc, expected $code; stderr: ${err:0:300})"
	fi
}

# clean_outcome CMD...: exit 0, or exit 1 with one "ovbd: " line. For inputs
# whose damage may be harmless (a flipped uuid byte).
clean_outcome() {
	local rc err
	err=$("$@" 2>&1 >/dev/null); rc=$?
	[ "$rc" -eq 0 ] && return 0
	[ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ $err == ovbd:* ]] && return 0
	echo "# exit $rc: ${err:0:300}"
	return 1
}

# Little-endian writes into a file at a byte offset.
put_bytes() { printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
put_le() {	# FILE OFFSET VALUE NBYTES
	local f=$1 off=$2 v=$3 n=$4 i s=""
	for ((i = 0; i < n; i++)); do s+=$(printf '\\x%02x' $(( (v >> (8 * i)) & 255 ))); done
	put_bytes "$f" "$off" "$s"
}
get_le() {	# FILE OFFSET NBYTES
	od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '
}
flip_bit() {	# FILE BYTE_OFFSET BIT
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	put_le "$1" "$2" $(( b ^ (1 << $3) )) 1
}

# make_raw FILE MIB: a disk image with text, random data, zeros and holes.
make_raw() {
	local f=$1 mib=$2
	truncate -s 0 "$f"; truncate -s "${mib}M" "$f"
	yes "overlaybd test line $(basename "$f")" | head -c 300000 | dd of="$f" conv=notrunc status=none
	head -c 200000 /dev/urandom | dd of="$f" bs=1 seek=400000 conv=notrunc status=none
	if [ "$mib" -ge 2 ]; then
		yes "second megabyte" | head -c 100000 | dd of="$f" bs=1M seek=1 conv=notrunc status=none
	fi
	printf 'END' | dd of="$f" bs=1 seek=$(( mib * 1048576 - 3 )) conv=notrunc status=none
}
