// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - concurrency stress of DMA mapping against device teardown.
 *
 * On one context, with the device bound and attached, N threads
 * (STRESS_THREADS or argv[2], default 4) hammer IOMMU_IOAS_MAP, UNMAP and
 * NOIOMMU_GET_PA on overlapping IOVA ranges of one shared buffer for S
 * seconds (STRESS_SECONDS or argv[1], default 15); thread 0 also detaches
 * and re-attaches the device now and then. Meanwhile:
 *
 *  - a thread closes and re-opens a second context, mapping and unmapping in
 *    it and often closing it with mappings left;
 *  - a child process unbinds and rebinds the device through sysfs, over and
 *    over. Unbind blocks until the device file is closed: the module signals
 *    the REQ eventfd registered with VFIO_DEVICE_SET_IRQS, and a thread here
 *    answers it by closing the device, waiting for the rebind, and opening,
 *    binding, re-registering and re-attaching the new one;
 *  - another child forks "owners" that open a context, map memory from two
 *    threads, and are SIGKILLed with their mappings live (or mid-pin).
 *
 * Every GET_PA answer is checked against /proc/self/pagemap: a page of the
 * buffer, at the right offset. At the end everything is closed, and the
 * module's debugfs counters and our VmPin must be back at zero; the caller
 * checks that the module can be removed. Every wait has a timeout, and a
 * watchdog reports a kernel hang (stacks, sysrq-w) rather than hanging.
 * Output: counts, "stress: ... ops, D s", and TAP lines; exit status 0 only
 * if every check passed. VCN_BDF: the device (default the first edu);
 * STRESS_VERBOSE=1 prints each unbind and rebind as it happens.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vcn_dev.h"
#include "vcn_soak.h"

#define PG		4096UL
#define BUFPAGES	256		/* the shared buffer */
#define WIN_BASE	0x100000000ULL	/* the contended IOVA window */
#define WIN_PAGES	512
#define MAXTHREADS	32
#define STALL_SECONDS	30
#define REBIND_TIMEOUT_MS 30000

#define DRVDIR "/sys/bus/pci/drivers/vfio-cdev-noiommu"

/* between the parent and its children */
struct shared {
	volatile int stop;
	volatile uint64_t unbinds, binds, bind_fails, unbind_max_ms, races;
	volatile uint64_t unbind_busy;	/* 1 while the child is in an unbind */
	volatile uint64_t unbind_start_ms;
	volatile uint64_t kills, owner_maps, owner_not_ready, reap_hang;
	volatile int child_errors;
	char msg[256];
};

enum { S_MAP, S_UNMAP, S_GET_PA, S_ATTACH, S_CTX2_OPEN, S_CTX2_OP,
       S_REQ, S_REOPEN, S_N };

struct thr {
	pthread_t th;
	int idx;
	uint64_t seed;
	volatile uint64_t progress;
	volatile int done;
};

static struct shared *sh;
static const char *g_bdf, *g_ctxnode;
static uint8_t *g_buf;
static uint64_t g_pa[BUFPAGES];		/* pagemap's view of g_buf */
static pthread_mutex_t pa_lock = PTHREAD_MUTEX_INITIALIZER;
static int nthreads = 4;
static volatile int g_stop, g_req_stop;
static uint64_t g_count[S_N];
static uint64_t g_unexpected, g_pa_checked, g_pa_bad;
static char g_first_err[256];
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;
static int tok_w = -1;			/* tokens to the unbinder */
static uint64_t g_t0;

/* the device, as the REQ thread keeps it */
static struct {
	pthread_mutex_t lock;
	int dev;		/* -1 while unbound */
	int ctx;		/* the shared context: never closed during the run */
	uint32_t ioas;
	int req;		/* the REQ eventfd */
	int attached;
} ds = { .lock = PTHREAD_MUTEX_INITIALIZER, .dev = -1, .ctx = -1, .req = -1 };


static void count(int what)
{
	__atomic_add_fetch(&g_count[what], 1, __ATOMIC_RELAXED);
}

static void unexpected(const char *what, int e)
{
	__atomic_add_fetch(&g_unexpected, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&err_lock);
	if (!g_first_err[0])
		snprintf(g_first_err, sizeof(g_first_err), "%s: %s", what, strerror(e));
	pthread_mutex_unlock(&err_lock);
}

