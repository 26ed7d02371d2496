#!/bin/bash
# The format core's tar reader, which the kernel and ovbd both use to find a
# layer's payload, against libarchive's (issue 40): a corpus of wrappers made
# by GNU tar, bsdtar, Python's tarfile and busybox tar around real ZFile and
# LSMT payloads (tests/tar/mkcorpus.sh), and damaged copies of each, are read
# by both (tests/tar/tardiff.c); any file that one reads and the other
# refuses, or that they read differently, fails the suite and is named.
# Depth: 30 damaged copies of each wrapper (FULL=1: 200; QUICK=1: 5).
. "$(dirname "$0")/../lib.sh"
scratch
for tool in bsdtar busybox python3 tar; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
if [ -n "${FULL:-}" ]; then MUT=200; elif [ -n "${QUICK:-}" ]; then MUT=5; else MUT=30; fi
cc -O1 -g -Wall -I"$TOP/include" -o "$T_DIR/tardiff" "$TOP/tests/tar/tardiff.c" \
	"$TOP/src/format/tar.c" "$TOP/tools/lib/port.c" -larchive ||
	{ not_ok "tardiff builds (libarchive-dev)"; summary; exit 1; }
OVBD=$OVBD "$TOP/tests/tar/mkcorpus.sh" "$T_DIR/corpus" "$MUT" >/dev/null 2>"$T_DIR/mk.err" ||
	{ not_ok "corpus: $(tail -3 "$T_DIR/mk.err")"; summary; exit 1; }
cd "$T_DIR/corpus" || exit 1
writers=$(ls | grep -v '^mut-' | wc -l)
check "the corpus: $writers wrappers from GNU tar, bsdtar, Python's tarfile, busybox tar and ovbd" [ "$writers" -ge 80 ]
for w in gnutar-gnu gnutar-ustar gnutar-pax gnutar-oldgnu bsdtar-pax bsdtar-gnutar busybox python-gnu-long python-pax-dir python-pax-global python-pax-path; do
	check "the corpus holds $w wrappers" sh -c "ls | grep -q '^$w'"
done
"$T_DIR/tardiff" * >"$T_DIR/diff.out"
read_all=$(ls | grep -v '^mut-' | while read -r f; do grep -q "^agree read $f:" "$T_DIR/diff.out" || echo "$f"; done)
check "every writer's wrapper: the core and libarchive both read it and pick the same member: ${read_all:-all}" [ -z "$read_all" ]
differ=$(grep '^DIFFER' "$T_DIR/diff.out" | head -20)
counts=$(awk '{print $2}' "$T_DIR/diff.out" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
check "$(ls | wc -l) wrappers and damaged copies: both read them alike or both refuse them (${counts%, }): ${differ:-no difference}" [ -z "$differ" ]
# the same payloads through ovbd (blob.c over the core): each writer's wrapper gives the layer
bad=""
for f in $(ls | grep -v '^mut-'); do
	"$OVBD" cat "$f" -o "$T_DIR/out" 2>/dev/null && cmp -s "$T_DIR/out" "$T_DIR/corpus.raw" || bad="$bad $f"
done
check "ovbd cat of every writer's wrapper reads the payload's content:${bad:- all}" [ -z "$bad" ]
summary
