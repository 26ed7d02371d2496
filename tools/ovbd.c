// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: inspect, verify and build OverlayBD images; set device stacks up and down. */
#include "commands.h"
#include "util.h"
#include <getopt.h>

#ifndef OVBD_VERSION
#define OVBD_VERSION "unknown"
#endif

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "info", cmd_info,
	  "info BLOB [--json]\n"
	  "  Print the kind (tar, zfile, lsmt), every header and trailer field,\n"
	  "  and index statistics.\n" },
	{ "cat", cmd_cat,
	  "cat LAYER... [-o FILE]\n"
	  "  Write the flattened virtual disk of a stack (bottom first), or the\n"
	  "  decompressed content of one standalone ZFile, to FILE or stdout.\n" },
	{ "verify", cmd_verify,
	  "verify [--strict] BLOB...\n"
	  "  Check every header digest, index CRC, block CRC and block decode, and\n"
	  "  the LSMT index, and say what was checked (an uncompressed layer's data\n"
	  "  has no checksums). Exit 1 on the first corruption found in a blob.\n"
	  "  Warn where upstream overlaybd would refuse what ovbd reads; --strict\n"
	  "  makes those warnings failures.\n" },
	{ "zfile", cmd_zfile,
	  "zfile [-d] [--algo lz4|zstd] [--block-size N] [--no-verify] [--tar] IN OUT\n"
	  "  Compress IN into the ZFile OUT (default lz4, 4096-byte blocks, with\n"
	  "  per-block CRC32C), optionally tar-wrapped; with -d, decompress IN.\n" },
	{ "commit", cmd_commit,
	  "commit [--lower BLOB]... [--zfile] [--algo lz4|zstd] [--block-size N]\n"
	  "       [--tar] [--uuid U] [--parent U] [-m MSG] RAW OUT\n"
	  "  Write a sealed LSMT layer of the 4 KiB blocks of RAW that differ from\n"
	  "  the stack of --lower layers (bottom first); zero blocks that differ\n"
	  "  become zeroed entries. --zfile compresses it, --tar wraps it as an OCI blob.\n" },
	{ "table", cmd_table,
	  "table NAME LAYER...\n"
	  "  Print the device-mapper tables that map the stack, one \"name: table\"\n"
	  "  per line, in creation order, using the LAYER paths as devices.\n" },
	{ "open", cmd_open,
	  "open NAME LAYER... | open NAME --config config.v1.json\n"
	  "  Attach the layers to read-only loop devices, create a zfile device per\n"
	  "  compressed layer and the lsmt device /dev/mapper/NAME. On failure,\n"
	  "  roll back what was created. --config reads overlaybd-tcmu's lowers and\n"
	  "  writes \"success\" or the reason to its resultFile. Needs dm-overlaybd.\n" },
	{ "close", cmd_close,
	  "close NAME\n"
	  "  Remove the devices and loop devices that ovbd open NAME created.\n" },
	{ "status", cmd_status,
	  "status NAME\n"
	  "  Show the loop devices and the targets' status lines of a stack.\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void usage_of(const char *cmd, int code)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++) {
		const char *u = commands[i].usage;

		if (strcmp(commands[i].name, cmd))
			continue;
		if (!code)
			printf("usage: ovbd %s", u);
		else	/* one line: the synopsis */
			fprintf(stderr, "%s: usage: ovbd %.*s (see ovbd %s --help)\n",
				ovbd_prog, (int)strcspn(u, "\n"), u, cmd);
	}
	exit(code);
}

static void usage(int code)
{
	FILE *f = stdout;
	size_t i;

	if (code) {
		fprintf(stderr, "%s: usage: ovbd COMMAND [ARGS] (see ovbd --help)\n", ovbd_prog);
		exit(code);
	}
	fprintf(f, "usage: ovbd COMMAND [ARGS]   (ovbd COMMAND --help for details)\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  ovbd %s", commands[i].usage);
	fprintf(f, "\nExit status: 0 success, 1 bad input, 2 bad usage.\n");
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
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ovbd %s\n", OVBD_VERSION);
		return 0;
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	die(EXIT_USAGE, "unknown command '%s' (see ovbd --help)", argv[1]);
}