static int map_fixed(int ctx, uint32_t ioas, void *va, uint64_t len,
		     uint64_t *iova, int fixed)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas, .user_va = (uintptr_t)va, .length = len,
		.iova = fixed ? *iova : 0,
	};
	int r = ioctl(ctx, IOMMU_IOAS_MAP, &m);

	if (!r)
		*iova = m.iova;
	return r;
}

static int unmap_range(int ctx, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = ioas, .iova = iova, .length = len,
	};

	return ioctl(ctx, IOMMU_IOAS_UNMAP, &u);
}



static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e;
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	errno = e;
	return r == (ssize_t)strlen(s) ? 0 : -1;
}

/* ---------------- GET_PA answers against pagemap ---------------- */

static void read_pagemap(void)
{
	int i;

	for (i = 0; i < BUFPAGES; i++)
		g_pa[i] = vcn_pagemap_pa(g_buf + i * PG) & ~(PG - 1);
}

static int pa_known(uint64_t pa)
{
	int i;

	for (i = 0; i < BUFPAGES; i++)
		if (g_pa[i] == pa)
			return 1;
	return 0;
}

static void check_pa(uint64_t iova, uint64_t want, uint64_t pa, uint64_t len)
{
	uint64_t page = pa & ~(PG - 1);
	int ok;

	__atomic_add_fetch(&g_pa_checked, 1, __ATOMIC_RELAXED);
	ok = len >= 1 && len <= want && (pa & (PG - 1)) == (iova & (PG - 1));
	pthread_mutex_lock(&pa_lock);
	if (ok && !pa_known(page)) {
		read_pagemap();		/* a page may have moved while unpinned */
		ok = pa_known(page);
	}
	pthread_mutex_unlock(&pa_lock);
	if (!ok) {
		__atomic_add_fetch(&g_pa_bad, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&err_lock);
		printf("# GET_PA iova %#llx len %#llx -> pa %#llx len %#llx: not a page of the buffer at that offset\n",
		       (unsigned long long)iova, (unsigned long long)want,
		       (unsigned long long)pa, (unsigned long long)len);
		pthread_mutex_unlock(&err_lock);
	}
}

/* ---------------- the mapping threads ---------------- */

static void do_map(void)
{
	uint64_t npg = 1 + rnd(8), pg = rnd(WIN_PAGES - npg + 1);
	uint64_t uoff = rnd(BUFPAGES - npg + 1), iova = WIN_BASE + pg * PG;
	int fixed = rnd(100) < 85;

	if (!map_fixed(ds.ctx, ds.ioas, g_buf + uoff * PG, npg * PG, &iova, fixed))
		count(S_MAP);
	else if (errno == EEXIST && fixed)
		count(S_MAP);
	else
		unexpected("IOAS_MAP", errno);
}

static void do_unmap(void)
{
	uint32_t c = rnd(100);
	uint64_t iova = WIN_BASE + rnd(WIN_PAGES) * PG, len = (1 + rnd(16)) * PG;

	if (c < 2) {		/* everything */
		iova = 0;
		len = UINT64_MAX;
	} else if (c < 5) {	/* the kernel-chosen ones below the window */
		iova = 0;
		len = WIN_BASE;
	}
	if (!unmap_range(ds.ctx, ds.ioas, iova, len) || errno == ENOENT ||
	    errno == EBUSY)
		count(S_UNMAP);
	else
		unexpected("IOAS_UNMAP", errno);
}

static void do_get_pa(void)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = ds.ioas,
		.iova = WIN_BASE + rnd(WIN_PAGES * PG),
	};
	uint32_t c = rnd(4);

	g.length = c == 0 ? 1 : c == 1 ? 1 + rnd(PG) : c == 2 ? PG * (1 + rnd(16)) :
		   UINT64_MAX;
	{
		uint64_t want = g.length;

		if (!ioctl(ds.ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g)) {
			check_pa(g.iova, want, g.out_phys, g.length);
			count(S_GET_PA);
		} else if (errno == ENOENT || errno == EOPNOTSUPP) {
			count(S_GET_PA);	/* not mapped; not attached (rebind) */
		} else {
			unexpected("NOIOMMU_GET_PA", errno);
		}
	}
}

