// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: inspect, verify and build OverlayBD images; set device stacks up and down. */
#include "commands.h"
#include "regconf.h"
#include "util.h"
#include <getopt.h>

#ifndef OVBD_VERSION
#define OVBD_VERSION "unknown"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;	/* after "ovbd " */
	const char *what;	/* one or two lines */
	const char *options;	/* one "  --opt  meaning" line each, or NULL */
	const char *example;
};

static const struct command commands[] = {
	{ "info", cmd_info, "info [--json] BLOB",
	  "Print the kind (tar, zfile, lsmt), every header and trailer field,\n"
	  "and index statistics.",
	  "  --json            one JSON object instead of text\n",
	  "ovbd info --json layer1.tar" },
	{ "cat", cmd_cat, "cat [-o FILE] [--ignore-chain] LAYER...",
	  "Write the flattened virtual disk of a stack (bottom first), or the\n"
	  "decompressed content of one standalone ZFile. Refuses a terminal as\n"
	  "standard output.",
	  "  -o, --output FILE written whole or not at all (temporary file, then\n"
	  "                    rename); '-' for standard output even on a terminal\n"
	  "  --ignore-chain    accept layers whose parent_uuid is not the uuid of\n"
	  "                    the layer below (see ovbd(8), LAYER CHAIN)\n",
	  "ovbd cat base.tar top.tar -o disk.img" },
	{ "verify", cmd_verify, "verify [--strict] BLOB...",
	  "Check every header digest, index CRC, block CRC and block decode, the\n"
	  "LSMT index, and the sizes that show truncation; say what was checked\n"
	  "(an uncompressed layer's data has no checksums). Exit 1 on the first\n"
	  "corruption in a blob. Warn where upstream overlaybd would refuse what\n"
	  "ovbd reads.",
	  "  --strict          treat those warnings as failures\n",
	  "ovbd verify --strict layer*.tar" },
	{ "zfile", cmd_zfile, "zfile [-d] [--algo lz4|zstd] [--block-size N] [--no-verify] [--tar] [--force] IN OUT",
	  "Compress IN into the ZFile OUT (upstream overlaybd-zfile's layout), or\n"
	  "with -d decompress the ZFile IN into OUT.",
	  "  -d, --decompress  decompress instead\n"
	  "  --algo A          lz4 (default) or zstd\n"
	  "  --block-size N    a power of two from 4096 to 65536 (default 4096);\n"
	  "                    K and M suffixes allowed\n"
	  "  --no-verify       store no CRC32C per block\n"
	  "  --tar             wrap OUT as an OCI layer blob, as upstream does\n"
	  "  --force           replace an existing OUT that is not an OverlayBD blob\n",
	  "ovbd zfile --algo zstd --block-size 16K layer.lsmt layer.zfile" },
	{ "commit", cmd_commit,
	  "commit [--lower BLOB]... [--zfile [--algo A] [--block-size N]] [--tar]\n"
	  "       [--uuid U] [--parent U] [-m MSG] [--force] [--ignore-chain] RAW OUT",
	  "Write a sealed LSMT layer of the 4 KiB blocks of RAW that differ from\n"
	  "the stack of --lower layers (bottom first); blocks that became zeros\n"
	  "are zeroed entries.",
	  "  --lower BLOB      a lower layer, bottom first; repeat for each\n"
	  "  --zfile           compress the layer (as overlaybd-commit -z)\n"
	  "  --algo, --block-size  as for ovbd zfile; only with --zfile\n"
	  "  --tar             wrap it as an OCI layer blob\n"
	  "  --uuid U, --parent U  RFC 4122 uuids (default: random; the top lower\n"
	  "                    layer's uuid, or the nil uuid for a base layer)\n"
	  "  -m, --message MSG the commit message, at most 255 bytes\n"
	  "  --force           replace an existing OUT that is not an OverlayBD blob\n"
	  "  --ignore-chain    accept --lower layers that do not chain\n",
	  "ovbd commit --lower base.tar --zfile --tar disk.img top.tar" },
	{ "table", cmd_table, "table [--ignore-chain] NAME LAYER...",
	  "Print the device-mapper tables that map the stack, one \"name: table\"\n"
	  "per line, in creation order, using the LAYER paths as devices.",
	  "  --ignore-chain    accept layers that do not chain\n",
	  "ovbd table img /dev/loop0 /dev/loop1" },
	{ "open", cmd_open, "open [--ignore-chain] [--direct-io] [--require-verity] NAME LAYER... | open NAME --config config.v1.json | open --lazy [--plain-http] [--timings] NAME REF | open --disks NAME SPEC",
	  "Attach the layers to read-only, autoclearing loop devices (loop ioctls),\n"
	  "create a zfile device per compressed layer and the lsmt device\n"
	  "/dev/mapper/NAME (libdevmapper; returns when the node exists), each with\n"
	  "a DM UUID OVBD-stack-<id>-NAME or OVBD-part-<id>-DEV; on failure roll\n"
	  "back what was created. Needs root and the dm-overlaybd module.",
	  "  --config FILE     overlaybd-tcmu's config.v1.json: lowers[] and resultFile\n"
	  "  --require-verity  refuse an image whose layers lack dm-verity root hashes\n"
	  "                    (default from \"require-verity\" in /etc/ovbd/ovbd.json)\n"
	  "  --direct-io       loop devices read their files with direct I/O\n"
	  "  --lazy            map the registry image REF at once: blobs not in the\n"
	  "                    store are read from the registry (nbdkit, nbd) until a\n"
	  "                    background download hands each over to its file\n"
	  "  --disks           in a VM guest: SPEC (ovbd vm-disks prints it) names each\n"
	  "                    layer's disk, and its verity tree's, by virtio serial\n"
	  "  --timings         with --lazy: print on stderr where the open's time went,\n"
	  "                    phase by phase (manifest, trees, nbdkit, nbd, devices,\n"
	  "                    supervisor) and in total, in seconds\n"
	  "  --ignore-chain    accept layers that do not chain\n",
	  "ovbd open img base.tar top.tar && mount -o ro /dev/mapper/img /mnt" },
	{ "image", cmd_image, "image build [--tag T] [--fs-type ext4|erofs] [--ignore-chain] DIR LAYER...",
	  "Make an OCI image in the image layout DIR (created when absent, shared\n"
	  "by several images) from tar-wrapped layers, bottom first: the blobs, a\n"
	  "config whose diff_ids are their digests with a history entry each, and\n"
	  "a manifest whose layers carry the OverlayBD annotations, tagged T\n"
	  "(default latest) in index.json. Prints DIR:T and the manifest digest.",
	  "  --tag T           the tag in index.json (org.opencontainers.image.ref.name)\n"
	  "  --fs-type F       the blob-fs-type annotation: ext4 (default) or erofs\n"
	  "  --ignore-chain    accept layers that do not chain\n",
	  "ovbd image build --tag v1 ./layout base.tar top.tar && skopeo inspect oci:./layout:v1" },
	{ "pull", cmd_pull, "pull [--plain-http] REF DIR",
	  "Fetch the OverlayBD image REF (host[:port]/repository[:tag|@sha256:...])\n"
	  "into the image layout DIR, following an image index to linux/amd64.\n"
	  "Each blob's sha256 is checked as it streams; blobs already in DIR are\n"
	  "not fetched again, and an interrupted download resumes with Range. The\n"
	  "manifest is stored last and tagged with REF's tag (or digest).",
	  "  --plain-http      HTTP instead of HTTPS (always for localhost and 127.0.0.1)\n",
	  "ovbd pull 127.0.0.1:5000/demo:v1 ./store && ovbd open img oci:./store:v1" },
	{ "push", cmd_push, "push [--plain-http] [oci:]DIR[:TAG] REF",
	  "Upload an image of the layout DIR (TAG, or its only image) to REF: the\n"
	  "blobs the registry lacks (HEAD first, then one upload each), the config,\n"
	  "then the manifest under REF's tag.",
	  "  --plain-http      HTTP instead of HTTPS (always for localhost and 127.0.0.1)\n",
	  "ovbd push ./store:v1 127.0.0.1:5000/demo:v1" },
	{ "convert", cmd_convert,
	  "convert [--zfile [--algo lz4|zstd] [--block-size N]] [--size SIZE] [--tmpdir DIR] [--plain-http] SRC DST",
	  "Convert an ordinary OCI or Docker image (tar, tar+gzip or tar+zstd\n"
	  "layers with overlayfs whiteouts) into an OverlayBD image, rootless: the\n"
	  "layers are applied in order to one ext4 file system with libext2fs, and\n"
	  "each becomes an OverlayBD layer of exactly the blocks it changed. SRC\n"
	  "and DST are oci:DIR[:TAG] or registry references (REF). Each blob and\n"
	  "each uncompressed tar is checked against its digest and diff_id. The\n"
	  "new image keeps the source's config (its rootfs replaced); nothing is\n"
	  "tagged or pushed unless every layer converted.",
	  "  --zfile           compress each layer as a ZFile (CRC32C per block)\n"
	  "  --algo A          ZFile codec: lz4 (default) or zstd\n"
	  "  --block-size N    ZFile block size: 4K (default) to 1M, a power of 2\n"
	  "  --size SIZE       the file system's size: 64G (default), 64M to 4T\n"
	  "  --tmpdir DIR      where the sparse file system image is built (default:\n"
	  "                    DST's directory, else $TMPDIR, else /var/tmp)\n"
	  "  --plain-http      HTTP instead of HTTPS (always for localhost and 127.0.0.1)\n",
	  "ovbd convert --zfile oci:./nginx:latest oci:./obd:latest" },
	{ "rmi", cmd_rmi, "rmi [oci:]DIR:TAG",
	  "Remove the tag TAG from the layout DIR, then the blobs that no image\n"
	  "of DIR references any more.",
	  NULL, "ovbd rmi /var/lib/ovbd:v1" },
	{ "gc", cmd_gc, "gc [[oci:]DIR]",
	  "Remove the blobs of the layout DIR (default: the store, $OVBD_STORE or\n"
	  "/var/lib/ovbd) that no image in its index.json references, and\n"
	  "unfinished downloads.",
	  NULL, "ovbd gc ./store" },
	{ "close", cmd_close, "close NAME",
	  "Remove the devices and loop devices that ovbd open NAME created.",
	  NULL, "ovbd close img" },
	{ "status", cmd_status, "status [--json] NAME",
	  "Show a stack as the kernel has it: the image it was opened from (when\n"
	  "by reference), its loop devices and their files, its private zfile\n"
	  "devices and the status line of each device, and its DM UUID.",
	  "  --json            one JSON object: name, uuid, image, manifest, layers,\n"
	  "                    sectors, segments, reads, remapped, zero_filled,\n"
	  "                    io_errors, devices\n",
	  "ovbd status img" },
	{ "registry-auth", cmd_registry_auth, "registry-auth [--plain-http] REF DIGEST",
	  "Print the Authorization header that reading blob DIGEST of REF's\n"
	  "registry needs (empty when none): nbdkit's header-script for open --lazy.",
	  NULL, "ovbd registry-auth 127.0.0.1:5000/app:v1 sha256:..." },
	{ "verity", cmd_verity,
	  "verity add [--tag NEW] [oci:]DIR[:TAG] | verity show [--json] [oci:]DIR[:TAG] |\n"
	  "       verity tree [--salt HEX] BLOB TREE",
	  "add: put each layer's dm-verity root hash, salt and data block size in\n"
	  "its descriptor's annotations (a new manifest, tagged TAG or NEW) and\n"
	  "store the trees beside it as an artifact whose subject is the manifest;\n"
	  "no layer blob changes. show: each layer's blob, tree, hash offset,\n"
	  "data block size and count, salt and root hash (veritysetup verify BLOB\n"
	  "TREE ROOT --salt SALT ... checks one by hand). tree: write BLOB's tree\n"
	  "to TREE, byte for byte what veritysetup format writes (sha256, hash\n"
	  "type 1, a superblock, 4096-byte hash blocks; 4096-byte data blocks, or\n"
	  "512 when the blob's size is no multiple of 4096).",
	  "  --tag NEW         (add) tag the verified image NEW, keeping TAG as it was\n"
	  "  --json            (show) one JSON object\n"
	  "  --salt HEX        (tree) the salt, 64 hex digits (default: random)\n",
	  "ovbd verity add ./store:v1 && ovbd open --require-verity img oci:./store:v1" },
	{ "runtime-config", cmd_runtime_config,
	  "runtime-config [--rootless] [--rootfs DIR] IMAGE FILE",
	  "Write the OCI runtime config (config.json) of IMAGE ([oci:]DIR[:TAG] or a\n"
	  "registry reference, pulled into the store) to FILE (- for stdout),\n"
	  "as the image-spec converts an image config and umoci's raw runtime-config\n"
	  "writes it: args = Entrypoint + Cmd, the image's Env over PATH and TERM,\n"
	  "HOME from the user's passwd entry, cwd = WorkingDir, the user and its\n"
	  "groups from the image's /etc/passwd and /etc/group, Volumes as tmpfs\n"
	  "mounts, Labels and the image's fields as annotations, on the default\n"
	  "mounts, capabilities, rlimits, masked and read-only paths of runc spec.",
	  "  --rootfs DIR      the image's root file system, where a user given by\n"
	  "                    name is looked up (ovbd bundle passes its rootfs);\n"
	  "                    default: the image's ext4, read through its layers\n"
	  "  --rootless        a user namespace that maps this user to root, as\n"
	  "                    runc spec --rootless makes it\n",
	  "ovbd runtime-config --rootfs /mnt oci:./store:v1 config.json" },
	{ "bundle", cmd_bundle,
	  "bundle [--lazy] [--tmpfs] [--rootless] [--require-verity] [--plain-http] IMAGE DIR |\n"
	  "       bundle --remove DIR",
	  "Make DIR an OCI runtime bundle of IMAGE ([oci:]DIR[:TAG] or a registry\n"
	  "reference) that runc run -b DIR and crun run -b DIR start: the image is\n"
	  "mapped (verified where its manifest carries root hashes) and mounted\n"
	  "read-only, an overlayfs with a writable upper (DIR/upper) is DIR/rootfs,\n"
	  "and DIR/config.json is its runtime config. Bundles of one image share its\n"
	  "devices (ovbd-bundle-<digest>). --remove unmounts and removes what the\n"
	  "bundle made, and the image's devices with the last bundle that uses them;\n"
	  "the store is left alone.",
	  "  --lazy            map the image from the registry at once (open --lazy)\n"
	  "  --tmpfs           the upper on a tmpfs: the container's writes vanish\n"
	  "                    with the bundle\n"
	  "  --rootless        config.json with a user namespace (runtime-config)\n"
	  "  --require-verity  refuse an image without dm-verity root hashes\n"
	  "  --remove          undo the bundle DIR (also one that died half made)\n",
	  "ovbd bundle oci:./store:v1 /run/b1 && runc run -b /run/b1 c1" },
	{ "vm-disks", cmd_vm_disks, "vm-disks [--qemu | --guest | --kata] [--prefix P] [--name NAME] IMAGE",
	  "Hand IMAGE to a VM guest that maps and verifies it itself: print the QEMU\n"
	  "-blockdev/-device arguments that attach each layer blob, and its dm-verity\n"
	  "tree, as a read-only virtio-blk disk whose serial names it (P-lNNN, P-tNNN),\n"
	  "then the guest's ovbd open --disks NAME SPEC (or its /etc/ovbdtab line),\n"
	  "whose SPEC carries the manifest's root hashes: nothing on a disk is trusted.",
	  "  --qemu            only the QEMU arguments, one per line\n"
	  "  --guest           only the guest's ovbd open --disks command\n"
	  "  --kata            each layer as Kata Containers' io.katacontainers.volume\n"
	  "                    (a KataVirtualVolume of type layer_raw_block, dm_verity)\n"
	  "  --prefix P        the disks' serial prefix (default ovbd; up to 15 characters)\n",
	  "qemu-system-x86_64 ... $(ovbd vm-disks --qemu oci:./store:v1)" },
	{ "list", cmd_list, "list [--json] [--prune]",
	  "List every stack that ovbd opened (device-mapper devices whose UUID\n"
	  "starts with OVBD-stack-), from the kernel alone, with its layers and\n"
	  "status counters. A layer blob's parts are shared by every stack that\n"
	  "uses it; status shows which stacks use each.",
	  "  --json            a JSON array of what status --json prints\n"
	  "  --prune           first remove the shared parts that no stack uses\n"
	  "                    (what a killed open or close left)\n",
	  "ovbd list --json" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static char bad_option[160];
static int cmd_argc;

int ovbd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);

	cmd_argc = argc;
	if (c == '?') {
		const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

		if (optopt && strchr(shortopts, optopt) && strchr(shortopts, optopt)[1] == ':')
			snprintf(bad_option, sizeof(bad_option), "option '-%c' needs a value", optopt);
		else if (optopt)
			snprintf(bad_option, sizeof(bad_option), "unknown option '-%c'", optopt);
		else if (!strncmp(arg, "--", 2) && strchr(arg, '='))
			snprintf(bad_option, sizeof(bad_option), "option '%.100s' takes no value or is unknown", arg);
		else
			snprintf(bad_option, sizeof(bad_option), "unknown option '%.100s' (or it needs a value)", arg);
	}
	return c;
}

