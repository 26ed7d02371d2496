#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hostile and unusual LSMT layers, written from ../shared/FORMAT.md, for the
CLI and QEMU suites. Independent of ovbd's writers on purpose.

  craft.py bomb OUT PAD         3 valid entries after PAD padding entries
  craft.py wrap OUT             virtual_size 0 and an entry [2^50 - 2, +16383)
  craft.py tagged OUT           entries tagged 1, 2, 3 as overlaybd-merge writes
                                them; OUT.sha256 is the sha256 of its content
  craft.py many OUT N           N one-sector entries (data and zeroed) on one sector
  craft.py paxdir OUT BLOB      a tar: a PAX header for a directory, the
                                directory, then BLOB as the first regular file
  craft.py zeroed0 OUT          a zeroed entry with moffset 0 (upstream refuses)
  craft.py clip OUT             virtual_size 20 sectors: an entry across the end
                                and one wholly past it; OUT.sha256 and OUT.size
                                are the clipped content's
  craft.py shrink OUT           a merged layer of a stack that shrank (24 MiB,
                                then 40 MiB + 1000 B, then 20 MiB + 300 B), as
                                overlaybd-merge writes it: the lower layers'
                                entries past the new end kept, tagged with
                                their source layer; OUT.sha256, OUT.size
  craft.py odd OUT              virtual_size 16 sectors + 300 B: an entry across
                                the partial last sector and one wholly past it

  Each clipped layer also gets OUT.dev: the bytes a device of 512-byte
  sectors maps (virtual_size rounded down to a sector) and their sha256.