/* thread 0 now and then: detach and attach again, under the device lock */
static void do_attach_toggle(void)
{
	pthread_mutex_lock(&ds.lock);
	if (ds.dev >= 0) {
		if (vcn_detach(ds.dev))
			unexpected("DETACH", errno);
		else if (vcn_attach(ds.dev, ds.ioas, NULL))
			unexpected("ATTACH", errno);
		else
			count(S_ATTACH);
	}
	pthread_mutex_unlock(&ds.lock);
}

static void *mapper(void *arg)
{
	struct thr *t = arg;

	rs = t->seed;
	while (!g_stop) {
		uint32_t c = rnd(1000);

		if (t->idx == 0 && c < 5)
			do_attach_toggle();
		else if (c < 420)
			do_map();
		else if (c < 750)
			do_unmap();
		else
			do_get_pa();
		t->progress++;
	}
	t->done = 1;
	return NULL;
}

/* ---------------- the second context ---------------- */

static void *ctx2_thread(void *arg)
{
	struct thr *t = arg;

	rs = t->seed;
	while (!g_stop) {
		int ctx = open(g_ctxnode, O_RDWR | O_CLOEXEC), n, i;
		uint32_t ioas[2] = { 0, 0 };

		if (ctx < 0) {
			unexpected("open second context", errno);
			vcn_sleep_us(10000);
			continue;
		}
		count(S_CTX2_OPEN);
		for (i = 0; i < 2; i++)
			if (vcn_ioas_alloc(ctx, &ioas[i]))
				unexpected("IOAS_ALLOC (second context)", errno);
		n = 5 + rnd(40);
		for (i = 0; i < n && !g_stop; i++) {
			uint32_t id = ioas[rnd(2)], c = rnd(100);
			uint64_t npg = 1 + rnd(16), iova = rnd(64) * PG;
			uint64_t uoff = rnd(BUFPAGES - npg + 1);

			if (c < 55) {
				if (map_fixed(ctx, id, g_buf + uoff * PG, npg * PG, &iova,
					      rnd(4) != 0) && errno != EEXIST)
					unexpected("IOAS_MAP (second context)", errno);
			} else if (c < 90) {
				if (unmap_range(ctx, id, iova, npg * PG) && errno != ENOENT)
					unexpected("IOAS_UNMAP (second context)", errno);
			} else {	/* destroying a mapped IOAS unpins it */
				if (vcn_destroy(ctx, id))
					unexpected("DESTROY (second context)", errno);
				else if (vcn_ioas_alloc(ctx, &ioas[id == ioas[1]]))
					unexpected("IOAS_ALLOC (second context)", errno);
			}
			count(S_CTX2_OP);
			t->progress++;
		}
		if (rnd(2))	/* half the time, tidy up first */
			unmap_range(ctx, ioas[0], 0, UINT64_MAX);
		close(ctx);	/* the rest goes with the context */
		t->progress++;
	}
	t->done = 1;
	return NULL;
}

/* ---------------- the device and its REQ channel ---------------- */

static int req_register(int dev, int efd)
{
	int32_t fd = efd;
	struct vcn_dev d = { .dev = dev };

	return vcn_irq_set_eventfds(&d, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &fd);
}

/* open the (new) device node, bind it to ds.ctx, register REQ, attach */
static int device_up(void)
{
	const char *node = vcn_dev_node(g_bdf);
	int fd;

	if (!node)
		return -1;
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (vcn_bind(fd, ds.ctx, NULL) || req_register(fd, ds.req) ||
	    vcn_attach(fd, ds.ioas, NULL)) {
		int e = errno;

		close(fd);
		errno = e;
		return -2;
	}
	pthread_mutex_lock(&ds.lock);
	ds.dev = fd;
	ds.attached = 1;
	pthread_mutex_unlock(&ds.lock);
	/* the unbinder may be gone at the end: EPIPE is fine then */
	if (tok_w >= 0 && write(tok_w, "t", 1) != 1 && errno != EPIPE)
		unexpected("token to the unbinder", errno);
	return 0;
}

