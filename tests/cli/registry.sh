#!/bin/bash
# ovbd push and pull against Debian's docker-registry (the CNCF distribution
# registry), started here on 127.0.0.1 with a random port and a temporary
# store, first with no authentication, then with htpasswd Basic auth, and
# stopped at the end. skopeo checks what ovbd pushed.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
for tool in docker-registry htpasswd skopeo python3; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; umount "$T_DIR/tiny" 2>/dev/null; rm -rf "$T_DIR"' EXIT

# expect_fail NAME CODE CMD...: exit CODE, and stderr ends in one "ovbd: " line
# (pull writes a progress line per blob before it)
# fails_once CODE CMD...: the same test, silent; FAIL_WHY says what went wrong
fails_once() {
	local code=$1 rc err last; shift
	err=$("$@" 2>&1 >/dev/null); rc=$?
	last=$(printf '%s\n' "$err" | tail -n 1)
	FAIL_WHY="exit $rc, expected $code; stderr: ${err:0:400}"
	[ "$rc" -eq "$code" ] && [[ $last == ovbd:* ]] &&
	   ! printf '%s\n' "$err" | grep -v -e '^ovbd: .*: present$' -e '^ovbd: .* fetched, sha256 checked$' \
		-e '^ovbd: .* uploaded$' -e '^ovbd: .* already in the registry$' | head -n -1 | grep -q .
}
expect_fail() {
	local name=$1; shift
	if fails_once "$@"; then ok "$name"; else not_ok "$name ($FAIL_WHY)"; fi
}
. "$TOP/tests/registry-lib.sh"
registry() {	# NAME [HTPASSWD]: a registry storing in $T_DIR/NAME; sets PORT_<NAME>
	start_registry "$T_DIR/$1" "${2:-}"
	PIDS+=($REG_PID)
	printf -v "PORT_$1" %s "$REG_PORT"
}

make_raw raw 4
ovbd commit --zfile --tar -m base raw L1
cp raw r2; printf 'two' | dd of=r2 bs=1 seek=1000000 conv=notrunc status=none
ovbd commit --lower L1 --tar -m two r2 L2
cp r2 r3; printf 'three' | dd of=r3 bs=1 seek=3000000 conv=notrunc status=none
ovbd commit --lower L1 --lower L2 --zfile --algo zstd --tar -m three r3 L3
ovbd image build --tag one store L1 >/dev/null
ovbd image build --tag three store L1 L2 L3 >/dev/null
lowers=(L1) prev=raw
for i in $(seq 2 20); do
	cp $prev r$i.x; printf "layer $i" | dd of=r$i.x bs=1 seek=$((i * 150000)) conv=notrunc status=none
	ovbd commit "${lowers[@]/#/--lower=}" --tar r$i.x M$i; lowers+=(M$i); prev=r$i.x
done
ovbd image build --tag twenty store "${lowers[@]}" >/dev/null

registry open
R=127.0.0.1:$PORT_open
for t in one three twenty; do
	check "push: a ${t}-layer image to $R/demo:$t" ovbd push store:$t $R/demo:$t
done
check "push: skopeo inspects what ovbd pushed" \
	bash -c "skopeo inspect --tls-verify=false docker://$R/demo:three | grep -q '\"Architecture\": \"amd64\"'"
check "push again: every blob is already there, nothing uploaded" \
	bash -c "'$OVBD' push store:three $R/demo:three 2>&1 | grep -c 'already in the registry' | grep -qx 4"
for t in one three twenty; do
	check "pull: the ${t}-layer image into a new store, every blob's sha256 checked" ovbd pull $R/demo:$t pulled
done
check "pull: the pulled stack is the disk (3 layers)" bash -c "'$OVBD' cat oci:pulled:three -o a && cmp -s a r3"
check "pull: the pulled stack is the disk (20 layers)" bash -c "'$OVBD' cat oci:pulled:twenty -o b && cmp -s b r20.x"
check "pull: the shared base layer is stored once (3 + 19 layers, 3 configs, 3 manifests)" \
	[ "$(ls pulled/blobs/sha256 | wc -l)" = $((3 + 19 + 3 + 3)) ]
check "pull again: nothing fetched" \
	bash -c "! '$OVBD' pull $R/demo:three pulled 2>&1 | grep -q fetched"