static void print_indented(FILE *f, const char *text, const char *indent)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(f, "%s%.*s\n", indent, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

void usage_of(const char *cmd, int code)
{
	const struct command *c = NULL;
	char why[200] = "";
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, cmd))
			c = &commands[i];
	if (!c)
		exit(code);
	if (code) {	/* one line: what was wrong, and the synopsis */
		if (bad_option[0])
			snprintf(why, sizeof(why), "%s: %s; ", cmd, bad_option);
		else
			snprintf(why, sizeof(why), "%s: %d argument%s after the options do not fit; ",
				 cmd, cmd_argc - optind, cmd_argc - optind == 1 ? "" : "s");
		fprintf(stderr, "%s: %susage: ovbd %.*s (see ovbd %s --help)\n", ovbd_prog, why,
			(int)strcspn(c->synopsis, "\n"), c->synopsis, cmd);
		exit(code);
	}
	printf("usage: ovbd %s\n\n", c->synopsis);
	print_indented(stdout, c->what, "");
	if (c->options) {
		printf("\noptions:\n");
		print_indented(stdout, c->options, "");
	}
	printf("\nexample:\n  %s\n\nExit status: 0 success, 1 bad input, 2 bad usage. See ovbd(8).\n",
	       c->example);
	exit(0);
}

