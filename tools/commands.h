/* SPDX-License-Identifier: GPL-2.0-only */
/* ovbd: the subcommands. Each takes argc/argv from its name on and returns an exit code. */
#ifndef OVBD_COMMANDS_H
#define OVBD_COMMANDS_H

#include "pull.h"

int cmd_info(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_zfile(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_table(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_close(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_registry_auth(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_verity(int argc, char **argv);
int cmd_runtime_config(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_vm_disks(int argc, char **argv);

/*
 * Shared by the commands: getopt_long that remembers what was wrong with a
 * bad option, and usage_of(), which with a nonzero code says that reason
 * (or that the arguments do not fit the synopsis) before the synopsis.
 */
struct option;
int ovbd_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
void usage_of(const char *cmd, int code) __attribute__((noreturn));
/* --algo and --block-size values (cli.c); die with exit 2 when malformed. */
u8 parse_algo(const char *s);
u32 parse_block_size(const char *s);

/*
 * What transfers say, for the library's xfer_notes (cmd_registry.c): a
 * line per blob on stderr, or one progress line on a terminal.
 */
extern const struct xfer_notes cli_notes;
/* Pull refstr into the layout dir, saying what it does; dies on failure. */
void cli_pull(const char *refstr, const char *dir, bool plain, bool any_image, char *oci_ref,
	      size_t len, char *manifest_digest);
/* image_layer_args() with cli_notes and a progress line on a terminal. */
struct oci_image;
int cli_layer_args(char **args, unsigned int n, struct oci_image *img, char ***paths,
		   unsigned int *np, char *why, size_t len);

#endif /* OVBD_COMMANDS_H */