static void *req_thread(void *arg)
{
	struct thr *t = arg;

	/* ahead of the busy mappers, so unbind cycles keep coming on one CPU */
	setpriority(PRIO_PROCESS, syscall(SYS_gettid), -10);
	while (!g_req_stop) {
		struct pollfd p = { .fd = ds.req, .events = POLLIN };
		uint64_t n, t0;
		int r;

		t->progress++;
		r = poll(&p, 1, 200);
		if (r <= 0 || read(ds.req, &n, sizeof(n)) != sizeof(n))
			continue;
		count(S_REQ);
		/* the kernel wants the device back: let go of it */
		pthread_mutex_lock(&ds.lock);
		if (ds.dev >= 0)
			close(ds.dev);
		ds.dev = -1;
		ds.attached = 0;
		pthread_mutex_unlock(&ds.lock);
		/* and take the rebound one */
		t0 = vcn_now_ms();
		for (;;) {
			r = device_up();
			if (!r) {
				count(S_REOPEN);
				if (getenv("STRESS_VERBOSE"))
					printf("# %.3f s: REQ answered, device back after %llu ms\n",
					       (t0 - g_t0) / 1000.0,
					       (unsigned long long)(vcn_now_ms() - t0));
				break;
			}
			if (r == -2 && errno != ENODEV && errno != ENXIO && errno != ENOENT)
				unexpected("bind/REQ/attach of the rebound device", errno);
			if (vcn_now_ms() - t0 > REBIND_TIMEOUT_MS) {
				unexpected("device back after an unbind within 30 s", ETIMEDOUT);
				break;
			}
			t->progress++;
			vcn_sleep_us(5000);
		}
	}
	t->done = 1;
	return NULL;
}

/* ---------------- the children ---------------- */

static void child_err(const char *what)
{
	__atomic_add_fetch(&sh->child_errors, 1, __ATOMIC_RELAXED);
	if (!sh->msg[0])
		snprintf(sh->msg, sizeof(sh->msg), "%s: %s", what, strerror(errno));
}

/* unbind and rebind through sysfs until told to stop */
static void unbinder(int tok_r)
{
	uint64_t started = vcn_now_ms();
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpriority(PRIO_PROCESS, 0, -10);
	rs = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;
	while (!sh->stop) {
		struct pollfd p = { .fd = tok_r, .events = POLLIN };
		uint64_t t0, dt;
		int tries;

		/*
		 * Wait until the parent is bound and listening on REQ; once,
		 * early, race it instead (an unbind that finds no request
		 * channel waits for the kernel's re-ask, 10 s later).
		 */
		if (sh->races || rnd(4) || vcn_now_ms() - started > 4000) {
			if (poll(&p, 1, 200) <= 0)
				continue;
			if (read(tok_r, &c, 1) != 1)
				continue;
		} else {
			sh->races++;
		}
		/* let the mappers see the device attached for a while, or not */
		vcn_sleep_us(rnd(8) ? rnd(300000) : rnd(2000));
		sh->unbind_start_ms = vcn_now_ms();
		sh->unbind_busy = 1;
		t0 = vcn_now_ms();
		if (write_file(DRVDIR "/unbind", g_bdf))
			child_err("unbind");	/* e.g. not bound: rebind below */
		dt = vcn_now_ms() - t0;
		sh->unbind_busy = 0;
		if (getenv("STRESS_VERBOSE"))
			printf("# unbinder: unbind took %llu ms\n", (unsigned long long)dt);
		sh->unbinds++;
		if (dt > sh->unbind_max_ms)
			sh->unbind_max_ms = dt;
		for (tries = 0; tries < 100; tries++) {
			if (!write_file(DRVDIR "/bind", g_bdf))
				break;
			vcn_sleep_us(20000);
		}
		if (tries == 100) {
			sh->bind_fails++;
			child_err("bind");
		} else {
			sh->binds++;
		}
	}
	_exit(0);
}

/* an owner: maps from two threads until it is killed */
static int owner_ready_fd;

static void *owner_loop(void *arg)
{
	int ctx = (int)(intptr_t)arg, i;
	uint32_t ioas = 0;
	uint8_t *big = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *small = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (big == MAP_FAILED || small == MAP_FAILED || vcn_ioas_alloc(ctx, &ioas))
		return NULL;
	for (i = 0; ; i++) {
		uint64_t iova = 0, len = i % 8 == 7 ? 4 << 20 : PG * (1 + rnd(16));
		int r;

		if (i % 8 == 7)	/* 4 MiB not yet faulted in: a slow pin to die in */
			r = map_fixed(ctx, ioas, big, len, &iova, 0);
		else
			r = map_fixed(ctx, ioas, small + rnd(48) * PG, len, &iova, 0);
		if (!r) {
			__atomic_add_fetch(&sh->owner_maps, 1, __ATOMIC_RELAXED);
			if (owner_ready_fd >= 0) {
				if (write(owner_ready_fd, "r", 1) < 0)
					_exit(1);
				owner_ready_fd = -1;
			}
			if (!rnd(4))
				unmap_range(ctx, ioas, iova, len);
		}
		if (i > 100000)
			_exit(0);
	}
	return NULL;
}

