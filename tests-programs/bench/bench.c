/* The Iso-UniK benchmark suite (`isounik bench`): one static program, one benchmark per
 * name argument, lmbench's method (a warm-up batch, then REPS timed batches of N
 * operations; the per-operation minimum and median over the batches).
 *
 *   bench [-q] NAME...     (or `all`)
 *
 * Each benchmark prints one line:
 *   bench NAME iterations=N reps=R unit=ticks min=X median=Y ns_min=A ns_median=B
 * X, Y: rdtsc ticks per operation (guest instructions under QEMU -icount shift=0);
 * A, B: CLOCK_MONOTONIC nanoseconds per operation. A benchmark that cannot run prints
 *   bench NAME error=WHAT errno=E
 * and the program goes on with the next one. Needs /bench/hello and /bin/busybox. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HELLO "/bench/hello"
#define BUSYBOX "/bin/busybox"
#define MAX_REPS 32

static int quick;

static inline uint64_t ticks(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *failed; /* set by a batch that could not run */
static int failed_errno;

static void fail(const char *what)
{
	if (!failed) {
		failed = what;
		failed_errno = errno;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A batch runs `n` operations; `setup`/`teardown` (untimed) run around each batch. */
struct bench {
	const char *name;
	long n;       /* operations per batch (full run) */
	int reps;     /* timed batches (full run) */
	void (*setup)(long n);
	void (*batch)(long n);
	void (*teardown)(long n);
};

static void run(const struct bench *b)
{
	long n = quick ? (b->n / 10 > 2 ? b->n / 10 : 2) : b->n;
	int reps = quick ? 5 : b->reps;
	double t[MAX_REPS], ns[MAX_REPS], tmin, nsmin;
	failed = NULL;
	/* Warm-up: one batch of a tenth (caches, lazily built kernel state, COW pages). */
	long warm = n / 10 > 1 ? n / 10 : 1;
	if (b->setup)
		b->setup(warm);
	b->batch(warm);
	if (b->teardown)
		b->teardown(warm);
	for (int r = 0; r < reps && !failed; r++) {
		if (b->setup)
			b->setup(n);
		uint64_t n0 = now_ns(), t0 = ticks();
		b->batch(n);
		uint64_t t1 = ticks(), n1 = now_ns();
		if (b->teardown)
			b->teardown(n);
		t[r] = (double)(t1 - t0) / n;
		ns[r] = (double)(n1 - n0) / n;
	}
	if (failed) {
		printf("bench %s error=%s errno=%d\n", b->name, failed, failed_errno);
		fflush(stdout);
		return;
	}
	tmin = t[0];
	nsmin = ns[0];
	for (int r = 1; r < reps; r++) {
		if (t[r] < tmin)
			tmin = t[r];
		if (ns[r] < nsmin)
			nsmin = ns[r];
	}
	printf("bench %s iterations=%ld reps=%d unit=ticks min=%.1f median=%.1f ns_min=%.1f ns_median=%.1f\n",
	       b->name, n, reps, tmin, median(t, reps), nsmin, median(ns, reps));
	fflush(stdout);
}

/* ---- system calls ---- */

static void b_null(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

/* The bare round trip: a `syscall` instruction in a loop (under the gate: the rewritten
 * site's `call *%rax` to its return), without libc's wrapper. `loop_raw` is the same loop
 * with a `nop` in place of the `syscall`: the difference is the round trip alone. */
static void b_null_raw(long n)
{
	for (long i = 0; i < n; i++) {
		long r = SYS_getppid;
		__asm__ volatile("syscall" : "+a"(r) : : "rcx", "r11", "memory");
	}
}

static void b_loop_raw(long n)
{
	for (long i = 0; i < n; i++) {
		long r = SYS_getppid;
		__asm__ volatile("nop" : "+a"(r) : : "rcx", "r11", "memory");
	}
}

/* clock_gettime as a program calls it (Linux answers it in its vDSO). */
static void b_clock(long n)
{
	struct timespec ts;
	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
}

/* ---- the MPK gate's own code on this CPU (isounik bench --mode native) ----
 * Built only where isounik passes -DNATIVE_GATE and links gate.S: the kernel's gate
 * assembly (kernel/src/arch/x86_64/gate.s) with its data page. On Linux with PKU, the
 * data page gets protection key K_LIBOS (pkey_alloc's first key) and the program runs with
 * the application PKRU, as a program under Iso-UniK does; `gate_native` calls the gate's
 * entry for rewritten sites minus the site check (`gate_direct`) with getppid, which it
 * answers from its data through its dispatch table, with its two checked WRPKRUs. */
#ifdef NATIVE_GATE
extern char gate_direct[], gate_slow[], gate_getpid[], gate_getppid[], gate_gettid[], gate_zero[];
extern char gate_data_start[];
extern uint64_t GATE_TABLE[], GATE_PID, GATE_TID, GATE_PPID;
static long expected_ppid;

static void gate_setup(long n)
{
	static int ready;
	(void)n;
	if (ready)
		return;
	long key = syscall(SYS_pkey_alloc, 0, 0);
	if (key < 0) {
		fail("pkey_alloc");
		return;
	}
	if (key != K_LIBOS) {
		errno = 0;
		fail("pkey_alloc-did-not-give-K_LIBOS");
		return;
	}
	for (int i = 0; i < GATE_TABLE_LEN; i++)
		GATE_TABLE[i] = (uint64_t)gate_slow;
	GATE_TABLE[SYS_getpid] = (uint64_t)gate_getpid;
	GATE_TABLE[SYS_getppid] = (uint64_t)gate_getppid;
	GATE_TABLE[SYS_gettid] = (uint64_t)gate_gettid;
	GATE_TABLE[SYS_getuid] = (uint64_t)gate_zero;
	expected_ppid = getppid();
	GATE_PPID = expected_ppid;
	GATE_PID = getpid();
	GATE_TID = syscall(SYS_gettid);
	if (syscall(SYS_pkey_mprotect, gate_data_start, 4096, PROT_READ | PROT_WRITE, key) != 0) {
		fail("pkey_mprotect");
		return;
	}
	/* From here on the application's rights: key 0 only (the gate restores this value). */
	__asm__ volatile("wrpkru" : : "a"(APP_PKRU), "c"(0), "d"(0) : "memory");
	ready = 1;
}

/* The gate's round trip. The call's return address goes below rsp: step over the red
 * zone, as the baseline loop does. */
static void b_gate_native(long n)
{
	long r = 0;
	for (long i = 0; i < n; i++) {
		r = SYS_getppid;
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\tcall gate_direct\n\tlea 128(%%rsp), %%rsp"
				 : "+a"(r)
				 :
				 : "rcx", "r11", "memory");
	}
	if (r != expected_ppid) {
		errno = 0;
		fail("gate-returned-a-wrong-ppid");
	}
}

static void b_loop_native(long n)
{
	for (long i = 0; i < n; i++) {
		long r = SYS_getppid;
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\tnop\n\tlea 128(%%rsp), %%rsp"
				 : "+a"(r)
				 :
				 : "rcx", "r11", "memory");
	}
}

/* One WRPKRU (of the application value, which the program holds) per iteration. */
static void b_wrpkru(long n)
{
	for (long i = 0; i < n; i++)
		__asm__ volatile("wrpkru" : : "a"(APP_PKRU), "c"(0), "d"(0) : "memory");
}

/* Reading the data page without the gate must fault: the gate's rights are its own. */
static void b_gate_isolated(long n)
{
	(void)n;
	pid_t pid = fork();
	if (pid == 0) {
		volatile uint64_t v = GATE_PPID; /* must raise SIGSEGV (SEGV_PKUERR) */
		(void)v;
		_exit(0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV) {
		errno = 0;
		fail("the-gate-data-page-is-readable-without-the-gate");
	}
}
#endif

static void b_open_close(long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(HELLO, O_RDONLY);
		if (fd < 0) {
			fail("open");
			return;
		}
		close(fd);
	}
}

static void b_stat(long n)
{
	struct stat st;
	for (long i = 0; i < n; i++)
		if (stat(HELLO, &st) != 0) {
			fail("stat");
			return;
		}
}

/* A file's data: read and write back one 4 KiB page of a 64 KiB file. */
static int rw_fd = -1;
static char rw_page[4096];

static void rw_setup(long n)
{
	(void)n;
	rw_fd = open("/bench_file_rw", O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (rw_fd < 0) {
		fail("open");
		return;
	}
	memset(rw_page, 'x', sizeof rw_page);
	for (int i = 0; i < 16; i++)
		if (write(rw_fd, rw_page, sizeof rw_page) != sizeof rw_page) {
			fail("write");
			return;
		}
}

static void b_file_rw(long n)
{
	for (long i = 0; i < n; i++) {
		off_t at = (i % 16) * 4096;
		if (pread(rw_fd, rw_page, 4096, at) != 4096 ||
		    pwrite(rw_fd, rw_page, 4096, at) != 4096) {
			fail("pread/pwrite");
			return;
		}
	}
}

static void rw_teardown(long n)
{
	(void)n;
	close(rw_fd);
	unlink("/bench_file_rw");
}

/* ---- processes ---- */

static void reap(pid_t pid)
{
	int status;
	if (pid < 0) {
		fail("fork");
		return;
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail("child-status");
}

static void b_fork(long n)
{
	for (long i = 0; i < n && !failed; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		reap(pid);
	}
}

static void b_vfork(long n)
{
	for (volatile long i = 0; i < n && !failed; i++) {
		pid_t pid = vfork();
		if (pid == 0)
			_exit(0);
		reap(pid);
	}
}

static void b_fork_exec(long n)
{
	for (long i = 0; i < n && !failed; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *argv[] = {HELLO, NULL};
			execve(HELLO, argv, environ);
			_exit(127);
		}
		reap(pid);
	}
}

static void b_fork_sh(long n)
{
	for (long i = 0; i < n && !failed; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *argv[] = {"sh", "-c", HELLO, NULL};
			execve(BUSYBOX, argv, environ);
			_exit(127);
		}
		reap(pid);
	}
}

static void b_spawn(long n)
{
	for (long i = 0; i < n && !failed; i++) {
		pid_t pid;
		char *argv[] = {HELLO, NULL};
		int e = posix_spawn(&pid, HELLO, NULL, NULL, argv, environ);
		if (e) {
			errno = e;
			fail("posix_spawn");
			return;
		}
		reap(pid);
	}
}

/* ---- pipes and switches ---- */

static int to_child[2], to_parent[2];
static pid_t partner;

static void echo_loop(long n)
{
	char c;
	for (long i = 0; i < n; i++) {
		if (read(to_child[0], &c, 1) != 1)
			_exit(1);
		if (write(to_parent[1], &c, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static void pipe_setup(long n)
{
	if (pipe(to_child) || pipe(to_parent)) {
		fail("pipe");
		return;
	}
	partner = fork();
	if (partner == 0)
		echo_loop(n);
	if (partner < 0)
		fail("fork");
}

static void pipe_teardown(long n)
{
	(void)n;
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	if (partner > 0)
		reap(partner);
	partner = 0;
}

static void b_pipe_lat(long n)
{
	char c = 'x';
	if (failed)
		return;
	for (long i = 0; i < n; i++) {
		if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
			fail("pipe-io");
			return;
		}
	}
}

/* ---- sockets (lmbench's lat_unix, lat_tcp, lat_connect) ---- */

/* The same one-byte echo as pipe_lat (`b_pipe_lat` writes to_child[1] and reads
 * to_parent[0]), over a connected pair of sockets: the partner's end is `theirs`, ours is
 * `mine`; the partner echoes until the end of the stream. */
static void echo_over(int mine, int theirs)
{
	partner = fork();
	if (partner == 0) {
		char c;
		close(mine);
		while (read(theirs, &c, 1) == 1)
			if (write(theirs, &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	if (partner < 0)
		fail("fork");
	close(theirs);
	to_child[1] = to_parent[0] = mine;
}

static void unix_setup(long n)
{
	int sv[2];
	(void)n;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		fail("socketpair");
		return;
	}
	echo_over(sv[0], sv[1]);
}

static int tcp_listener = -1;
static struct sockaddr_in tcp_addr;

/* A listener on 127.0.0.1 (a Linux booted without networking scripts has `lo` down: the
 * setup brings it up; Iso-UniK has no interfaces to configure and says ENOTTY). */
static int tcp_listen(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		s = socket(AF_INET, SOCK_STREAM, 0);
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (s >= 0)
		close(s);
	tcp_listener = socket(AF_INET, SOCK_STREAM, 0);
	tcp_addr = (struct sockaddr_in){.sin_family = AF_INET};
	tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof tcp_addr;
	if (tcp_listener < 0 || bind(tcp_listener, (struct sockaddr *)&tcp_addr, sizeof tcp_addr) ||
	    listen(tcp_listener, 64) ||
	    getsockname(tcp_listener, (struct sockaddr *)&tcp_addr, &len)) {
		fail("tcp-listen");
		return -1;
	}
	return 0;
}

static int tcp_connect(void)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	if (c < 0 || connect(c, (struct sockaddr *)&tcp_addr, sizeof tcp_addr)) {
		fail("tcp-connect");
		return -1;
	}
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return c;
}

static void tcp_setup(long n)
{
	(void)n;
	if (tcp_listen())
		return;
	int c = tcp_connect();
	int a = c < 0 ? -1 : accept(tcp_listener, NULL, NULL);
	if (a < 0) {
		fail("tcp-accept");
		return;
	}
	int one = 1;
	setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	close(tcp_listener);
	tcp_listener = -1;
	echo_over(a, c);
}

static void echo_teardown(long n)
{
	(void)n;
	close(to_child[1]);
	if (partner > 0)
		reap(partner);
	partner = 0;
}

static void tcp_conn_setup(long n)
{
	(void)n;
	tcp_listen();
}

static void tcp_conn_teardown(long n)
{
	(void)n;
	if (tcp_listener >= 0)
		close(tcp_listener);
	tcp_listener = -1;
}

/* One operation: connect, accept, both ends closed. */
static void b_tcp_conn(long n)
{
	for (long i = 0; i < n && !failed; i++) {
		int c = tcp_connect();
		int a = c < 0 ? -1 : accept(tcp_listener, NULL, NULL);
		if (a < 0) {
			fail("tcp-accept");
			return;
		}
		close(c);
		close(a);
	}
}

#define CHUNK 65536
static char chunk[CHUNK];

static void bw_setup(long n)
{
	if (pipe(to_child)) {
		fail("pipe");
		return;
	}
	partner = fork();
	if (partner == 0) {
		/* The reader: takes n * CHUNK bytes, then answers one byte. */
		close(to_child[1]);
		long left = n * CHUNK;
		while (left > 0) {
			ssize_t r = read(to_child[0], chunk, CHUNK);
			if (r <= 0)
				_exit(1);
			left -= r;
		}
		_exit(0);
	}
	if (partner < 0)
		fail("fork");
	close(to_child[0]);
}

static void b_pipe_bw(long n)
{
	if (failed)
		return;
	for (long i = 0; i < n; i++) {
		size_t done = 0;
		while (done < CHUNK) {
			ssize_t w = write(to_child[1], chunk + done, CHUNK - done);
			if (w <= 0) {
				fail("pipe-write");
				return;
			}
			done += w;
		}
	}
	/* The time includes the reader draining the last bytes. */
	close(to_child[1]);
	to_child[1] = -1;
	reap(partner);
	partner = 0;
}

static void bw_teardown(long n)
{
	(void)n;
	if (to_child[1] >= 0)
		close(to_child[1]);
	if (partner > 0)
		reap(partner);
	partner = 0;
}

/* Two processes on one CPU, both calling sched_yield: the partner yields in a loop until
 * killed, so every yield of the timed process lets the partner run once. One operation is
 * one yield of each process (two switches). (A shared-page turn would check the
 * alternation, but MAP_SHARED anonymous memory is not shared across fork in Iso-UniK yet.) */
static void yield_setup(long n)
{
	(void)n;
	partner = fork();
	if (partner == 0)
		for (;;)
			sched_yield();
	if (partner < 0)
		fail("fork");
	sched_yield();
}

static void b_yield(long n)
{
	if (failed)
		return;
	for (long i = 0; i < n; i++)
		sched_yield();
}

static void yield_teardown(long n)
{
	(void)n;
	int status;
	if (partner > 0) {
		kill(partner, SIGKILL);
		waitpid(partner, &status, 0);
	}
	partner = 0;
}

/* ---- signals and faults ---- */

static volatile sig_atomic_t caught;

static void on_usr1(int sig)
{
	(void)sig;
	caught++;
}

static void b_sig_install(long n)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	for (long i = 0; i < n; i++)
		if (sigaction(SIGUSR1, &sa, NULL)) {
			fail("sigaction");
			return;
		}
}

/* Block a signal and restore the mask: two rt_sigprocmask calls, the pair C libraries
 * make around critical sections (busybox's shell, musl's fork and posix_spawn). */
static void b_sigmask(long n)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (long i = 0; i < n; i++)
		if (sigprocmask(SIG_BLOCK, &set, &old) || sigprocmask(SIG_SETMASK, &old, NULL)) {
			fail("sigprocmask");
			return;
		}
}

static void b_sig_catch(long n)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	caught = 0;
	pid_t self = getpid();
	for (long i = 0; i < n; i++)
		kill(self, SIGUSR1);
	if (caught != n)
		fail("signal-not-caught");
}

static char *prot_page;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char *page = (char *)((uintptr_t)si->si_addr & ~(uintptr_t)4095);
	if (page != prot_page)
		_exit(99);
	mprotect(page, 4096, PROT_READ | PROT_WRITE);
	caught++;
}

static void prot_setup(long n)
{
	(void)n;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	prot_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (prot_page == MAP_FAILED)
		fail("mmap");
	else
		prot_page[0] = 1;
}

static void b_prot_fault(long n)
{
	if (failed)
		return;
	caught = 0;
	for (long i = 0; i < n; i++) {
		mprotect(prot_page, 4096, PROT_READ);
		*(volatile char *)prot_page = (char)i; /* faults; the handler makes it writable */
	}
	if (caught != n)
		fail("fault-not-caught");
}

static void prot_teardown(long n)
{
	(void)n;
	munmap(prot_page, 4096);
	signal(SIGSEGV, SIG_DFL);
}

static char *region;

static void region_setup(long n)
{
	region = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		fail("mmap");
}

static void b_page_fault(long n)
{
	if (failed)
		return;
	for (long i = 0; i < n; i++)
		region[i * 4096] = 1;
}

static void region_teardown(long n)
{
	munmap(region, n * 4096);
}

static void b_mmap(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			fail("mmap");
			return;
		}
		munmap(p, 1 << 20);
	}
}

