// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: run a helper program (losetup, dmsetup) and capture what it prints. */
#include "run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Append what fd holds to out[*used..outlen). */
static void slurp(int fd, char *out, size_t outlen, size_t *used)
{
	char tmp[512];
	ssize_t r;

	while ((r = read(fd, tmp, sizeof(tmp))) > 0) {
		size_t n = (size_t)r;

		if (!out || *used + 1 >= outlen)
			continue;
		if (n > outlen - 1 - *used)
			n = outlen - 1 - *used;
		memcpy(out + *used, tmp, n);
		*used += n;
	}
}

int run_cmd(char *const argv[], char *out, size_t outlen)
{
	FILE *err = tmpfile();
	int fds[2], status, code;
	size_t used = 0;
	pid_t pid;

	if (!err || pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	slurp(fds[0], out, outlen, &used);
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	code = status < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (code) {	/* a failure: its messages are what the caller reports */
		used = 0;
		rewind(err);
		slurp(fileno(err), out, outlen, &used);
	}
	fclose(err);
	if (out) {
		while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
			used--;
		out[used] = 0;
	}
	return code;
}
