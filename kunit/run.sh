#!/bin/bash
# KUnit on UML: copy the format core (unchanged) and the suites into
# Debian's linux-source-6.1 tree and run tools/testing/kunit/kunit.py with
# kunit/.kunitconfig (KASAN and UBSAN on). Prints the KTAP summary and
# ends with "N passed, N failed, N skipped".
. "$(dirname "$0")/../tests/lib.sh"
B=$TOP/build/kunit
TARBALL=$(ls /usr/src/linux-source-6.1*.tar.xz 2>/dev/null | head -1)
if [ -z "$TARBALL" ]; then
	not_ok "kunit: /usr/src/linux-source-6.1.tar.xz missing (apt-get install linux-source-6.1)"
	summary; exit 1
fi
mkdir -p "$B"
KSRC=$B/$(basename "$TARBALL" .tar.xz)
[ -f "$KSRC/Makefile" ] || tar -C "$B" -xf "$TARBALL"

# the suites and the format core, as a driver directory of that tree
D=$KSRC/drivers/ovbd_kunit
rm -rf "$D"; mkdir -p "$D/format" "$D/include"
cp "$TOP"/src/format/*.c "$D/format/"
cp -r "$TOP/include/ovbd" "$D/include/"
cp "$TOP/kunit/ovbd_format_test.c" "$TOP/kunit/Kconfig" "$D/"
cp "$TOP/kunit/Kbuild" "$D/Makefile"
"$TOP/kunit/gen-fixtures.sh" "$OVBD" "$D/ovbd_fixtures.h"
grep -q ovbd_kunit "$KSRC/drivers/Kconfig" ||
	sed -i '$ i source "drivers/ovbd_kunit/Kconfig"' "$KSRC/drivers/Kconfig"
grep -q ovbd_kunit "$KSRC/drivers/Makefile" ||
	echo 'obj-$(CONFIG_OVBD_FORMAT_KUNIT_TEST) += ovbd_kunit/' >>"$KSRC/drivers/Makefile"

cd "$KSRC" || exit 1
python3 tools/testing/kunit/kunit.py run --kunitconfig="$TOP/kunit/.kunitconfig" \
	--build_dir=.kunit --jobs="$(nproc)" --timeout=600 >"$B/kunit.log" 2>&1
rc=$?
# kunit.py runs "stty sane" on a standard input that is no terminal here:
# its complaint is kunit.py's, not a test's, and is left in the log only
sed -n '/=====/,$p' "$B/kunit.log" | grep -vE "^\[[0-9:]+\] *\$|^stty: 'standard input'" | tail -40
line=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$B/kunit.log" | tail -1)
if [ -z "$line" ]; then
	tail -20 "$B/kunit.log"
	not_ok "kunit: kunit.py did not complete (exit $rc, log in $B/kunit.log)"
	summary; exit 1
fi
grep -q '^CONFIG_KASAN=y' .kunit/.config && ok "kunit: UML kernel built with KASAN" || not_ok "kunit: KASAN not enabled"
grep -q '^CONFIG_UBSAN=y' .kunit/.config && ok "kunit: UML kernel built with UBSAN" || not_ok "kunit: UBSAN not enabled"
p=$(echo "$line" | grep -oE 'passed: [0-9]+' | grep -oE '[0-9]+')
f=$(echo "$line" | grep -oE 'failed: [0-9]+' | grep -oE '[0-9]+')
s=$(echo "$line" | grep -oE 'skipped: [0-9]+' | grep -oE '[0-9]+')
T_PASS=$((T_PASS + ${p:-0})) T_FAIL=$((T_FAIL + ${f:-0})) T_SKIP=$((T_SKIP + ${s:-0}))
[ "$rc" -eq 0 ] || { [ "${f:-0}" -gt 0 ] || not_ok "kunit: kunit.py exit $rc"; }
summary