static const struct bench all[] = {
	{"null", 20000, 11, NULL, b_null, NULL},
	{"null_raw", 20000, 11, NULL, b_null_raw, NULL},
	{"loop_raw", 20000, 11, NULL, b_loop_raw, NULL},
	{"clock", 20000, 11, NULL, b_clock, NULL},
	{"open_close", 2000, 11, NULL, b_open_close, NULL},
	{"stat", 2000, 11, NULL, b_stat, NULL},
	{"file_rw", 2000, 11, rw_setup, b_file_rw, rw_teardown},
	{"fork", 200, 11, NULL, b_fork, NULL},
	{"vfork", 200, 11, NULL, b_vfork, NULL},
	{"fork_exec", 100, 11, NULL, b_fork_exec, NULL},
	{"fork_sh", 50, 11, NULL, b_fork_sh, NULL},
	{"posix_spawn", 100, 11, NULL, b_spawn, NULL},
	{"pipe_lat", 2000, 11, pipe_setup, b_pipe_lat, pipe_teardown},
	{"pipe_bw", 160, 11, bw_setup, b_pipe_bw, bw_teardown},
	{"unix_lat", 2000, 11, unix_setup, b_pipe_lat, echo_teardown},
	{"tcp_lat", 2000, 11, tcp_setup, b_pipe_lat, echo_teardown},
	{"tcp_conn", 500, 11, tcp_conn_setup, b_tcp_conn, tcp_conn_teardown},
	{"ctx_yield", 2000, 11, yield_setup, b_yield, yield_teardown},
	{"sig_install", 5000, 11, NULL, b_sig_install, NULL},
	{"sig_catch", 5000, 11, NULL, b_sig_catch, NULL},
	{"sigmask", 5000, 11, NULL, b_sigmask, NULL},
	{"prot_fault", 2000, 11, prot_setup, b_prot_fault, prot_teardown},
	{"page_fault", 1000, 11, region_setup, b_page_fault, region_teardown},
	{"mmap_1m", 1000, 11, NULL, b_mmap, NULL},
};