mdig=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://$R/demo:one)
check "pull by digest" bash -c "'$OVBD' pull $R/demo@$mdig bydigest && '$OVBD' cat oci:bydigest:$mdig -o c && cmp -s c raw"
check "pull on a terminal: one progress line, ending at the image's size" \
	bash -c "script -qec '$OVBD pull $R/demo:twenty ttypulled' /dev/null | tr '\\r' '\\n' | grep -qE 'pulling $R/demo:twenty: [0-9.]+ / [0-9.]+ MB\$' &&
		 ! script -qec '$OVBD pull $R/demo:one ttypulled2' /dev/null | grep -q 'bytes fetched'"

# by reference: pulled into the store ($OVBD_STORE) on the way
check "cat REF: pulls into the store, then reads the stack" \
	bash -c "OVBD_STORE=$T_DIR/defstore '$OVBD' cat $R/demo:three -o e 2>/dev/null && cmp -s e r3 && [ -f defstore/index.json ]"
check "table NAME REF: from the store, nothing fetched the second time" \
	bash -c "OVBD_STORE=$T_DIR/defstore '$OVBD' table img $R/demo:three 2>&1 | grep -v fetched | grep -q 'defstore/blobs/sha256'"
ovbd pull $R/demo:one s2 2>/dev/null >/dev/null; ovbd pull $R/demo:three s2 2>/dev/null >/dev/null
: >s2/blobs/sha256/stray; : >s2/blobs/sha256/0000.partial
check "rmi s2:three: its own blobs go, the base layer that one shares stays" \
	bash -c "'$OVBD' rmi s2:three | grep -q 'removed 6 unreferenced blobs' && [ \$(ls s2/blobs/sha256 | wc -l) = 3 ] && '$OVBD' cat oci:s2:one -o f && cmp -s f raw"
check "gc: nothing unreferenced left, nothing removed" bash -c "'$OVBD' gc s2 | grep -q 'removed 0 unreferenced blobs (0 bytes), kept 3'"
expect_error "rmi: an unknown tag" 1 ovbd rmi s2:three
expect_error "rmi: no tag named" 2 ovbd rmi s2

# an interrupted download resumes: half of layer 2 of 3 is already there
l2=$(sha256sum L2 | cut -c1-64); mkdir -p resumed/blobs/sha256
head -c $(( $(stat -c %s L2) / 2 )) L2 >resumed/blobs/sha256/$l2.partial
echo '{"imageLayoutVersion":"1.0.0"}' >resumed/oci-layout
check "pull: an interrupted download resumes with Range (fetches the rest only)" \
	bash -c "'$OVBD' pull $R/demo:three resumed 2>&1 | grep -q 'layer 1 .*: $(( $(stat -c %s L2) - $(stat -c %s L2) / 2 )) bytes fetched' && cmp -s resumed/blobs/sha256/$l2 L2"

# what a hostile or broken registry gives: one line, nothing half-stored
expect_fail "pull: an unknown tag (404)" 1 ovbd pull $R/demo:nope x1
expect_fail "pull: an unknown repository (404)" 1 ovbd pull $R/nothing:v1 x1
check "pull: ...and says so" bash -c "'$OVBD' pull $R/demo:nope x1 2>&1 | grep -q 'HTTP 404: no such repository, tag or manifest'"
expect_fail "pull: a registry that is down" 1 ovbd pull 127.0.0.1:$(free_port)/demo:one x2
expect_error "pull: a malformed reference" 2 ovbd pull 'Not A Ref' x2
# a blob tampered with in the registry's own storage
cp -r open open.bak
data=$(find open -path "*/blobs/sha256/*/$l2/data")
printf 'X' | dd of="$data" bs=1 seek=2000 conv=notrunc status=none
expect_fail "pull: a blob whose bytes do not match its digest" 1 ovbd pull $R/demo:three tampered
check "pull: ...leaves no blob and no partial file of it in the store" \
	bash -c "[ ! -e tampered/blobs/sha256/$l2 ] && [ ! -e tampered/blobs/sha256/$l2.partial ]"
