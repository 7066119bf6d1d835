/* `isounik bench --vs-linux`'s /init for the Linux guest: prints `boot tsc=T` (time stamp
 * counter at init's start) and `boot uptime=U` (/proc/uptime), runs
 * `/bench/bench ARGS` where ARGS are the comma-separated words of `bench=` on the kernel
 * command line, and powers the machine off. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	unsigned long long tsc = ((unsigned long long)hi << 32) | lo;

	mkdir("/dev", 0755);
	mkdir("/proc", 0755);
	mkdir("/tmp", 01777);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	if (fcntl(1, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	printf("boot tsc=%llu\n", tsc);
	char buf[4096] = "";
	int fd = open("/proc/uptime", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
	}
	printf("boot uptime=%.*s\n", (int)strcspn(buf, " \n"), buf);
	fflush(stdout);

	char *args[64] = {"/bench/bench"};
	int argc = 1;
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
		for (char *word = strtok(buf, " \n"); word; word = strtok(NULL, " \n"))
			if (strncmp(word, "bench=", 6) == 0)
				for (char *a = strtok(word + 6, ","); a && argc < 63; a = strtok(NULL, ","))
					args[argc++] = a;
	}
	args[argc] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		execve(args[0], args, environ);
		perror("execve /bench/bench");
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	printf("init-done status=%d\n", status);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
