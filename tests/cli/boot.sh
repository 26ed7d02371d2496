#!/bin/bash
# Boot-time mapping (tools/systemd/ovbd-generator reading /etc/ovbdtab, as
# systemd-cryptsetup-generator reads /etc/crypttab) and the udev rules: the
# units the generator writes for a sample table, checked by
# systemd-analyze verify, and its refusals. The QEMU guests have no systemd:
# the mapping itself (ovbd open/close) is what they test.
. "$(dirname "$0")/../lib.sh"
scratch
cd "$T_DIR" || exit 1
GEN=$TOP/tools/systemd/ovbd-generator
mkdir -p store out
cat >tab <<TAB
# NAME  SOURCE                     OPTIONS
web     oci:$T_DIR/store:web
db      $T_DIR/db.json             nofail,direct-io
   # a comment line, then an empty one

base    $T_DIR/layer.tar           ignore-chain
bad/name oci:$T_DIR/store:x
toomany a b c d
odd     relative/path
opt     oci:$T_DIR/store:o         frobnicate
vm      disks:ovbd-l000:ovbd-t000:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:4096:10:4096,ovbd-l001
TAB
OVBD_TAB=$T_DIR/tab OVBD_BIN=$OVBD sh "$GEN" out out out 2>gen.err
check "four units for the four good lines" [ "$(ls out/*.service | wc -l)" = 4 ]
check "vm: disks:SPEC runs ovbd open --disks and needs each layer's and tree's disk by serial" bash -c "
	grep -qx 'ExecStart=$OVBD open vm --disks ovbd-l000:ovbd-t000:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb:4096:10:4096,ovbd-l001' out/ovbd-vm.service &&
	grep -qF 'Requires= dev-disk-by\\x2did-virtio\\x2dovbd\\x2dl000.device dev-disk-by\\x2did-virtio\\x2dovbd\\x2dt000.device dev-disk-by\\x2did-virtio\\x2dovbd\\x2dl001.device' out/ovbd-vm.service"
check "web: ovbd open web oci:..., ovbd close web, required by local-fs.target" bash -c "
	grep -qx 'ExecStart=$OVBD open web oci:$T_DIR/store:web' out/ovbd-web.service &&
	grep -qx 'ExecStop=$OVBD close web' out/ovbd-web.service &&
	[ -L out/local-fs.target.requires/ovbd-web.service ]"
check "db: a config.v1.json, --direct-io, and nofail makes it wanted, not required" bash -c "
	grep -qx 'ExecStart=$OVBD open --direct-io db --config $T_DIR/db.json' out/ovbd-db.service &&
	[ -L out/local-fs.target.wants/ovbd-db.service ] && [ ! -e out/local-fs.target.requires/ovbd-db.service ]"
check "ordered before local-fs.target, after the modules load, with the store's mount" bash -c "
	grep -qx 'Before=local-fs.target umount.target' out/ovbd-web.service &&
	grep -q '^After=modprobe@dm_overlaybd.service' out/ovbd-web.service &&
	grep -qx 'RequiresMountsFor=$T_DIR/store' out/ovbd-web.service &&
	grep -qx 'DefaultDependencies=no' out/ovbd-web.service"
check "each bad line is skipped with a message naming the line" bash -c "
	grep -q 'tab:7: NAME .bad/name.' gen.err && grep -q 'tab:8: expected NAME SOURCE \[OPTIONS\], got 5 fields' gen.err &&
	grep -q 'tab:9: SOURCE .relative/path.' gen.err && grep -q \"tab:10: unknown option 'frobnicate'\" gen.err"
if command -v systemd-analyze >/dev/null; then
	touch db.json layer.tar
	if systemd-analyze verify --man=no out/ovbd-web.service out/ovbd-db.service out/ovbd-base.service out/ovbd-vm.service >verify.log 2>&1 &&
	   [ ! -s verify.log ]; then
		ok "systemd-analyze verify accepts the generated units"
	else
		not_ok "systemd-analyze verify: $(head -3 verify.log)"
	fi
else
	skip "systemd-analyze is not installed"
fi
check "no /etc/ovbdtab: no units, exit 0" bash -c "OVBD_TAB=/nonexistent sh '$GEN' empty && [ -z \"\$(ls empty 2>/dev/null)\" ]" 
mkdir -p empty
check "udev rules: a by-ovbd link for stacks, parts hidden from other rules" bash -c "
	grep -q 'ENV{DM_UUID}==\"OVBD-stack-\*\", SYMLINK+=\"disk/by-ovbd/\$env{DM_NAME}\"' '$TOP/tools/udev/60-ovbd.rules' &&
	grep -q 'ENV{DM_UUID}==\"OVBD-part-\*\".*DM_UDEV_DISABLE_OTHER_RULES_FLAG}=\"1\"' '$TOP/tools/udev/60-ovbd.rules'"
summary