check "pull: ...and tags nothing" bash -c "! grep -q three tampered/index.json 2>/dev/null"
cp "open.bak/${data#open/}" "$data"
# an OverlayBD image that skopeo gzipped in transit (dropping the annotations)
skopeo copy -q oci:store:three docker://$R/gz:three --dest-tls-verify=false --dest-compress
check "pull: layers recompressed in transit are checked against the diff_ids and stored decompressed" \
	bash -c "'$OVBD' pull $R/gz:three gzpulled 2>&1 | grep -c 'recompressed in transit, stored decompressed' | grep -qx 3"
check "pull: ...the stack reads right, and the stored manifest names the uncompressed blobs" \
	bash -c "'$OVBD' cat oci:gzpulled:three -o h && cmp -s h r3 && ! ls gzpulled/blobs/sha256 | grep -q partial &&
		 '$OVBD' verify --strict gzpulled/blobs/sha256/$(sha256sum L2 | cut -c1-64) >/dev/null"
# an ordinary gzip image: not OverlayBD once decompressed
mkdir -p plainimg/blobs/sha256
python3 - plainimg <<'PY'
import hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(os.path.join(d, 'blobs', 'sha256', h), 'wb').write(b)
    return 'sha256:' + h, len(b)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = b'an ordinary file\n' * 100
    ti = tarfile.TarInfo('etc/ordinary'); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
layer, lsize = put(buf.getvalue())
cfg, csize = put(json.dumps({'architecture': 'amd64', 'os': 'linux',
                             'rootfs': {'type': 'layers', 'diff_ids': [layer]}}).encode())
man, msize = put(json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
    'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': cfg, 'size': csize},
    'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': layer, 'size': lsize}]}).encode())
open(os.path.join(d, 'oci-layout'), 'w').write('{"imageLayoutVersion":"1.0.0"}')
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json',
    'digest': man, 'size': msize, 'annotations': {'org.opencontainers.image.ref.name': 'v1'}}]},
    open(os.path.join(d, 'index.json'), 'w'))
PY
skopeo copy -q oci:plainimg:v1 docker://$R/plain:v1 --dest-tls-verify=false --dest-compress
expect_fail "pull: an ordinary gzip image is refused once decompressed" 1 ovbd pull $R/plain:v1 x3
check "pull: ...saying so, and storing nothing of the layer" \
	bash -c "'$OVBD' pull $R/plain:v1 x3 2>&1 | grep -q 'an ordinary image layer' && [ \$(ls x3/blobs/sha256 | wc -l) = 1 ]"
skopeo copy -q --preserve-digests oci:plainimg:v1 docker://$R/plaintar:v1 --dest-tls-verify=false
expect_fail "pull: an ordinary uncompressed image is refused before any download" 1 ovbd pull $R/plaintar:v1 x8
check "pull: ...naming the missing annotation" bash -c "'$OVBD' pull $R/plaintar:v1 x8 2>&1 | grep -q 'has no containerd.io/snapshot/overlaybd/blob-digest annotation'"
# a full disk: a 64 KiB tmpfs (root only; unmounted at exit)
if [ "$(id -u)" = 0 ] && mkdir -p tiny && mount -t tmpfs -o size=64k tmpfs tiny; then
	expect_fail "pull: a full disk fails, once, with one line" 1 ovbd pull $R/demo:three tiny/store
	check "pull: ...naming the reason" bash -c "'$OVBD' pull $R/demo:three tiny/store2 2>&1 | grep -q 'No space left on device'"
	check "pull: ...and every blob it stored matches its name" \
		bash -c "cd tiny/store/blobs/sha256 && for f in *; do case \$f in *.partial|.*) continue;; esac; [ \"\$(sha256sum <\$f | cut -c1-64)\" = \$f ] || exit 1; done"
	umount tiny
	# twenty layers, four download threads failing at once: one message and
	# one exit each time (a failing thread used to exit the process under
	# the others: ASan's SEGV in OpenSSL's exit handlers, then a hang)
	bad=""
	for n in $(seq 1 30); do
		mkdir -p tiny && mount -t tmpfs -o size=64k tmpfs tiny || { bad="mount"; break; }
		fails_once 1 timeout 60 "$OVBD" pull $R/demo:twenty tiny/store || bad="pull $n: $FAIL_WHY"
		umount tiny
		[ -z "$bad" ] || break
	done
	check "pull: 30 pulls of 20 layers into a full disk each fail once, with one line${bad:+ ($bad)}" [ -z "$bad" ]
else
	skip "pull into a full disk: needs root to mount a small tmpfs"
fi

