#!/bin/bash
# Build and run the userspace unit tests of the format core; SAN=1 for ASan+UBSan.
set -e
TOP=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${SAN:-0}" = 1 ]; then
	flags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all"; build=build-asan
else
	flags="-O2 -g"; build=build
fi
make -s -C "$TOP/tools" BUILD="$build" CFLAGS="$flags" "$build/libovbd.a" >/dev/null
mkdir -p "$TOP/build"
gcc $flags -Wall -Wextra -Wno-unused-parameter -I"$TOP/include" -o "$TOP/build/test_format-$build" \
	"$TOP/tests/unit/test_format.c" "$TOP/tools/$build/libovbd.a" -llz4 -lzstd
exec "$TOP/build/test_format-$build"
