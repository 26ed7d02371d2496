#!/bin/bash
# containers-registries.conf(5) in pull, push, open's pull and runtime-config,
# with three of Debian's docker-registry on 127.0.0.1 (started here, stopped
# after): a primary, a mirror, and a mirror whose storage serves a tampered
# blob; a port where nothing listens is a mirror that is down. Blocked
# registries, mirrors tried in order with fallback to the primary,
# pull-from-mirror digest-only and tag-only, prefix/location rewriting,
# short names through unqualified-search-registries and aliases (also from
# registries.conf.d), --registries-conf and CONTAINERS_REGISTRIES_CONF,
# and malformed files refused with their line.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
for tool in docker-registry python3 curl; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T_DIR"' EXIT
. "$TOP/tests/registry-lib.sh"
unset CONTAINERS_REGISTRIES_CONF
export OVBD_STORE=$T_DIR/store REG_ACCESSLOG=1

# the image: an app image converted, pushed to the primary and both mirrors
python3 "$TOP/tests/convert-image.py" --app --tag app src >/dev/null
SOURCE_DATE_EPOCH=1700000000 ovbd convert --zfile oci:src:app oci:img:app >/dev/null
start_registry "$T_DIR/primary"; P=$REG_PORT; PIDS+=("$REG_PID")
start_registry "$T_DIR/mirror"; M=$REG_PORT; PIDS+=("$REG_PID")
start_registry "$T_DIR/bad"; B=$REG_PORT; PIDS+=("$REG_PID")
DOWN=$(free_port)	# nothing listens there
for port in $P $M $B; do ovbd push img:app 127.0.0.1:$port/app:v >/dev/null 2>&1; done
MD=$(python3 -c 'import json; print(json.load(open("img/index.json"))["manifests"][0]["digest"])')
LAYER=$(python3 -c '
import json
d = json.load(open("img/index.json"))["manifests"][0]["digest"]
m = json.load(open("img/blobs/sha256/" + d[7:]))
print(m["layers"][0]["digest"])')
data=$(find "$T_DIR/bad" -path "*/blobs/sha256/*/${LAYER#sha256:}/data")
printf 'X' | dd of="$data" bs=1 seek=40000 conv=notrunc status=none	# the bad mirror's layer
check "the fixtures: three registries serve app:v, the bad mirror a tampered layer" \
	[ -n "$data" -a -n "$MD" ]

hits() { grep -c "GET /v2/app/$2" "$T_DIR/$1.log"; }	# REGISTRY WHAT: requests it served
pull_ok() {	# CONF REF: pull REF into a fresh store; the stored layer's sha256 is right
	rm -rf "$OVBD_STORE"
	ovbd --registries-conf "$1" pull "$2" "$OVBD_STORE" >pull.out 2>pull.err &&
		[ "sha256:$(sha256sum "$OVBD_STORE/blobs/sha256/${LAYER#sha256:}" | cut -d' ' -f1)" = "$LAYER" ]
}

# ---- blocked
cat >blocked.conf <<EOF
[[registry]]
location = "127.0.0.1:$P"
blocked = true
EOF
rm -rf "$OVBD_STORE"
expect_error "a blocked registry is refused, naming it and the file" 1 \
	"$OVBD" --registries-conf blocked.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE"
"$OVBD" --registries-conf blocked.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE" 2>&1 | grep -q "is blocked in blocked.conf"
check "the refusal says \"is blocked in blocked.conf\"" [ $? -eq 0 ]
expect_error "push to a blocked registry is refused too" 1 \
	"$OVBD" --registries-conf blocked.conf push img:app 127.0.0.1:$P/app:w

# ---- mirrors: down, then tampered, then the primary
cat >mirrors.conf <<EOF
[[registry]]
location = "127.0.0.1:$P"
[[registry.mirror]]
location = "127.0.0.1:$DOWN"
[[registry.mirror]]
location = "127.0.0.1:$B"
EOF
b0=$(hits bad blobs) p0=$(hits primary blobs)
check "mirrors: one down, one serving a tampered blob: the pull falls back to the primary, and the stored blob is right" \
	pull_ok mirrors.conf 127.0.0.1:$P/app:v
check "mirrors: the tampered mirror was asked for the blob and refused ($(grep -c 'failed, trying' pull.err) fallbacks said)" \
	sh -c "[ $(hits bad blobs) -gt $b0 ] && [ $(hits primary blobs) -gt $p0 ] && grep -q 'failed, trying' pull.err"
check "mirrors: nothing of the tampered blob is left in the store" \
	sh -c "! ls $OVBD_STORE/blobs/sha256/ | grep -v '^[0-9a-f]\{64\}$' | grep -q ."

# ---- a healthy mirror serves it all; digest-only and tag-only
for mode in all digest-only tag-only; do
	cat >m-$mode.conf <<EOF
[[registry]]
location = "127.0.0.1:$P"
[[registry.mirror]]
location = "127.0.0.1:$M"
pull-from-mirror = "$mode"
EOF
done
m0=$(hits mirror manifests) p0=$(hits primary manifests)
pull_ok m-all.conf 127.0.0.1:$P/app:v
check "pull-from-mirror all: by tag from the mirror, the primary untouched" \
	sh -c "[ $(hits mirror manifests) -gt $m0 ] && [ $(hits primary manifests) = $p0 ]"
m0=$(hits mirror manifests) p0=$(hits primary manifests)
pull_ok m-digest-only.conf 127.0.0.1:$P/app:v
check "pull-from-mirror digest-only: by tag, the mirror is not asked" \
	sh -c "[ $(hits mirror manifests) = $m0 ] && [ $(hits primary manifests) -gt $p0 ]"
m0=$(hits mirror manifests) p0=$(hits primary manifests)
pull_ok m-digest-only.conf 127.0.0.1:$P/app@$MD
check "pull-from-mirror digest-only: by digest, the mirror serves it" \
	sh -c "[ $(hits mirror manifests) -gt $m0 ] && [ $(hits primary manifests) = $p0 ]"
m0=$(hits mirror manifests) p0=$(hits primary manifests)
pull_ok m-tag-only.conf 127.0.0.1:$P/app@$MD
check "pull-from-mirror tag-only: by digest, the mirror is not asked" \
	sh -c "[ $(hits mirror manifests) = $m0 ] && [ $(hits primary manifests) -gt $p0 ]"

# ---- prefix and location: a name rewritten, for pull and push
cat >rewrite.conf <<EOF
[[registry]]
prefix = "registry.example.test/team"
location = "127.0.0.1:$P"
EOF
check "prefix/location: registry.example.test/team/app:v is pulled from 127.0.0.1:$P/app:v" \
	pull_ok rewrite.conf registry.example.test/team/app:v
ovbd --registries-conf rewrite.conf push img:app registry.example.test/team/app:w >/dev/null 2>&1
check "prefix/location: push to registry.example.test/team/app:w lands in 127.0.0.1:$P/app:w" \
	curl -sf -o /dev/null -H "Accept: application/vnd.oci.image.manifest.v1+json" http://127.0.0.1:$P/v2/app/manifests/w
check "prefix/location: a prefix matches at a path boundary only (registry.example.test/teamx is not rewritten)" \
	sh -c "! ovbd --registries-conf rewrite.conf pull registry.example.test/teamx/app:v $T_DIR/s2 2>&1 | grep -q 127.0.0.1"

# ---- short names: search registries in order, aliases, drop-ins, nothing matching
mkdir -p conf.d/registries.conf.d
cat >conf.d/registries.conf <<EOF
unqualified-search-registries = ["127.0.0.1:$DOWN", "127.0.0.1:$P"]
EOF
cat >conf.d/registries.conf.d/50-aliases.conf <<EOF
[aliases]
"myapp" = "127.0.0.1:$M/app"
EOF
check "short name app:v through the search list (the first registry down, the second has it)" \
	pull_ok conf.d/registries.conf app:v
m0=$(hits mirror manifests)
check "short name myapp:v through an alias from registries.conf.d" pull_ok conf.d/registries.conf myapp:v
check "the alias's registry served it" [ "$(hits mirror manifests)" -gt "$m0" ]
cat >empty.conf <<EOF
[[registry]]
location = "127.0.0.1:$P"
EOF
expect_error "a short name that matches nothing is refused, naming the file" 1 \
	"$OVBD" --registries-conf empty.conf pull nosuch:v "$OVBD_STORE"
CONTAINERS_REGISTRIES_CONF=conf.d/registries.conf "$OVBD" runtime-config myapp:v rc.json >/dev/null 2>&1
check "CONTAINERS_REGISTRIES_CONF: runtime-config of the short name myapp:v (its config alone)" \
	grep -q '"hello from' rc.json
rm -rf "$OVBD_STORE"
CONTAINERS_REGISTRIES_CONF=conf.d/registries.conf ovbd table t myapp:v >table.out 2>&1
check "a short name where layers go (table, open): pulled through the alias" grep -q "lsmt\|zfile" table.out

# ---- malformed files
printf '[[registry]]\nlocation = \n' >bad1.conf
printf '[[registry]]\nlocation = "x"\ninsecure = "yes"\n' >bad2.conf
printf '[[registry]]\nlocation = "x"\n[[registry.mirror]]\npull-from-mirror = "sometimes"\nlocation = "y"\n' >bad3.conf
expect_error "a file that is no TOML is refused with its line and column" 1 \
	"$OVBD" --registries-conf bad1.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE"
"$OVBD" --registries-conf bad1.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE" 2>&1 | grep -q "bad1.conf:2:"
check "... the message names bad1.conf:2:" [ $? -eq 0 ]
expect_error "insecure = \"yes\" is refused, naming the key" 1 \
	"$OVBD" --registries-conf bad2.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE"
expect_error "pull-from-mirror = \"sometimes\" is refused, naming the value" 1 \
	"$OVBD" --registries-conf bad3.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE"
expect_error "a registries.conf that does not exist is refused" 1 \
	"$OVBD" --registries-conf nothere.conf pull 127.0.0.1:$P/app:v "$OVBD_STORE"
summary
