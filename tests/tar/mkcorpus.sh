#!/bin/bash
# Make the tar wrapper corpus of the differential test (tests/cli/tardiff.sh)
# and of its QEMU twin: real ZFile and LSMT payloads wrapped by GNU tar,
# bsdtar (libarchive's writer), Python's tarfile and busybox tar, in each
# one's formats (ustar, GNU, PAX, ...), with what writers put in front of a
# payload: PAX 'x' and 'g' headers (size= and path= records, one or
# several, and a PAX header that describes a directory), GNU long names
# ('L'/'K'), directories and other zero-length entries. Nothing binary is
# committed: this script makes it all.
# Usage: mkcorpus.sh OUTDIR [MUTANTS]  (MUTANTS damaged copies of each, default 0)
set -eu
OUT=$1 MUTANTS=${2:-0}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OVBD=${OVBD:-$TOP/tools/build/ovbd}
rm -rf "$OUT"; mkdir -p "$OUT"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# the payloads: a ZFile and an LSMT layer, as a layer blob carries them
head -c 300000 /dev/urandom >"$work/raw"; yes payload | head -c 200000 >>"$work/raw"
truncate -s 1M "$work/raw"
"$OVBD" zfile "$work/raw" "$work/zfile" >/dev/null
"$OVBD" commit "$work/raw" "$work/lsmt" >/dev/null
long=dir-with-a-long-name-$(printf 'x%.0s' $(seq 1 60))/and-another-long-component-$(printf 'y%.0s' $(seq 1 30))

for p in zfile lsmt; do
	d=$work/$p.d; rm -rf "$d"; mkdir -p "$d/sub" "$d/$long"
	cp "$work/$p" "$d/overlaybd.commit"; cp "$work/$p" "$d/$long/overlaybd.commit"
	: >"$d/sub/empty"
	# GNU tar, each format; plain, after a directory, with a long name
	for f in gnu oldgnu ustar pax posix v7; do
		tar --format=$f -cf "$OUT/gnutar-$f-$p.tar" -C "$d" overlaybd.commit 2>/dev/null ||
			rm -f "$OUT/gnutar-$f-$p.tar"
		tar --format=$f -cf "$OUT/gnutar-$f-dir-$p.tar" -C "$d" sub overlaybd.commit 2>/dev/null ||
			rm -f "$OUT/gnutar-$f-dir-$p.tar"
		# (v7 has no room for a long name: GNU tar refuses, and there is no such file)
		tar --format=$f -cf "$OUT/gnutar-$f-long-$p.tar" -C "$d" "$long/overlaybd.commit" 2>/dev/null ||
			rm -f "$OUT/gnutar-$f-long-$p.tar"
	done
	# bsdtar (libarchive's writer)
	for f in ustar pax gnutar paxr; do
		bsdtar --format $f -cf "$OUT/bsdtar-$f-$p.tar" -C "$d" overlaybd.commit 2>/dev/null || true
		bsdtar --format $f -cf "$OUT/bsdtar-$f-dir-$p.tar" -C "$d" sub overlaybd.commit 2>/dev/null || true
		bsdtar --format $f -cf "$OUT/bsdtar-$f-long-$p.tar" -C "$d" "$long/overlaybd.commit" 2>/dev/null || true
	done
	# busybox tar
	busybox tar -cf "$OUT/busybox-$p.tar" -C "$d" overlaybd.commit 2>/dev/null || true
	busybox tar -cf "$OUT/busybox-dir-$p.tar" -C "$d" sub overlaybd.commit 2>/dev/null || true
	# ovbd's own wrapper, as upstream's overlaybd-commit --tar writes it
	"$OVBD" zfile --tar "$work/raw" "$OUT/ovbd-zfile-tar.tar" >/dev/null
	# Python's tarfile: every format and what writers put in front
	python3 - "$d" "$OUT" "$p" "$long" <<'PY'
import io, sys, tarfile
d, out, p, long = sys.argv[1:5]
payload = open(d + "/overlaybd.commit", "rb").read()

def info(name, size=0, kind=tarfile.REGTYPE, pax=None):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.mode, t.mtime = kind, size, 0o644, 1700000000
    if pax:
        t.pax_headers = pax
    return t

def write(name, fmt, entries, global_pax=None):
    kw = {"format": fmt}
    if global_pax:
        kw["pax_headers"] = global_pax
    with tarfile.open(out + "/python-" + name + "-" + p + ".tar", "w", **kw) as t:
        for e, data in entries:
            t.addfile(e, io.BytesIO(data) if data is not None else None)

P = payload
for fmt, fname in ((tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "gnu"),
                   (tarfile.PAX_FORMAT, "pax")):
    write(fname, fmt, [(info("overlaybd.commit", len(P)), P)])
    write(fname + "-dir", fmt, [(info("layer", kind=tarfile.DIRTYPE), None),
                                (info("layer/overlaybd.commit", len(P)), P)])
    write(fname + "-empty", fmt, [(info("layer", kind=tarfile.DIRTYPE), None),
                                  (info("link", kind=tarfile.SYMTYPE), None),
                                  (info("overlaybd.commit", len(P)), P)])
for fmt, fname in ((tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")):
    write(fname + "-long", fmt, [(info(long + "/overlaybd.commit", len(P)), P)])
    lnk = info("l", kind=tarfile.SYMTYPE)
    lnk.linkname = long + "/target-of-a-long-link"
    write(fname + "-longlink", fmt, [(lnk, None), (info("overlaybd.commit", len(P)), P)])
# PAX: several records, a size= record, a path= record, a PAX header that
# describes a directory rather than the payload, and a global ('g') header
write("pax-records", tarfile.PAX_FORMAT,
      [(info("overlaybd.commit", len(P), pax={"comment": "one", "ovbd.test": "two",
                                               "mtime": "1700000000.5"}), P)])
write("pax-path", tarfile.PAX_FORMAT, [(info("x", len(P), pax={"path": "overlaybd.commit"}), P)])
write("pax-dir", tarfile.PAX_FORMAT,
      [(info("layer", kind=tarfile.DIRTYPE, pax={"comment": "a PAX record of the directory",
                                                  "size": "0"}), None),
       (info("layer/overlaybd.commit", len(P)), P)])
write("pax-global", tarfile.PAX_FORMAT, [(info("overlaybd.commit", len(P)), P)],
      global_pax={"comment": "a global header", "ovbd.test": "g"})
PY
done
find "$OUT" -size 0 -delete	# what a writer could not make (GNU tar's v7 and a long name)
cp "$work/raw" "$OUT.raw"	# what every payload holds: ovbd cat of each wrapper gives it
# Damaged copies: a byte changed in the headers before the payload, or the file cut
if [ "$MUTANTS" -gt 0 ]; then
	python3 - "$OUT" "$MUTANTS" <<'PY'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(2026)
for name in sorted(os.listdir(out)):
    if name.startswith("mut-"):
        continue
    blob = open(os.path.join(out, name), "rb").read()
    head = min(len(blob), 3072)
    for k in range(n):
        b = bytearray(blob)
        if k % 5 == 4:
            b = b[:rng.randrange(1, len(b))]
        else:
            b[rng.randrange(head)] = rng.randrange(256)
        open(os.path.join(out, "mut-%s-%d" % (name, k)), "wb").write(b)
PY
fi
ls "$OUT" | wc -l
