#!/bin/bash
# Containers in userspace (the QEMU guests run them): ovbd convert keeps the
# source image's runtime fields; ovbd runtime-config equals what umoci's
# unpack writes for the ordinary source image in args, env, cwd, uid, gid
# and additional gids, rootless too; users and groups are looked up inside
# the image's root; malformed configs are refused by name.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
for tool in umoci python3 busybox; do
	command -v $tool >/dev/null || { not_ok "$tool is missing (tools/install-deps.sh installs it)"; summary; exit 1; }
done
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q dynamically &&
	{ not_ok "/bin/busybox is not static (busybox-static)"; summary; exit 1; }

python3 "$TOP/tests/convert-image.py" --app --tag app src >/dev/null
SOURCE_DATE_EPOCH=1700000000 ovbd convert --zfile oci:src:app oci:conv:app >/dev/null
check "convert: the app image converts" [ $? -eq 0 ]

# the image config's runtime fields: the converted image's are the source's
config_of() {	# LAYOUT TAG: the config blob's JSON
	python3 - "$1" "$2" <<'EOF'
import json, sys
d, tag = sys.argv[1], sys.argv[2]
idx = json.load(open(d + "/index.json"))
m = [x for x in idx["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag][0]
man = json.load(open(d + "/blobs/sha256/" + m["digest"][7:]))
print(open(d + "/blobs/sha256/" + man["config"]["digest"][7:]).read())
EOF
}
config_of src app >src.config
config_of conv app >conv.config
check "convert keeps Entrypoint, Cmd, Env, WorkingDir, User, Labels, Volumes, ExposedPorts and StopSignal" \
	python3 -c '
import json, sys
a, b = (json.load(open(f))["config"] for f in sys.argv[1:3])
keys = ["Entrypoint", "Cmd", "Env", "WorkingDir", "User", "Labels", "Volumes", "ExposedPorts", "StopSignal"]
bad = [k for k in keys if a.get(k) != b.get(k)]
print("# differ:", bad) if bad else None
sys.exit(1 if bad else 0)' src.config conv.config

# ---- against umoci's unpack of the ordinary source image
fields() {	# CONFIG.JSON: the fields that must agree, one per line
	python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
p = c["process"]
print("args", json.dumps(p["args"]))
print("env", json.dumps(sorted(p["env"])))
print("cwd", p["cwd"])
print("uid", p["user"]["uid"], "gid", p["user"]["gid"], "gids", sorted(p["user"].get("additionalGids") or []))' "$1"
}
if umoci unpack --image src:app ubundle >umoci.log 2>&1; then
	ovbd runtime-config --rootfs ubundle/rootfs oci:conv:app ovbd.json
	fields ubundle/config.json >umoci.fields
	fields ovbd.json >ovbd.fields
	check "runtime-config: args, env, cwd, uid, gid and additional gids equal umoci's ($(tr '\n' ' ' <ovbd.fields | cut -c1-160)...)" \
		diff -u umoci.fields ovbd.fields
	check "runtime-config: the user app resolved to 1000:1000 with group extra (1001)" \
		grep -qx 'uid 1000 gid 1000 gids \[1001\]' ovbd.fields
	check "runtime-config: HOME from the image's passwd, PATH and NAME from its Env" \
		python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["process"]["env"]
sys.exit(0 if {"HOME=/home/app", "PATH=/bin", "NAME=ovbd-app", "GREETING=a b=c", "TERM=xterm"} <= set(e) else 1)' ovbd.json
	check "runtime-config: Volumes as tmpfs mounts, Labels and the image's fields as annotations" \
		python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
m = [x for x in c["mounts"] if x["destination"] == "/data"]
a = c["annotations"]
ok = m and m[0]["type"] == "tmpfs" and a.get("org.example.flavour") == "test" and \
	a.get("org.opencontainers.image.stopSignal") == "SIGTERM" and \
	a.get("org.opencontainers.image.exposedPorts") == "8080/tcp" and a.get("org.opencontainers.image.os") == "linux"
sys.exit(0 if ok else 1)' ovbd.json
	# the same fields from the image's bundle in a registry-less read: numeric users need no rootfs
	umoci unpack --rootless --image src:app rbundle >>umoci.log 2>&1
	ovbd runtime-config --rootless --rootfs rbundle/rootfs oci:conv:app rootless.json
	fields rbundle/config.json >umoci-r.fields
	fields rootless.json >ovbd-r.fields
	check "runtime-config --rootless: args, env, cwd and ids equal umoci's --rootless" diff -u umoci-r.fields ovbd-r.fields
	check "runtime-config --rootless: the namespaces (a user namespace, no network one) and the uid and gid mappings are umoci's" \
		python3 -c '
import json, sys
a, b = (json.load(open(f))["linux"] for f in sys.argv[1:3])
ns = lambda l: sorted(x["type"] for x in l["namespaces"])
maps = lambda l, k: [(x["containerID"], x["hostID"], x["size"]) for x in l.get(k) or []]
ok = ns(a) == ns(b) and "user" in ns(b) and all(maps(a, k) == maps(b, k) for k in ("uidMappings", "gidMappings"))
print("# umoci", ns(a), maps(a, "uidMappings"), "ovbd", ns(b), maps(b, "uidMappings"))
sys.exit(0 if ok else 1)' rbundle/config.json rootless.json
else
	not_ok "umoci unpack of the source image: $(tail -1 umoci.log)"
fi

# ---- users: every form of User, looked up inside the image's root
mkdir -p root/etc root/evil
printf 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' >root/evil/passwd
printf 'root:x:0:\napp:x:1000:\nextra:x:1001:app\nstaff:x:50:\n' >root/etc/group
ln -s /evil/passwd root/etc/passwd	# absolute: inside the root, never the host's
# the config is swapped into a copy of the app layout for each case
one_user() {	# USER: "uid gid gids" that runtime-config gives, or its error
	python3 - "$1" <<'EOF'
import json, sys, hashlib, shutil, os
shutil.rmtree("u", ignore_errors=True)
shutil.copytree("conv", "u")
idx = json.load(open("u/index.json"))
idx["manifests"] = [m for m in idx["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "app"]
md = idx["manifests"][0]["digest"]
man = json.load(open("u/blobs/sha256/" + md[7:]))
cfg = json.load(open("u/blobs/sha256/" + man["config"]["digest"][7:]))
cfg["config"]["User"] = sys.argv[1]
cb = json.dumps(cfg).encode()
cd = "sha256:" + hashlib.sha256(cb).hexdigest()
open("u/blobs/sha256/" + cd[7:], "wb").write(cb)
man["config"].update(digest=cd, size=len(cb))
mb = json.dumps(man).encode()
md = "sha256:" + hashlib.sha256(mb).hexdigest()
open("u/blobs/sha256/" + md[7:], "wb").write(mb)
idx["manifests"][0].update(digest=md, size=len(mb))
json.dump(idx, open("u/index.json", "w"))
EOF
	"$OVBD" runtime-config --rootfs root oci:u:app - 2>&1 | python3 -c '
import json, sys
t = sys.stdin.read()
try:
	u = json.loads(t)["process"]["user"]
	print(u["uid"], u["gid"], u.get("additionalGids", []))
except ValueError:
	print(t.strip())'
}
for c in "app|1000 1000 [1001]" "1000|1000 1000 [1001]" "app:staff|1000 50 []" "app:50|1000 50 []" \
	 "4242|4242 0 []" "4242:77|4242 77 []" "0|0 0 []" "|0 0 []" "root|0 0 []"; do
	u=${c%%|*} want=${c#*|}
	got=$(one_user "$u")
	check "User \"$u\" is $want (the passwd an absolute symlink inside the image's root)" [ "$got" = "$want" ]
done
for u in nobody app:nogroup; do
	got=$(one_user "$u")
	check "User \"$u\" is refused, naming it ($got)" eval '[[ $got == ovbd:*"\"${u##*:}\""* ]]'
done
# without --rootfs: the image's own ext4, read through its layers (no mount)
"$OVBD" runtime-config oci:conv:app noroot.json
fields noroot.json >noroot.fields
check "without --rootfs, the user is looked up in the image's ext4 through its layers (1000:1000, group 1001)" \
	grep -qx 'uid 1000 gid 1000 gids \[1001\]' noroot.fields
one_user nobody >/dev/null
got=$("$OVBD" runtime-config oci:u:app - 2>&1)
check "without --rootfs, a user the image's passwd lacks is refused ($got)" eval '[[ $got == *"no user \"nobody\""* ]]'

# ---- the VM flow's output: what a guest is told, checked by veritysetup alone
ovbd verity add --tag v conv:app >/dev/null
ovbd vm-disks --guest --name g oci:conv:v >spec.txt
ovbd vm-disks --qemu oci:conv:v >qemu.txt
ovbd vm-disks --kata oci:conv:v >kata.txt
IFS=: read -r serial tserial root salt dbs blocks hoff <<<"$(awk '{print $5}' spec.txt)"
blob=$(grep "node-name=$serial," qemu.txt | sed 's/.*file\.filename=//')
tree=$(grep "node-name=$tserial," qemu.txt | sed 's/.*file\.filename=//')
check "vm-disks: the guest's command is ovbd open --disks NAME SPEC, with a disk serial per layer and tree" \
	[ "$(awk '{print $1, $2, $3, $4}' spec.txt)" = "ovbd open --disks g" -a "$serial" = ovbd-l000 -a "$tserial" = ovbd-t000 ]
if command -v veritysetup >/dev/null; then
	check "vm-disks: veritysetup verify --no-superblock accepts the QEMU disks' files with the spec's root hash, salt, block size and count, and hash offset" \
		veritysetup verify --no-superblock --hash-offset "$hoff" --salt "$salt" --data-block-size "$dbs" \
			--data-blocks "$blocks" --hash-block-size 4096 "$blob" "$tree" "$root"
else
	not_ok "veritysetup is missing (tools/install-deps.sh installs cryptsetup-bin)"
fi
check "vm-disks: the spec's root hash is the manifest's (verity show)" \
	sh -c "\"$OVBD\" verity show --json oci:conv:v | grep -q '\"root_hash\": \"$root\"'"
check "vm-disks --kata: io.katacontainers.volume is the base64 of a layer_raw_block KataVirtualVolume with dm_verity" \
	python3 -c '
import base64, json, sys
lines = open(sys.argv[1]).read().split("\n")
v = json.loads(base64.b64decode(lines[1].split("=", 1)[1]))
d = v["dm_verity"]
ok = v["volume_type"] == "layer_raw_block" and d["hash"] == sys.argv[2] and d["blocknum"] == int(sys.argv[3]) and d["offset"] == int(sys.argv[4])
sys.exit(0 if ok else 1)' kata.txt "$root" "$blocks" "$hoff"
expect_error "vm-disks: a serial prefix longer than 15 characters is refused" 2 "$OVBD" vm-disks --prefix abcdefghijklmnop oci:conv:v

# ---- refusals
expect_error "runtime-config: a layout that does not exist" 1 "$OVBD" runtime-config oci:nothere:x out.json
expect_error "runtime-config: a missing argument is a usage error" 2 "$OVBD" runtime-config oci:conv:app
if [ "$(id -u)" != 0 ]; then
	skip "bundle needs root"
else
	expect_error "bundle --remove of a directory that is no bundle" 1 "$OVBD" bundle --remove "$T_DIR/root"
	mkdir -p full; touch full/x
	expect_error "bundle into a directory that is not empty is refused" 1 "$OVBD" bundle oci:conv:app full
fi
summary
