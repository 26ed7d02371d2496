#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A read-only registry for the tests of the Bearer token flow, on 127.0.0.1.

Serves the manifests and blobs of an OCI image layout under /v2/REPO/, each
request needing "Authorization: Bearer <token>"; without it, a 401 with
WWW-Authenticate: Bearer realm=".../token",service="ovbd-test",scope="...".
/token hands out the token for HTTP Basic USER:PASSWORD, and answers 401
otherwise. Prints its port, then serves until killed or for 120 s.

  bearer-registry.py LAYOUT_DIR REPO USER PASSWORD

The tag "huge" answers a 5 MiB manifest and "notjson" a manifest that is
no JSON. With SLOW=1 in the environment, blobs trickle out in 16 KiB
pieces every 0.1 s, so that a test can interrupt a download. With ROTATE=1,
serving a manifest invalidates the token, so that the blob requests after
it meet a 401 and must fetch a new one.
"""
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAYOUT, REPO, USER, PASSWORD = sys.argv[1:5]
def new_token():
    return "ovbd-test-token-" + base64.b16encode(os.urandom(8)).decode()


TOKEN = new_token()


def tags():
    index = json.load(open(os.path.join(LAYOUT, "index.json")))
    return {m["annotations"]["org.opencontainers.image.ref.name"]: m
            for m in index["manifests"] if "annotations" in m}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        global TOKEN
        port = self.server.server_address[1]
        if self.path.startswith("/token"):
            want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, b'{"errors": [{"code": "UNAUTHORIZED"}]}')
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            challenge = (f'Bearer realm="http://127.0.0.1:{port}/token",'
                         f'service="ovbd-test",scope="repository:{REPO}:pull"')
            return self.send(401, b'{"errors": [{"code": "UNAUTHORIZED"}]}',
                             extra={"WWW-Authenticate": challenge})
        prefix = f"/v2/{REPO}/"
        if not self.path.startswith(prefix):
            return self.send(404)
        kind, _, ref = self.path[len(prefix):].partition("/")
        if kind == "manifests" and ref == "huge":
            return self.send(200, b"{" + b" " * (5 << 20) + b"}")
        if kind == "manifests" and ref == "notjson":
            return self.send(200, b"this is not JSON")
        if kind == "manifests" and os.environ.get("ROTATE") == "1":
            old, TOKEN = TOKEN, new_token()    # the next request needs a new token
            entry = tags().get(ref)
            digest = entry["digest"] if entry else ref
            path = os.path.join(LAYOUT, "blobs", "sha256", digest.partition(":")[2])
            return self.send(200, open(path, "rb").read(), "application/vnd.oci.image.manifest.v1+json",
                             {"Docker-Content-Digest": digest})
        if kind == "manifests":
            entry = tags().get(ref)
            digest = entry["digest"] if entry else ref
            ctype = "application/vnd.oci.image.manifest.v1+json"
        elif kind == "blobs":
            digest, ctype = ref, "application/octet-stream"
        else:
            return self.send(404)
        path = os.path.join(LAYOUT, "blobs", "sha256", digest.partition(":")[2])
        if not digest.startswith("sha256:") or not os.path.isfile(path):
            return self.send(404)
        data = open(path, "rb").read()
        rng = self.headers.get("Range", "")
        if kind == "blobs" and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Length", str(len(data) - start))
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            self.wfile.write(data[start:])
            return None
        if kind == "blobs" and os.environ.get("SLOW") == "1":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(0, len(data), 16384):
                self.wfile.write(data[i:i + 16384])
                self.wfile.flush()
                time.sleep(0.1)
            return None
        return self.send(200, data, ctype, {"Docker-Content-Digest": digest})

    do_HEAD = do_GET


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(120, server.shutdown).start()
server.serve_forever()
