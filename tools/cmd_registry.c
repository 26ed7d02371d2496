// SPDX-License-Identifier: GPL-2.0-only
/*
 * ovbd pull, ovbd push and ovbd registry-auth: the commands over the
 * library's transfers (lib/pull.c), which say what they do through
 * cli_notes (cli.c).
 */
#include "commands.h"
#include "oci.h"
#include "pull.h"
#include "registry.h"
#include "util.h"
#include <getopt.h>

static int pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plain-http", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	char out[4200], digest[OCI_DIGEST_LEN + 1];
	bool plain = false;
	int opt;

	while ((opt = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (opt == 'P')
			plain = true;
		else
			usage_of("pull", opt == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind != 2)
		usage_of("pull", EXIT_USAGE);
	cli_pull(argv[optind], argv[optind + 1], plain, false, out, sizeof(out), digest);
	printf("%s %s\n", out, digest);
	return 0;
}

static int push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plain-http", no_argument, NULL, 'P' },
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	char why[1024], pushed[1200];
	bool plain = false;
	int r;
	u64 chunk = 0;
	int opt;

	while ((opt = ovbd_getopt(argc, argv, "h", opts)) != -1) {
		if (opt == 'P')
			plain = true;
		else if (opt == 'c') {
			if (!parse_size(optarg, &chunk) || chunk < 4096 || chunk > (1ull << 32))
				die(EXIT_USAGE, "--chunk-size: expected 4K..4G, got '%s'", optarg);
		} else
			usage_of("push", opt == 'h' ? 0 : EXIT_USAGE);
	}
	if (argc - optind != 2)
		usage_of("push", EXIT_USAGE);
	r = ovbd_push(argv[optind], argv[optind + 1], plain, chunk, &cli_notes, pushed, sizeof(pushed),
		      why, sizeof(why));
	if (r)
		die(EXIT_OF(r), "%s", why);
	printf("%s\n", pushed);
	return 0;
}

int cmd_pull(int argc, char **argv)
{
	return pull(argc, argv);
}

int cmd_push(int argc, char **argv)
{
	return push(argc, argv);
}

/* ovbd registry-auth [--plain-http] REF DIGEST: nbdkit's header-script. */
int cmd_registry_auth(int argc, char **argv)
{
	char why[600], hdr[8192];
	struct reg_client c;
	struct reg_ref ref;
	bool plain = argc > 1 && !strcmp(argv[1], "--plain-http");

	if (argc != 3 + plain)
		die(EXIT_USAGE, "registry-auth: usage: ovbd registry-auth [--plain-http] REF DIGEST");
	if (reg_parse_ref(argv[1 + plain], &ref, why, sizeof(why)) ||
	    reg_open(&c, &ref, plain, why, sizeof(why)) ||
	    reg_auth_header(&c, argv[2 + plain], hdr, sizeof(hdr), why, sizeof(why)))
		die(EXIT_BAD_INPUT, "registry-auth: %s", why);
	if (hdr[0])
		printf("%s\n", hdr);
	reg_close(&c);
	return 0;
}