/* Not part of `all`: only `isounik bench --mode native` asks for them by name. */
static const struct bench native[] = {
#ifdef NATIVE_GATE
	{"gate_isolated", 1, 1, gate_setup, b_gate_isolated, NULL},
	{"gate_native", 100000, 11, gate_setup, b_gate_native, NULL},
	{"loop_native", 100000, 11, gate_setup, b_loop_native, NULL},
	{"wrpkru", 100000, 11, gate_setup, b_wrpkru, NULL},
#endif
	{NULL, 0, 0, NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	int first = 1, ran = 0;
	if (argc > 1 && strcmp(argv[1], "-q") == 0) {
		quick = 1;
		first = 2;
	}
	for (int a = first; a < argc; a++) {
		int found = 0;
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			if (strcmp(argv[a], "all") == 0 || strcmp(argv[a], all[i].name) == 0) {
				run(&all[i]);
				found = 1;
				ran++;
			}
		for (const struct bench *b = native; b->name; b++)
			if (strcmp(argv[a], b->name) == 0) {
				run(b);
				found = 1;
				ran++;
			}
		if (!found) {
			printf("bench %s error=unknown-benchmark errno=0\n", argv[a]);
			return 2;
		}
	}
	printf("bench-done count=%d\n", ran);
	return ran ? 0 : 2;
}
