#!/bin/bash
# The three layers of ovbd, from the tree (README "Layout"):
#   src/format, include/ovbd  the format core: pure C, no I/O, no allocation
#   tools/lib                 the library: returns errors, never prints or exits
#   tools/cmd_*.c, ovbd.c ... the commands: parse, call the library, print, exit
# Each layer only includes and calls downwards. These checks read the sources.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1

# the one command-side header set: what the commands share among themselves
CMD_HEADERS='commands\.h|output\.h|report\.h'
# What in the library may call die(): its definition, the allocation
# wrappers on out of memory, and the writers of a command's output file.
DIE_ALLOWED='^tools/lib/(util\.c|zfile_write\.c|lsmt_write\.c|tar_write\.c):'

# stripped: a source without comments and strings, so that prose never counts
code() { gcc -fpreprocessed -dD -E -P "$1" 2>/dev/null | sed -E 's/"([^"\\]|\\.)*"/""/g'; }

bad=$(grep -lE "#include \"($CMD_HEADERS)\"" tools/lib/*.[ch])
check "no library file includes a command-side header (${CMD_HEADERS//\\/}): ${bad:-none}" [ -z "$bad" ]

# die( or exit( called in the library outside the allowed places; _exit in a forked child is no exit
hits=""
for f in tools/lib/*.c; do
	code "$f" | grep -nE '(^|[^_a-z])(die|exit)\(' | sed "s|^|$f:|"
done >"${TMPDIR:-/tmp}/layering.$$"
hits=$(grep -vE "$DIE_ALLOWED" "${TMPDIR:-/tmp}/layering.$$")
check "no library file calls die() or exit() (but allocation and output-file helpers): ${hits:-none}" [ -z "$hits" ]
# and the allowed ones call it only where said: util.c's die() definition, x*alloc, write helpers
n=$(grep -cE '^tools/lib/util\.c:' "${TMPDIR:-/tmp}/layering.$$")
check "lib/util.c: die()/exit() only in die itself, the three allocators and the two write helpers ($n calls)" [ "$n" -le 7 ]
rm -f "${TMPDIR:-/tmp}/layering.$$"

# the library never prints to stdout or stderr: what it says goes through
# its callers (why buffers, xfer_notes); only die() (above) writes stderr
hits=$(for f in tools/lib/*.c; do code "$f" | grep -nE '(^|[^a-z_])(printf|puts|perror)\(|fprintf\((stderr|stdout)' | sed "s|^|$f:|"; done |
	grep -vE '^tools/lib/util\.c:')
check "no library file prints (printf, fprintf to stderr/stdout, puts, perror): ${hits:-none}" [ -z "$hits" ]

# no command file is a library for another: each defines cmd_* entry points and statics only
hits=$(grep -nE '^#include "cmd_' tools/*.c tools/*.h tools/lib/*.[ch])
check "no file includes a command's source: ${hits:-none}" [ -z "$hits" ]
hits=$(for f in tools/cmd_*.c; do
	code "$f" | grep -E '^[a-z][a-z_0-9 ]*[ *]+[a-z_0-9]+\(' | grep -vE '^(static|int cmd_)' | sed "s|^|$f: |"
done)
check "commands export nothing but their cmd_* entry points: ${hits:-none}" [ -z "$hits" ]

# the core: no I/O, no allocation, no library or libc headers beyond what port.h gives
hits=$(grep -nE '#include' src/format/*.c include/ovbd/*.h | grep -vE '#include (<ovbd/[a-z_]+\.h>|"[a-z_]+\.h")' |
	grep -vE '^include/ovbd/port\.h:')
check "the format core includes only its own headers (and port.h's platform ones): ${hits:-none}" [ -z "$hits" ]
hits=$(for f in src/format/*.c; do code "$f" | grep -nE '(^|[^a-z_])(malloc|calloc|realloc|free|kmalloc|kvmalloc|vmalloc|open|read|pread|write|fopen|printf|printk)\(' | sed "s|^|$f:|"; done)
check "the format core does no I/O and no allocation: ${hits:-none}" [ -z "$hits" ]

# the build enforces the first rule: lib/ is on the include path, tools/ is not
check "tools/Makefile: the commands' directory is not on the library's include path" \
	bash -c "grep -q -- '-Ilib' tools/Makefile && ! grep -E '^OVBD_CPPFLAGS' tools/Makefile | grep -qE -- '-I(\\.|\\.\\./tools)( |\$)'"
summary