static void owner(int ready)
{
	pthread_t th;
	int ctx;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rs = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;
	owner_ready_fd = ready;
	ctx = open(g_ctxnode, O_RDWR | O_CLOEXEC);
	if (ctx < 0)
		_exit(1);
	if (pthread_create(&th, NULL, owner_loop, (void *)(intptr_t)ctx))
		_exit(1);
	owner_loop((void *)(intptr_t)ctx);
	_exit(0);
}

/* fork owners and SIGKILL them with live mappings, until told to stop */
static void killer(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	rs = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;
	while (!sh->stop) {
		struct pollfd p;
		int pfd[2], st = 0, i;
		pid_t pid;
		char c;

		if (pipe2(pfd, O_CLOEXEC)) {
			child_err("pipe");
			break;
		}
		pid = fork();
		if (pid < 0) {
			child_err("fork");
			break;
		}
		if (!pid) {
			close(pfd[0]);
			owner(pfd[1]);
		}
		close(pfd[1]);
		p.fd = pfd[0];
		p.events = POLLIN;
		if (poll(&p, 1, 5000) <= 0 || read(pfd[0], &c, 1) != 1)
			sh->owner_not_ready++;
		close(pfd[0]);
		vcn_sleep_us(rnd(4000));
		kill(pid, SIGKILL);
		for (i = 0; i < 2000; i++) {	/* 20 s */
			if (waitpid(pid, &st, WNOHANG) == pid)
				break;
			vcn_sleep_us(10000);
		}
		if (i == 2000) {
			sh->reap_hang++;
			errno = ETIMEDOUT;
			child_err("a killed owner did not die within 20 s");
			break;
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			sh->kills++;
	}
	_exit(0);
}

/* ---------------- checks ---------------- */



/* wait for a child, up to ms; 1 if it exited (status in *st) */
static int wait_child(pid_t pid, int ms, int *st)
{
	uint64_t t0 = vcn_now_ms();

	while (vcn_now_ms() - t0 < (uint64_t)ms) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 1;
		vcn_sleep_us(10000);
	}
	return 0;
}

static int driver_is_ours(void)
{
	char p[300], link[300];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", g_bdf);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = 0;
	return !strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link,
		       "vfio-cdev-noiommu");
}

