// SPDX-License-Identifier: GPL-2.0-only
/* ovbd: the one place that starts other programs (run.h). */
#define _GNU_SOURCE
#include "run.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Append what fd holds to out[*used..outlen). */
static void run_slurp(int fd, char *out, size_t outlen, size_t *used)
{
	char tmp[512];
	ssize_t r;

	while ((r = read(fd, tmp, sizeof(tmp))) > 0 || (r < 0 && errno == EINTR)) {
		size_t n = (size_t)(r > 0 ? r : 0);

		if (!out || *used + 1 >= outlen)
			continue;
		if (n > outlen - 1 - *used)
			n = outlen - 1 - *used;
		memcpy(out + *used, tmp, n);
		*used += n;
	}
}

static int run_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_wait(pid_t pid)
{
	int st;

	while (pid > 0 && waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return pid > 0 ? run_status(st) : -1;
}

int run_cmd_env(char *const argv[], char *const envp[], char *out, size_t outlen)
{
	FILE *err = tmpfile();
	int fds[2], code;
	size_t used = 0;
	pid_t pid;

	if (!err)
		return -1;
	if (pipe(fds)) {
		fclose(err);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		fclose(err);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, STDIN_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvpe(argv[0], argv, envp ? envp : environ);
		dprintf(STDERR_FILENO, "%s: %s", argv[0], strerror(errno));	/* into the capture */
		_exit(127);
	}
	close(fds[1]);
	run_slurp(fds[0], out, outlen, &used);
	close(fds[0]);
	code = run_wait(pid);
	if (code) {	/* a failure: its messages are what the caller reports */
		used = 0;
		rewind(err);
		run_slurp(fileno(err), out, outlen, &used);
	}
	fclose(err);
	if (out && outlen) {
		while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
			used--;
		out[used] = 0;
	}
	return code;
}

int run_cmd(char *const argv[], char *out, size_t outlen)
{
	return run_cmd_env(argv, NULL, out, outlen);
}

pid_t run_spawn(char *const argv[], char *const envp[])
{
	pid_t pid = fork();

	if (!pid) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvpe(argv[0], argv, envp ? envp : environ);
		_exit(127);
	}
	return pid;
}

int run_quiet(char *const argv[])
{
	return run_wait(run_spawn(argv, NULL));
}

char **run_env_with(char *assignment)
{
	size_t n = 0, k = 0, var = strcspn(assignment, "=") + 1;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	env[k++] = assignment;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], assignment, var))
			env[k++] = environ[i];
	return env;
}