"""
import hashlib
import io
import struct
import sys
import tarfile

MAGIC0 = b"LSMT\0\1\2\0"
MAGIC1 = bytes([0x65, 0x7E, 0x63, 0xD2, 0x94, 0x44, 0x08, 0x4C,
                0xA2, 0xD2, 0xC8, 0xEC, 0x4F, 0xCF, 0xAE, 0x8A])
INVALID = (1 << 50) - 1
PAD_ENTRY = struct.pack("<QQ", INVALID, 0)


def header(flags, index_offset, index_size, vsize):
    h = bytearray(4096)
    h[0:8] = MAGIC0
    h[8:24] = MAGIC1
    struct.pack_into("<IIQQQ", h, 24, 390, flags, index_offset, index_size, vsize)
    h[56:56 + 36] = b"0A7D1E6F-9A38-4C2E-8E2B-2F0C6B1D0001"
    h[93:93 + 36] = b"00000000-0000-0000-0000-000000000000"
    h[132] = 1
    h[133] = 1
    return bytes(h)


def entry(off, length, moff, zeroed=False, tag=0):
    return struct.pack("<QQ", off | length << 50,
                       moff | int(zeroed) << 55 | tag << 56)


def layer(path, entries, data, vsize, pad_before=0):
    """Write a sealed layer: header, data (whole sectors), index, trailer."""
    assert len(data) % 512 == 0
    index_offset = 4096 + len(data)
    index_offset += -index_offset % 4096
    count = pad_before + len(entries)
    count += -count % 256
    with open(path, "wb") as f:
        f.write(header(7, 0, 0, vsize))
        f.write(data)
        f.write(b"\0" * (index_offset - 4096 - len(data)))
        chunk = PAD_ENTRY * 65536
        left = pad_before
        while left:
            n = min(left, 65536)
            f.write(chunk[:16 * n])
            left -= n
        for e in entries:
            f.write(e)
        f.write(PAD_ENTRY * (count - pad_before - len(entries)))
        f.write(header(6, index_offset, count, vsize))


def sector(text):
    return text.encode().ljust(512, b".")


def clipped(out, ents, data, vsize):
    """Write the layer, and the sha256 and size of its first vsize bytes,
    computed here from the entries (the reference a reader must match)."""
    layer(out, [entry(*e) for e in ents], data, vsize)
    content = bytearray(vsize)
    for off, length, moff, *rest in ents:
        zeroed = rest[0] if rest else False     # rest[1], the tag, means nothing to a reader
        for s in range(length):
            at = (off + s) * 512
            if at >= vsize:
                break
            piece = bytes(512) if zeroed else data[(moff - 8 + s) * 512:(moff - 7 + s) * 512]
            content[at:at + 512] = piece[:vsize - at]
    with open(out + ".sha256", "w") as f:
        f.write(hashlib.sha256(content).hexdigest() + "\n")
    with open(out + ".size", "w") as f:
        f.write("%d\n" % vsize)
    dev = vsize // 512 * 512
    with open(out + ".dev", "w") as f:
        f.write("%d %s\n" % (dev, hashlib.sha256(content[:dev]).hexdigest()))


def main():
    cmd, out = sys.argv[1], sys.argv[2]
    if cmd == "bomb":
        data = sector("bomb data 0") + sector("bomb data 1")
        layer(out, [entry(0, 1, 8), entry(1, 1, 9), entry(100, 50, 10, True)],
              data, 1 << 20, pad_before=int(sys.argv[3]))
    elif cmd == "wrap":
        data = sector("low") * 8
        layer(out, [entry(1000, 8, 8), entry(INVALID - 2, 16383, 8)], data, 0)
    elif cmd == "tagged":
        data = b"".join(sector("tagged sector %d" % i) for i in range(16))
        ents = [entry(0, 4, 8, tag=1), entry(4, 4, 16, tag=2),
                entry(8, 4, 0, True, tag=3), entry(12, 4, 12, tag=255)]
        vsize = 64 * 512
        layer(out, ents, data, vsize)
        content = bytearray(vsize)
        for s in range(4):
            content[s * 512:(s + 1) * 512] = data[s * 512:(s + 1) * 512]
            content[(4 + s) * 512:(5 + s) * 512] = data[(8 + s) * 512:(9 + s) * 512]
            content[(12 + s) * 512:(13 + s) * 512] = data[(4 + s) * 512:(5 + s) * 512]
        with open(out + ".sha256", "w") as f:
            f.write(hashlib.sha256(content).hexdigest() + "\n")
    elif cmd == "many":
        n = int(sys.argv[3])
        ents = [entry(2 * i, 1, 8, zeroed=bool(i % 2)) for i in range(n)]
        layer(out, ents, sector("many"), 2 * n * 512 + 4096)
    elif cmd == "clip":
        data = b"".join(sector("clip sector %d" % i) for i in range(24))
        clipped(out, [(0, 8, 8), (16, 8, 16), (30, 4, 24)], data, 20 * 512)
    elif cmd == "shrink":
        mib = 2048     # sectors
        data = b"".join(sector("shrink sector %d" % i) for i in range(40))
        ents = [(0, 8, 8, False, 1),                      # the base's first sectors
                (20 * mib - 4, 8, 24, False, 2),          # across the new end
                (20 * mib + 8, 4, 32, True, 2),           # zeroed, wholly past
                (24 * mib - 8, 8, 16, False, 1),          # the base's end (24 MiB)
                (40 * mib - 2, 4, 36, False, 2)]          # the middle layer's end (40 MiB + 1000 B)
        clipped(out, ents, data, 20 * mib * 512 + 300)
    elif cmd == "odd":
        data = b"".join(sector("odd sector %d" % i) for i in range(20))
        clipped(out, [(0, 8, 8), (12, 8, 16), (30, 4, 24)], data, 16 * 512 + 300)
    elif cmd == "zeroed0":
        layer(out, [entry(0, 8, 8), entry(8, 8, 0, True)], sector("z") * 8, 1 << 20)
    elif cmd == "paxdir":
        blob = open(sys.argv[3], "rb").read()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            d = tarfile.TarInfo("layer")
            d.type = tarfile.DIRTYPE
            d.mode = 0o755
            d.pax_headers = {"comment": "a PAX record of the directory",
                             "size": "0"}
            t.addfile(d)
            fi = tarfile.TarInfo("layer/overlaybd.commit")
            fi.size = len(blob)
            t.addfile(fi, io.BytesIO(blob))
        open(out, "wb").write(buf.getvalue())
    else:
        sys.exit("craft.py: unknown kind " + cmd)


if __name__ == "__main__":
    main()