int main(int argc, char **argv)
{
	int seconds = 15, i, tok[2], st, stalled = -1, hung = 0;
	struct thr thr[MAXTHREADS + 2];
	uint64_t last[MAXTHREADS + 2], changed[MAXTHREADS + 2], total = 0, seed;
	pid_t unb_pid, kill_pid;
	double secs;
	int nthr;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	seconds = vcn_int_arg(argc, argv, 1, "STRESS_SECONDS", seconds, 1, INT_MAX);
	nthreads = vcn_int_arg(argc, argv, 2, "STRESS_THREADS", nthreads, 1, MAXTHREADS);
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rs = seed | 1;
	g_bdf = getenv("VCN_BDF");
	if (!g_bdf)
		g_bdf = vcn_find_bdf(0x1234, 0x11e8);
	if (!g_bdf || !vcn_dev_node(g_bdf)) {
		check(0, "stress: an edu device bound to vfio-cdev-noiommu");
		return 1;
	}
	g_bdf = strdup(g_bdf);
	g_ctxnode = strdup(vcn_ictx_node());
	printf("# stress: %d mapping threads, %d s, device %s, context %s, counters at start: pinned_pages %lld areas %lld\n",
	       nthreads, seconds, g_bdf, g_ctxnode, vcn_stat("pinned_pages"),
	       vcn_stat("areas"));

	/* the children first, so that they inherit nothing but a pipe */
	sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pipe2(tok, O_CLOEXEC)) {
		perror("stress: setup");
		return 1;
	}
	memset(sh, 0, sizeof(*sh));
	fflush(stdout);
	unb_pid = fork();
	if (!unb_pid) {
		close(tok[1]);
		unbinder(tok[0]);
	}
	close(tok[0]);
	tok_w = tok[1];
	kill_pid = fork();
	if (!kill_pid) {
		close(tok_w);
		killer();
	}
	if (unb_pid < 0 || kill_pid < 0) {
		perror("stress: fork");
		return 1;
	}

	/* the shared buffer, and the device bound and attached */
	g_buf = mmap(NULL, BUFPAGES * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (g_buf == MAP_FAILED) {
		perror("stress: buffer");
		return 1;
	}
	mlock(g_buf, BUFPAGES * PG);
	read_pagemap();
	if (!g_pa[0])
		printf("# pagemap gives no physical addresses: GET_PA answers are checked for offsets only\n");
	ds.ctx = open(g_ctxnode, O_RDWR | O_CLOEXEC);
	ds.req = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ds.ctx < 0 || ds.req < 0 || vcn_ioas_alloc(ds.ctx, &ds.ioas) || device_up()) {
		check(0, "stress: the device opens, binds, registers REQ and attaches (%s)",
		      strerror(errno));
		sh->stop = 1;
		close(tok_w);
		wait_child(unb_pid, 5000, &st);
		wait_child(kill_pid, 25000, &st);
		return 1;
	}

	/* threads: mappers, the second context, REQ */
	nthr = nthreads + 2;
	memset(thr, 0, sizeof(thr));
	g_t0 = vcn_now_ms();
	for (i = 0; i < nthr; i++) {
		void *(*fn)(void *) = i < nthreads ? mapper :
				      i == nthreads ? ctx2_thread : req_thread;

		thr[i].idx = i;
		thr[i].seed = (seed + 0x9e3779b97f4a7c15ULL * (i + 1)) | 1;
		last[i] = 0;
		changed[i] = g_t0;
		if (pthread_create(&thr[i].th, NULL, fn, &thr[i])) {
			perror("stress: pthread_create");
			return 1;
		}
	}

	/* run, watching for a thread or the unbind that stops moving */
	while (vcn_now_ms() - g_t0 < (uint64_t)seconds * 1000 && stalled < 0 && !hung) {
		uint64_t now;

		vcn_sleep_us(200000);
		now = vcn_now_ms();
		for (i = 0; i < nthr; i++) {
			if (thr[i].progress != last[i]) {
				last[i] = thr[i].progress;
				changed[i] = now;
			} else if (now - changed[i] > STALL_SECONDS * 1000ULL) {
				stalled = i;
			}
		}
		if (sh->unbind_busy && now - sh->unbind_start_ms > 60000)
			hung = 1;
	}
	if (stalled >= 0 || hung) {
		vcn_dump_stacks(hung ? "an unbind has been blocked for 60 s" :
				   "a thread made no progress for 30 s");
		check(0, "stress: nothing hangs (%s)", hung ? "unbind" : "thread");
		fflush(stdout);
		_exit(2);
	}

	/* stop: children first, while the REQ thread still answers */
	g_stop = 1;
	sh->stop = 1;
	for (i = 0; i < nthreads + 1; i++)
		pthread_join(thr[i].th, NULL);
	{
		int unb_done = wait_child(unb_pid, 40000, &st), ok = unb_done;

		if (unb_done)
			ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		if (!unb_done) {	/* an unbind still blocked: let go of the device */
			vcn_dump_stacks("the unbinder did not finish within 40 s");
			pthread_mutex_lock(&ds.lock);
			if (ds.dev >= 0)
				close(ds.dev);
			ds.dev = -1;
			pthread_mutex_unlock(&ds.lock);
			if (!wait_child(unb_pid, 20000, &st)) {
				check(0, "stress: the unbind/rebind child finishes");
				fflush(stdout);
				_exit(2);
			}
		}
		check(ok, "stress: the unbind/rebind child finished cleanly");
	}
	{
		int kd = wait_child(kill_pid, 30000, &st);

		if (!kd) {
			kill(kill_pid, SIGKILL);
			kd = wait_child(kill_pid, 10000, &st) ? -1 : 0;
		}
		check(kd == 1 && WIFEXITED(st) && !WEXITSTATUS(st),
		      "stress: the owner-killing child finished cleanly");
	}
	/* the REQ thread: finish a reopen in progress, then stop */
	{
		uint64_t t0 = vcn_now_ms();

		while (ds.dev < 0 && vcn_now_ms() - t0 < REBIND_TIMEOUT_MS + 2000)
			vcn_sleep_us(10000);
	}
	g_req_stop = 1;
	pthread_join(thr[nthreads + 1].th, NULL);
	secs = (vcn_now_ms() - g_t0) / 1000.0;

	/* the device must be usable: bound, attached, GET_PA working */
	{
		uint64_t iova = WIN_BASE + WIN_PAGES * PG, len = PG, pa = 0;
		struct vcn_dev d = { .dev = ds.dev, .ctx = ds.ctx, .ioas = ds.ioas };
		int ok = ds.dev >= 0 && ds.attached;

		if (ok) {
			unmap_range(ds.ctx, ds.ioas, 0, UINT64_MAX);
			ok = !map_fixed(ds.ctx, ds.ioas, g_buf, PG, &iova, 1) &&
			     !vcn_get_pa(&d, iova, &len, &pa) &&
			     (!g_pa[0] || pa == vcn_pagemap_pa(g_buf)) &&
			     !unmap_range(ds.ctx, ds.ioas, iova, PG);
		}
		check(ok, "stress: afterwards the device is bound and attached, and GET_PA works");
	}

	/* close everything */
	if (ds.dev >= 0)
		close(ds.dev);
	close(ds.ctx);
	close(ds.req);
	close(tok_w);
	munlock(g_buf, BUFPAGES * PG);

	for (i = 0; i < S_N; i++)
		total += g_count[i];
	total += sh->unbinds + sh->binds + sh->kills;
	printf("stress: map %llu, unmap %llu, get_pa %llu (%llu answers checked), attach/detach %llu, second context %llu reopens / %llu ops, REQ %llu, reopen %llu, unbind %llu, rebind %llu (%llu raced), owners killed %llu (%llu maps): %llu ops, %.1f s\n",
	       (unsigned long long)g_count[S_MAP], (unsigned long long)g_count[S_UNMAP],
	       (unsigned long long)g_count[S_GET_PA], (unsigned long long)g_pa_checked,
	       (unsigned long long)g_count[S_ATTACH],
	       (unsigned long long)g_count[S_CTX2_OPEN], (unsigned long long)g_count[S_CTX2_OP],
	       (unsigned long long)g_count[S_REQ], (unsigned long long)g_count[S_REOPEN],
	       (unsigned long long)sh->unbinds, (unsigned long long)sh->binds,
	       (unsigned long long)sh->races, (unsigned long long)sh->kills,
	       (unsigned long long)sh->owner_maps, (unsigned long long)total, secs);
	printf("# longest unbind %llu ms\n", (unsigned long long)sh->unbind_max_ms);

	check(!g_unexpected, "stress: MAP/UNMAP/GET_PA/ATTACH gave only expected answers (%llu unexpected%s%s)",
	      (unsigned long long)g_unexpected, g_first_err[0] ? ", first: " : "", g_first_err);
	check(g_pa_checked > 0 && !g_pa_bad,
	      "stress: every GET_PA answer is a page of the buffer at the right offset (%llu checked, %llu bad)",
	      (unsigned long long)g_pa_checked, (unsigned long long)g_pa_bad);
	check(sh->unbinds > 0 && sh->binds == sh->unbinds && !sh->bind_fails &&
	      g_count[S_REQ] > 0 && g_count[S_REOPEN] > 0 && !sh->child_errors,
	      "stress: the device was unbound and rebound under load, every REQ answered (%llu unbinds, %llu REQ%s%s)",
	      (unsigned long long)sh->unbinds, (unsigned long long)g_count[S_REQ],
	      sh->msg[0] ? "; child: " : "", sh->msg);
	check(sh->unbind_max_ms < 25000, "stress: no unbind waited 25 s or more (longest %llu ms)",
	      (unsigned long long)sh->unbind_max_ms);
	check(sh->kills > 0 && !sh->reap_hang, "stress: %llu owners killed with live mappings, all reaped",
	      (unsigned long long)sh->kills);
	check(g_count[S_CTX2_OPEN] > 1, "stress: the second context was closed and reopened (%llu times)",
	      (unsigned long long)g_count[S_CTX2_OPEN]);
	check(driver_is_ours() && vcn_dev_node(g_bdf), "stress: %s is bound to vfio-cdev-noiommu at the end", g_bdf);
	check_nothing_left("stress");
	return checks_failed ? 1 : 0;
}