# a long stall: a server that accepts and never answers
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(4); print(s.getsockname()[1], flush=True)
conns = []
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try: conns.append(s.accept()[0])
    except OSError: pass
' >stall.port &
PIDS+=($!); sleep 0.5
start=$(date +%s)
expect_fail "pull: a registry that stalls fails after the timeout, no hang" 1 \
	env OVBD_REGISTRY_TIMEOUT=3 "$OVBD" pull 127.0.0.1:$(cat stall.port)/demo:one x4
check "pull: ...within the timeout and a little ($(( $(date +%s) - start )) s)" [ $(( $(date +%s) - start )) -lt 20 ]

# htpasswd Basic auth; credentials from the files docker, podman and skopeo write
htpasswd -Bbn ovbduser 'pw-s3cret' >htpasswd 2>/dev/null
registry auth "$T_DIR/htpasswd"
A=127.0.0.1:$PORT_auth
expect_fail "auth: no stored credentials: refused, and said why" 1 ovbd push store:one $A/demo:one
printf '{"auths": {"%s": {"auth": "%s"}}}' "$A" "$(printf 'ovbduser:wrong' | base64)" >bad-auth.json
expect_fail "auth: wrong credentials (REGISTRY_AUTH_FILE)" 1 env REGISTRY_AUTH_FILE=bad-auth.json "$OVBD" push store:one $A/demo:one
mkdir -p dockercfg
printf '{"auths": {"%s": {"auth": "%s"}}}' "$A" "$(printf 'ovbduser:pw-s3cret' | base64)" >dockercfg/config.json
check "auth: push with \$DOCKER_CONFIG/config.json credentials" env DOCKER_CONFIG=dockercfg "$OVBD" push store:three $A/demo:three
mkdir -p xdg/containers; cp dockercfg/config.json xdg/containers/auth.json
check "auth: pull with \${XDG_RUNTIME_DIR}/containers/auth.json credentials" \
	bash -c "XDG_RUNTIME_DIR=$T_DIR/xdg '$OVBD' pull $A/demo:three authpulled && '$OVBD' cat oci:authpulled:three -o d && cmp -s d r3"
check "auth: no credential is ever printed" \
	bash -c "! { env REGISTRY_AUTH_FILE=bad-auth.json '$OVBD' push store:one $A/demo:one; DOCKER_CONFIG=dockercfg '$OVBD' pull -v $A/demo:three x5; } 2>&1 | grep -qE 'pw-s3cret|$(printf 'ovbduser:pw-s3cret' | base64)|$(printf 'ovbduser:wrong' | base64)'"

# the Bearer token flow, against tests/bearer-registry.py (a layout behind a token)
python3 "$TOP/tests/bearer-registry.py" store demo tokuser 'tok-s3cret' >bearer.port &
PIDS+=($!)
for _ in $(seq 50); do [ -s bearer.port ] && break; sleep 0.1; done
B=127.0.0.1:$(cat bearer.port)
printf '{"auths": {"%s": {"auth": "%s"}}}' "$B" "$(printf 'tokuser:tok-s3cret' | base64)" >tok-auth.json
printf '{"auths": {"%s": {"auth": "%s"}}}' "$B" "$(printf 'tokuser:nope' | base64)" >tok-bad.json
check "bearer: pull fetches a token with the stored credentials, then the image" \
	bash -c "REGISTRY_AUTH_FILE=tok-auth.json '$OVBD' pull $B/demo:three bearerpulled 2>/dev/null && '$OVBD' cat oci:bearerpulled:three -o g && cmp -s g r3"
