/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ovbd: the one place that starts other programs (nbdkit, nbd-client,
 * mke2fs, dmesg). Children get what is safe after a fork in a process that
 * may have threads: argv and envp are made before the fork.
 */
#ifndef OVBD_RUN_H
#define OVBD_RUN_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Run argv (in environment envp; NULL: this process's) and return its exit
 * status (128 + signal when killed, 127 when it could not be started, -1
 * when no process could be made). out receives its stdout, or on failure
 * its stderr (trimmed), so warnings never pollute results.
 */
int run_cmd_env(char *const argv[], char *const envp[], char *out, size_t outlen);
int run_cmd(char *const argv[], char *out, size_t outlen);
/* Start argv with stdin, stdout and stderr on /dev/null; its pid, or -1. */
pid_t run_spawn(char *const argv[], char *const envp[]);
/* Wait for a run_spawn() child: its exit status as run_cmd's, or -1. */
int run_wait(pid_t pid);
/* run_spawn(), then run_wait(). */
int run_quiet(char *const argv[]);
/*
 * This process's environment with the assignment "VAR=value" instead of
 * VAR's own; free() the array (the strings are not copied). NULL: no memory.
 */
char **run_env_with(char *assignment);

#endif /* OVBD_RUN_H */
