#!/usr/bin/env python3
"""Build ordinary OCI images (layer tars, gzip/zstd/plain) for ovbd convert's tests.

Usage: convert-image.py OUT_LAYOUT [--tag T] [--sparse-mib N] [--bad KIND]

The image is made from files of installed Debian packages, in five layers
that exercise what a converter must get right: deletions, opaque
directories, a file replaced by a directory and the reverse, hard links
within and across layers, a sparse file (2 GiB by default), long names and
deep paths, device nodes, FIFOs, symlinks, owners above 65535, set-id modes
and xattrs (security.capability and user.*). The layout is written with
this script's own code (tarfile, hashlib, json), nothing from ovbd.

--app writes instead a one-layer image that a container runs (ovbd bundle's
tests): a static busybox, an /etc/passwd and /etc/group with a user "app"
(uid 1000, gid 1000, in the supplementary group "extra", 1001), and a
config with an Entrypoint, a Cmd, Env, a WorkingDir, User "app", Labels,
Volumes, ExposedPorts and a StopSignal.

--bad KIND instead writes a one-layer (or two-layer) image that a converter
must refuse: truncated-gzip, corrupt-zstd, dotdot, absolute, missing-link,
missing-whiteout, too-big, encrypted, diffid.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

MT = "application/vnd.oci.image.layer.v1.tar"
MTIME = 1700000000


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Layer:
    def __init__(self, codec="gzip"):
        self.buf = tempfile.TemporaryFile()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)
        self.codec = codec

    def add(self, name, kind="file", data=b"", mode=0o644, uid=0, gid=0, link="",
            xattrs=None, dev=(0, 0), stream=None, size=None):
        ti = tarfile.TarInfo(name)
        ti.mtime = MTIME
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.uname = ti.gname = ""
        ti.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                   "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE,
                   "fifo": tarfile.FIFOTYPE}[kind]
        ti.linkname = link
        if kind in ("chr", "blk"):
            ti.devmajor, ti.devminor = dev
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: v.decode("utf-8", "surrogateescape")
                              for k, v in xattrs.items()}
        if kind == "file":
            if stream is not None:
                ti.size = size
                self.tar.addfile(ti, stream)
            else:
                ti.size = len(data)
                self.tar.addfile(ti, io.BytesIO(data))
        else:
            self.tar.addfile(ti)

    def finish(self, codec=None):
        """(diff_id, a file of the blob, mediaType), streamed through temporary files."""
        if not self.tar.closed:
            self.tar.close()
        codec = codec or self.codec
        h = hashlib.sha256()
        self.buf.seek(0)
        out = tempfile.TemporaryFile()
        if codec == "zstd":
            z = subprocess.Popen(["zstd", "-q", "-3", "-c"], stdin=subprocess.PIPE, stdout=out)
            sink = z.stdin
        elif codec == "gzip":
            sink = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0)
        else:
            sink = out
        while True:
            b = self.buf.read(1 << 20)
            if not b:
                break
            h.update(b)
            sink.write(b)
        if codec == "zstd":
            z.stdin.close()
            z.wait()
        elif codec == "gzip":
            sink.close()
        out.seek(0)
        mt = MT + {"gzip": "+gzip", "zstd": "+zstd"}.get(codec, "")
        return "sha256:" + h.hexdigest(), out, mt


class Sparse(io.RawIOBase):
    """size bytes: zeros except a few data blocks, read in 1 MiB pieces."""

    def __init__(self, size, blocks):
        self.size, self.pos, self.blocks = size, 0, blocks

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.size - self.pos, 1 << 20)
        if n <= 0:
            return 0
        b[:n] = bytes(n)
        for off, data in self.blocks:
            lo, hi = max(off, self.pos), min(off + len(data), self.pos + n)
            if lo < hi:
                b[lo - self.pos:hi - self.pos] = data[lo - off:hi - off]
        self.pos += n
        return n


def package_files(limit_bytes):
    """Regular files of installed Debian packages, by path, up to limit_bytes."""
    picked, total = [], 0
    for pkg in ("coreutils", "bash", "grep", "sed", "tar", "gzip", "libc-bin", "util-linux"):
        try:
            out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True).stdout
        except OSError:
            continue
        for p in out.split("\n"):
            if not p.startswith("/usr/") or not os.path.isfile(p) or os.path.islink(p):
                continue
            sz = os.path.getsize(p)
            if total + sz > limit_bytes:
                return picked
            picked.append(p)
            total += sz
    return picked


def parents(layer, path, made):
    parts = path.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d not in made:
            made.add(d)
            layer.add(d, "dir", mode=0o755)


CAP = bytes.fromhex("0000000220000000000000000000000000000000")  # v2: cap_net_bind_service


def standard_layers(sparse_mib):
    layers = []
    long_name = "L" * 255
    deep = "/".join(["d%03d" % i + "x" * 96 for i in range(40)])  # about 4000 bytes

    # 1 (gzip): files of Debian packages, and one of everything
    l1, made = Layer("gzip"), set()
    for p in package_files(24 << 20):
        rel = p.lstrip("/")
        parents(l1, rel, made)
        with open(p, "rb") as f:
            data = f.read()
        l1.add(rel, data=data, mode=0o755 if os.access(p, os.X_OK) else 0o644)
    for d in ("etc", "etc/conf.d", "etc/conf.d/sub", "srv", "srv/tree", "srv/tree/a", "dev",
              "var", "var/run", "home", "home/user", "x", "opt", "opt/keep"):
        if d not in made:
            made.add(d)
            l1.add(d, "dir", mode=0o755)
    l1.add("home/user", "dir", mode=0o700, uid=1000, gid=1000)
    for i in range(6):
        l1.add("etc/conf.d/c%d.conf" % i, data=b"setting=%d\n" % i)
    l1.add("etc/conf.d/sub/deep.conf", data=b"deep\n")
    l1.add("srv/tree/a/f1", data=os.urandom(9000))
    l1.add("srv/tree/a/f2", data=b"two\n")
    l1.add("srv/file-becomes-dir", data=b"I am a file\n")
    l1.add("srv/dir-becomes-file", "dir")
    l1.add("srv/dir-becomes-file/child", data=b"child\n")
    l1.add("srv/hl-original", data=b"shared by hard links\n" * 100, mode=0o640, uid=33, gid=33)
    l1.add("srv/hl-same-layer", "hardlink", link="srv/hl-original")
    l1.add("usr/bin/capped", data=b"\x7fELF pretend\n", mode=0o755,
           xattrs={"security.capability": CAP})
    l1.add("srv/with-xattrs", data=b"x\n", xattrs={"user.comment": b"hello",
                                                   "user.binary": bytes(range(0, 256, 7))})
    l1.add("srv/setuid", data=b"suid\n", mode=0o4755)
    l1.add("srv/setgid-dir", "dir", mode=0o2775, gid=50)
    l1.add("srv/sticky", "dir", mode=0o1777)
    l1.add("srv/big-ids", data=b"ids\n", uid=70000, gid=4000000)
    l1.add("srv/link-rel", "symlink", link="tree/a/f2")
    l1.add("srv/link-abs", "symlink", link="/etc/conf.d/c1.conf")
    l1.add("srv/link-dangling", "symlink", link="../nowhere")
    l1.add("srv/link-long", "symlink", link="t/" * 1000 + "end")  # not a fast symlink
    l1.add("dev/null", "chr", mode=0o666, dev=(1, 3))
    l1.add("dev/sda", "blk", mode=0o660, gid=6, dev=(8, 0))
    l1.add("dev/big", "chr", mode=0o600, dev=(300, 70000))  # the new encoding
    l1.add("var/run/fifo", "fifo", mode=0o644)
    l1.add("srv/" + long_name, data=b"a 255-byte name\n")
    parents(l1, deep + "/leaf", made)
    l1.add(deep + "/leaf", data=b"at the end of a 4000-byte path\n")
    l1.add("srv/empty", data=b"")
    layers.append(l1)

    # 2 (zstd): deletions, replacements, a hard link across layers
    l2 = Layer("zstd")
    l2.add("etc/conf.d/.wh.c0.conf")                      # a file deleted
    l2.add("srv/tree/.wh.a")                             # a directory deleted, with its files
    l2.add("srv/file-becomes-dir", "dir", mode=0o750)
    l2.add("srv/file-becomes-dir/inside", data=b"now a directory\n")
    l2.add("srv/dir-becomes-file", data=b"now a file\n")
    l2.add("srv/hl-across-layers", "hardlink", link="srv/hl-original")
    l2.add("etc/conf.d/c1.conf", data=b"setting=changed\n")
    l2.add("usr/bin/.wh.capped")
    layers.append(l2)

    # 3 (gzip): an opaque directory, a sparse file
    l3 = Layer("gzip")
    l3.add("etc/conf.d", "dir", mode=0o755)
    l3.add("etc/conf.d/.wh..wh..opq")
    l3.add("etc/conf.d/only.conf", data=b"only this one\n")
    size = sparse_mib << 20
    blocks = [(0, b"head" * 1024), (size // 2 + 12345, os.urandom(70000)), (size - 4096, b"tail" * 1024)]
    l3.add("srv/sparse.img", stream=Sparse(size, blocks), size=size)
    layers.append(l3)

    # 4 (plain tar): metadata changes, a removed link of a pair, a symlink turned file
    l4 = Layer("none")
    l4.add("home/user", "dir", mode=0o750, uid=1001, gid=1001)
    l4.add("srv/with-xattrs", data=b"x\n", xattrs={"user.comment": b"changed"})
    l4.add("srv/.wh.hl-same-layer")
    l4.add("srv/link-rel", data=b"a file where a symlink was\n")
    l4.add("srv/capped-again", data=b"cap\n", mode=0o700, xattrs={"security.capability": CAP})
    layers.append(l4)

    # 5 (gzip): a directory of 3000 entries, deep under the opaque one
    l5 = Layer("gzip")
    l5.add("srv/many", "dir")
    for i in range(3000):
        l5.add("srv/many/entry-%05d-%s" % (i, "n" * (i % 50)), data=b"%d\n" % i)
    layers.append(l5)
    return layers


APP_SCRIPT = ('echo "hello from $NAME"; echo "cwd=$(pwd)"; echo "ids=$(id -u):$(id -g):$(id -G)"; '
              'env | sort; echo written >/srv/app/note; cat /srv/app/note; exit 7')
APP_CONFIG = {"Entrypoint": ["/bin/sh", "-c"], "Cmd": [APP_SCRIPT],
              "Env": ["PATH=/bin", "NAME=ovbd-app", "GREETING=a b=c"], "WorkingDir": "/srv/app",
              "User": "app", "Labels": {"org.example.flavour": "test", "maintainer": "dm-overlaybd"},
              "Volumes": {"/data": {}}, "ExposedPorts": {"8080/tcp": {}}, "StopSignal": "SIGTERM"}


def app_layers():
    """One layer: a static busybox with its applets, passwd and group, the working directory."""
    l = Layer("gzip")
    for d in ("bin", "etc", "srv", "srv/app", "data", "tmp", "home", "home/app", "proc", "sys", "dev"):
        l.add(d, "dir", mode=0o1777 if d == "tmp" else 0o755,
              uid=1000 if d in ("srv/app", "home/app") else 0, gid=1000 if d in ("srv/app", "home/app") else 0)
    with open("/bin/busybox", "rb") as f:
        l.add("bin/busybox", data=f.read(), mode=0o755)
    for a in ("sh", "echo", "id", "env", "sort", "pwd", "cat", "ls", "sleep", "true"):
        l.add("bin/" + a, "symlink", link="busybox", mode=0o777)
    l.add("etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
    l.add("etc/group", data=b"root:x:0:\napp:x:1000:\nextra:x:1001:app\n")
    return [l]


def bad_layers(kind):
    l = Layer("gzip")
    l.add("etc", "dir")
    l.add("etc/ok", data=b"ok\n")
    if kind == "dotdot":
        l.add("etc/../../escape", data=b"out\n")
    elif kind == "absolute":
        l.add("/etc/abs", data=b"abs\n")
    elif kind == "missing-link":
        l.add("etc/link", "hardlink", link="etc/not-there")
    elif kind == "missing-whiteout":
        l.add("etc/.wh.not-there")
    elif kind == "too-big":
        l.add("big", stream=Sparse(96 << 20, [(i << 12, os.urandom(4096)) for i in range(0, 96 << 8, 1)]),
              size=96 << 20)
    return [l]


def write_layout(out, tag, layers, bad=None, codec=None, fields=None):
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

    def put(b):
        d = sha(b)
        with open(os.path.join(out, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(b)
        return d

    def put_file(f):
        h, tmp = hashlib.sha256(), os.path.join(out, "blobs", "sha256", "tmp")
        n = 0
        with open(tmp, "wb") as o:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
                o.write(b)
                n += len(b)
        os.rename(tmp, os.path.join(out, "blobs", "sha256", h.hexdigest()))
        return "sha256:" + h.hexdigest(), n

    descs, diff_ids = [], []
    for i, l in enumerate(layers):
        diff_id, f, mt = l.finish("zstd" if bad == "corrupt-zstd" else codec)
        blob = f.read()
        if bad == "truncated-gzip":
            blob = blob[: len(blob) * 2 // 3]
        elif bad == "corrupt-zstd":
            blob = blob[:40] + bytes(b ^ 0x5A for b in blob[40:80]) + blob[80:]
        elif bad == "encrypted":
            mt = MT + "+gzip+encrypted"
        if bad == "diffid":
            diff_id = sha(diff_id.encode())
        diff_ids.append(diff_id)
        if bad:
            descs.append({"mediaType": mt, "digest": put(blob), "size": len(blob)})
        else:
            f.seek(0)
            d, n = put_file(f)
            descs.append({"mediaType": mt, "digest": d, "size": n})
    config = {"created": "2023-11-14T22:13:20Z", "architecture": "amd64", "os": "linux",
              "config": fields or {"Env": ["PATH=/usr/bin"], "Cmd": ["/usr/bin/true"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": "layer %d" % i} for i in range(len(layers))]}
    cb = json.dumps(config, sort_keys=True).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": put(cb), "size": len(cb)}, "layers": descs}
    mb = json.dumps(manifest, sort_keys=True).encode()
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(mb),
         "size": len(mb), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tag", default="src")
    ap.add_argument("--sparse-mib", type=int, default=2048)
    ap.add_argument("--bad")
    ap.add_argument("--app", action="store_true", help="a one-layer image that a container runs")
    ap.add_argument("--gzip-copy", help="also write the same image with every layer gzip-compressed "
                    "(the same tars and diff_ids) for readers without zstd, such as umoci 0.4")
    a = ap.parse_args()
    if a.app:
        write_layout(a.out, a.tag, app_layers(), fields=APP_CONFIG)
        return 0
    if a.bad:
        layers = bad_layers(a.bad)
    else:
        layers = standard_layers(a.sparse_mib)
    write_layout(a.out, a.tag, layers, a.bad)
    if a.gzip_copy:
        write_layout(a.gzip_copy, a.tag, layers, a.bad, "gzip")


if __name__ == "__main__":
    sys.exit(main())