expect_fail "bearer: no credentials: the token service refuses" 1 ovbd pull $B/demo:three x6
expect_fail "bearer: wrong credentials: the token service refuses" 1 env REGISTRY_AUTH_FILE=tok-bad.json "$OVBD" pull $B/demo:three x7
expect_fail "pull: a manifest far too large (5 MiB)" 1 env REGISTRY_AUTH_FILE=tok-auth.json "$OVBD" pull $B/demo:huge x9
check "pull: ...says so" bash -c "REGISTRY_AUTH_FILE=tok-auth.json '$OVBD' pull $B/demo:huge x9 2>&1 | grep -q 'larger than 4194304 bytes'"
expect_fail "pull: a manifest that is not JSON" 1 env REGISTRY_AUTH_FILE=tok-auth.json "$OVBD" pull $B/demo:notjson x9
# a download interrupted by SIGINT resumes on the next pull
SLOW=1 python3 "$TOP/tests/bearer-registry.py" store demo tokuser 'tok-s3cret' >slow.port &
PIDS+=($!)
for _ in $(seq 50); do [ -s slow.port ] && break; sleep 0.1; done
S=127.0.0.1:$(cat slow.port)
printf '{"auths": {"%s": {"auth": "%s"}}}' "$S" "$(printf 'tokuser:tok-s3cret' | base64)" >slow-auth.json
# SIGINT once the layer's partial file has bytes (a script's background jobs
# ignore SIGINT, so a small launcher restores it); the blob trickles at 160 KB/s
l1=$(sha256sum L1 | cut -c1-64)
REGISTRY_AUTH_FILE=slow-auth.json python3 - "interrupted/blobs/sha256/$l1.partial" "$OVBD" pull $S/demo:one interrupted <<'PY'
import os, signal, subprocess, sys, time
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
end = time.time() + 20
while time.time() < end and p.poll() is None:
    if os.path.exists(sys.argv[1]) and os.path.getsize(sys.argv[1]) > 0:
        break
    time.sleep(0.02)
p.send_signal(signal.SIGINT)
p.wait()
PY
check "pull: SIGINT leaves a partial download, no blob and no tag" \
	bash -c "[ -s interrupted/blobs/sha256/$l1.partial ] && [ ! -e interrupted/blobs/sha256/$l1 ] && ! grep -q one interrupted/index.json 2>/dev/null"
check "pull: the next pull resumes it (Range) and completes the image" \
	bash -c "REGISTRY_AUTH_FILE=slow-auth.json '$OVBD' pull $S/demo:one interrupted 2>/dev/null >/dev/null &&
		 [ \$(sha256sum <interrupted/blobs/sha256/$l1 | cut -c1-64) = $l1 ] && '$OVBD' cat oci:interrupted:one -o k && cmp -s k raw"
# a token that expires mid-pull, while a partial download waits to resume
ROTATE=1 python3 "$TOP/tests/bearer-registry.py" store demo tokuser 'tok-s3cret' >rot.port &
PIDS+=($!)
for _ in $(seq 50); do [ -s rot.port ] && break; sleep 0.1; done
T=127.0.0.1:$(cat rot.port)
printf '{"auths": {"%s": {"auth": "%s"}}}' "$T" "$(printf 'tokuser:tok-s3cret' | base64)" >rot-auth.json
l2=$(sha256sum L2 | cut -c1-64); mkdir -p rotated/blobs/sha256
head -c 5000 L2 >rotated/blobs/sha256/$l2.partial
echo '{"imageLayoutVersion":"1.0.0"}' >rotated/oci-layout
check "bearer: a token that expires mid-pull is renewed; the resumed blob stays intact" \
	bash -c "REGISTRY_AUTH_FILE=rot-auth.json '$OVBD' pull $T/demo:three rotated 2>/dev/null >/dev/null &&
		 cmp -s rotated/blobs/sha256/$l2 L2 && '$OVBD' cat oci:rotated:three -o m && cmp -s m r3"
check "bearer: ...and says so, printing no credential" \
	bash -c "REGISTRY_AUTH_FILE=tok-bad.json '$OVBD' pull $B/demo:three x7 2>&1 | grep 'wrong or missing credentials' | grep -qv 'nope'"
# chunked uploads: a PATCH per chunk, then the closing PUT; the access log counts them
REG_ACCESSLOG=1 registry chunked
C=127.0.0.1:$PORT_chunked
check "push --chunk-size 16K: every blob uploaded in chunks" ovbd push --chunk-size 16K store:three $C/demo:three
check "... as PATCH requests (the largest layer alone needs more than 10)" \
	bash -c "[ \$(grep -c 'PATCH /v2/demo/blobs/uploads/' '$T_DIR/chunked.log') -gt 10 ]"
check "... and pulled back, the image is byte for byte the same" \
	bash -c "'$OVBD' pull $C/demo:three chunkpulled >/dev/null 2>&1 && '$OVBD' cat oci:chunkpulled:three -o ch && cmp -s ch r3"
expect_error "--chunk-size below 4K" 2 ovbd push --chunk-size 100 store:three $C/demo:x
summary