static void usage(int code)
{
	size_t i;

	if (code) {
		fprintf(stderr, "%s: usage: ovbd [--registries-conf FILE] COMMAND [ARGS] (see ovbd --help)\n", ovbd_prog);
		exit(code);
	}
	printf("usage: ovbd [--registries-conf FILE] COMMAND [ARGS]   (ovbd COMMAND --help for its options)\n\n");
	for (i = 0; i < NCOMMANDS; i++) {
		printf("  ovbd %s\n", commands[i].synopsis);
		print_indented(stdout, commands[i].what, "        ");
	}
	printf("\n  --registries-conf FILE  (before COMMAND) containers-registries.conf(5) for pull,\n"
	       "        push, open, convert, bundle and runtime-config, instead of\n"
	       "        $CONTAINERS_REGISTRIES_CONF or /etc/containers/registries.conf\n");
	printf("\nExit status: 0 success, 1 bad input, 2 bad usage. See ovbd(8).\n");
	exit(code);
}

int main(int argc, char **argv)
{
	size_t i;

	opterr = 0;	/* usage_of() reports bad options in one line */
	if (argc < 2)
		usage(EXIT_USAGE);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		usage(0);
	/* a global option, as skopeo has it: which registries.conf */
	while (!strncmp(argv[1], "--registries-conf", 17)) {
		if (argc < 3 || (!argv[1][17] && argc < 4))
			die(EXIT_USAGE, "--registries-conf FILE goes before a command (ovbd --registries-conf FILE COMMAND ...)");
		if (argv[1][17] == '=') {
			regconf_use(argv[1] + 18);
			argv++, argc--;
		} else if (!argv[1][17] && argc > 3) {
			regconf_use(argv[2]);
			argv += 2, argc -= 2;
		} else {
			usage(EXIT_USAGE);
		}
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ovbd %s\n", OVBD_VERSION);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	die(EXIT_USAGE, "unknown command '%s' (see ovbd --help)", argv[1]);
}
