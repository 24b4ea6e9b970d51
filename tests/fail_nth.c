// SPDX-License-Identifier: GPL-2.0
/*
 * fail_nth.c - every error path of the uAPI under systematic fault
 * injection, in the spirit of upstream's iommufd_fail_nth selftest.
 *
 * A scenario is a sequence of steps (open the context, open the device,
 * BIND, IOAS_ALLOC, ATTACH, MAP, ...) with one step under test. For
 * N = 1, 2, 3, ... the scenario runs normally up to that step, N is written
 * to /proc/thread-self/fail-nth right before its one syscall, so the Nth
 * fault-injection point the kernel reaches in that syscall fails (a slab or
 * page allocation, a copy from or to user memory: failslab,
 * fail_page_alloc, fail_usercopy, configured by tests/guest/failnth.sh),
 * and then:
 *   - the syscall must have succeeded or failed with a sane errno
 *     (ENOMEM, EFAULT, EINTR, ENOSPC, ...);
 *   - if it succeeded, the rest of the scenario must work on its result;
 *   - after everything is torn down nothing may be left: the module's
 *     debugfs counters are back to their baseline, the process's VmPin is 0,
 *     no page of the buffer is still pinned (see leaked_pins()),
 *     /proc/interrupts has no vfio- line, the kernel log has no splat;
 *   - a following normal run of the whole scenario must succeed.
 * The sweep of a scenario ends at the first N whose fault was not reached
 * (fail-nth does not read back 0 after the syscall): N - 1 points were
 * covered. A cap (VCN_FAILNTH_MAX, default 400) bounds it.
 *
 * Runs as root in the guest with the module loaded and a QEMU edu device
 * (1234:11e8) bound: VCN_BDF, default the first edu. Arguments: fnmatch
 * patterns selecting scenarios, "!pattern" leaving some out. VCN_VERBOSE=1
 * prints every injection.
 * Each scenario runs in a child process, so its VmPin is its own.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <signal.h>
#include <sys/wait.h>

#include "vcn_dev.h"

#define PG		4096UL
#define MAP_PAGES	4	/* "a few pages" */
#define LARGE_PAGES	1100	/* > one pin batch, > one page of runs */

/* ---------------- fail-nth ---------------- */

static int nth_fd = -1;
static unsigned int g_arm;	/* N to arm before the next INJ() syscall */
static int g_injected;		/* the armed fault was reached in it */

static void die(const char *what)
{
	printf("# fail_nth: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	_exit(2);
}

static void nth_write(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n), i;

	/* writing can itself hit the armed count (copy_from_user): retry */
	for (i = 0; i < 3; i++)
		if (pwrite(nth_fd, buf, len, 0) == len)
			return;
	die("write /proc/thread-self/fail-nth");
}

/*
 * Read back the count: "0" means the fault was injected. If the count was
 * still running, this read or the write that disarms may reach it
 * themselves (EFAULT); either way the syscall under test did not.
 */
static int nth_disarm(void)
{
	char buf[32] = "";
	ssize_t r = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	int injected = r > 0 && buf[0] == '0';

	nth_write(0);
	return injected;
}

/* run one syscall, armed with g_arm if set */
#define INJ(expr)							\
	({								\
		long _r;						\
		int _e;							\
		if (g_arm)						\
			nth_write(g_arm);				\
		_r = (long)(expr);					\
		_e = errno;						\
		if (g_arm) {						\
			g_injected = nth_disarm();			\
			g_arm = 0;					\
		}							\
		errno = _e;						\
		_r;							\
	})

/* ---------------- what must be back to baseline ---------------- */

static const char *stat_names[] = {
	"mapped_bytes", "pinned_pages", "areas", "table_bytes",
};
#define NSTATS (sizeof(stat_names) / sizeof(stat_names[0]))
static long long stat_base[NSTATS];

static int read_stats(long long *v)
{
	char key[64];
	long long x;
	unsigned int i, found = 0;
	FILE *f = fopen("/sys/kernel/debug/vfio_cdev_noiommu/stats", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &x) == 2)
		for (i = 0; i < NSTATS; i++)
			if (!strcmp(key, stat_names[i])) {
				v[i] = x;
				found++;
			}
	fclose(f);
	return found == NSTATS ? 0 : -1;
}


/* a /proc/interrupts line naming one of the module's handlers */
static int vfio_irq_line(char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/interrupts", "r");
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "vfio-")) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line);
			found = 1;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

/* ---------------- kernel log ---------------- */

static int kmsg_fd = -1;

static int is_splat(const char *s)
{
	static const char *const pat[] = {
		"BUG:", "WARNING:", "Oops", "Call Trace", "general protection",
		"refcount_t:", "list_add corruption", "list_del corruption",
		"UBSAN", "KASAN", "kernel BUG", "possible circular",
		"unreferenced object",
	};
	unsigned int i;

	for (i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
		if (strstr(s, pat[i]))
			return 1;
	return 0;
}

/*
 * Two reports in the log come from the kernel's own handling of an
 * injected failure and are no bug of the module:
 *  - warn_alloc()'s report of a failed allocation whose caller did not pass
 *    __GFP_NOWARN (a stack dump, no WARN);
 *  - 6.1's register_irq_proc() ignores a failure to create a /proc/irq/N
 *    entry, and unregister_irq_proc() then WARNs in remove_proc_entry()
 *    ("name 'affinity_hint'") when the vector is freed: any request_irq()
 *    user hits it.
 * They are counted and noted once; everything else that looks like a
 * splat fails the scenario and is printed with what follows it.
 */
static int is_alloc_warning(const char *s)
{
	return strstr(s, "page allocation failure:") || strstr(s, "vmalloc error:");
}

#define KMSG_LINES	4096
static char *klines[KMSG_LINES];
static unsigned int nklines, alloc_warnings, irq_proc_warnings;

static void kmsg_read(void)
{
	char rec[2048];
	ssize_t r;

	for (;;) {
		r = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (r <= 0)
			break;
		rec[r] = 0;
		char *msg = strchr(rec, ';');

		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (nklines < KMSG_LINES)
			klines[nklines++] = strdup(msg);
	}
}

/* first line at or after @i containing @what, or nklines */
static unsigned int kmsg_find(unsigned int i, const char *what)
{
	while (i < nklines && !strstr(klines[i], what))
		i++;
	return i;
}

static int kmsg_block_has(unsigned int from, unsigned int to, const char *what)
{
	for (; from <= to && from < nklines; from++)
		if (strstr(klines[from], what))
			return 1;
	return 0;
}

/* new kernel log records since the last call; prints and counts splats */
static int kmsg_check(const char *scen, unsigned int n)
{
	int verbose = !!getenv("VCN_VERBOSE"), splats = 0;
	unsigned int i, j;

	if (kmsg_fd < 0)
		return 0;
	kmsg_read();
	for (i = 0; i < nklines; i++) {
		if (is_alloc_warning(klines[i])) {
			if (!alloc_warnings++ || verbose)
				printf("#   note: %s N=%u: %s (warn_alloc: no bug)\n",
				       scen, n, klines[i]);
			i = kmsg_find(i, "</TASK>");
			continue;
		}
		if (strstr(klines[i], "cut here")) {
			j = kmsg_find(i, "end trace");
			if (kmsg_block_has(i, j, "remove_proc_entry") &&
			    kmsg_block_has(i, j, "unregister_irq_proc")) {
				if (!irq_proc_warnings++ || verbose)
					printf("#   note: %s N=%u: %s %s (6.1's irq proc, no module bug)\n",
					       scen, n, klines[i + 1],
					       i + 2 < nklines ? klines[i + 2] : "");
				i = j;
				continue;
			}
		}
		if (is_splat(klines[i])) {
			splats++;
			for (j = i; j < nklines && j < i + 70; j++)
				printf("#   kernel after %s N=%u: %s\n", scen, n,
				       klines[j]);
			break;
		}
	}
	for (i = 0; i < nklines; i++)
		free(klines[i]);
	nklines = 0;
	return splats;
}

/* ---------------- the steps ---------------- */

struct st {
	int ctx, dev, efd;
	uint32_t devid, ioas, pt;
	uint8_t *buf;
	size_t buflen;
	uint64_t iova, maplen;
};

static const char *dev_node, *ctx_node;

static int op_open_ctx(struct st *s)
{
	s->ctx = INJ(open(ctx_node, O_RDWR | O_CLOEXEC));
	return s->ctx < 0 ? -1 : 0;
}

static int op_open_dev(struct st *s)
{
	s->dev = INJ(open(dev_node, O_RDWR | O_CLOEXEC));
	return s->dev < 0 ? -1 : 0;
}

static int op_bind(struct st *s)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b), .iommufd = s->ctx,
	};
	int r = INJ(ioctl(s->dev, VFIO_DEVICE_BIND_IOMMUFD, &b));

	s->devid = b.out_devid;
	return r;
}

static int op_ioas_alloc(struct st *s)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int r = INJ(ioctl(s->ctx, IOMMU_IOAS_ALLOC, &a));

	s->ioas = a.out_ioas_id;
	return r;
}

static int op_iova_ranges(struct st *s)
{
	struct iommu_iova_range range[2] = {};
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q), .ioas_id = s->ioas, .num_iovas = 2,
		.allowed_iovas = (uintptr_t)range,
	};
	int r = INJ(ioctl(s->ctx, IOMMU_IOAS_IOVA_RANGES, &q));

	if (!r && (q.num_iovas != 1 || range[0].last != UINT64_MAX)) {
		printf("#   IOVA_RANGES: %u ranges, last %#llx\n", q.num_iovas,
		       (unsigned long long)range[0].last);
		errno = EPROTO;
		return -1;
	}
	return r;
}

static int op_attach(struct st *s)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a), .pt_id = s->ioas,
	};
	int r = INJ(ioctl(s->dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));

	s->pt = a.pt_id;
	return r;
}

static int op_detach(struct st *s)
{
	struct vfio_device_detach_iommufd_pt d = { .argsz = sizeof(d) };

	return INJ(ioctl(s->dev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
}

static int buf_alloc(struct st *s, size_t pages, int scatter)
{
	size_t i;

	s->buflen = pages * PG;
	s->buf = mmap(NULL, s->buflen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | (scatter ? 0 : MAP_POPULATE),
		      -1, 0);
	if (s->buf == MAP_FAILED) {
		s->buf = NULL;
		return -1;
	}
	/* touched last page first: physically scattered, many runs */
	for (i = pages; scatter && i--; )
		s->buf[i * PG] = (uint8_t)i;
	return 0;
}

static int op_buf(struct st *s)
{
	return buf_alloc(s, MAP_PAGES, 0);
}

static int op_buf_large(struct st *s)
{
	return buf_alloc(s, LARGE_PAGES, 1);
}

static int op_map(struct st *s)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = s->ioas, .user_va = (uintptr_t)s->buf,
		.length = s->buflen,
	};
	int r = INJ(ioctl(s->ctx, IOMMU_IOAS_MAP, &m));

	if (!r) {
		s->iova = m.iova;
		s->maplen = s->buflen;
	}
	return r;
}

static int op_get_pa(struct st *s)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = s->ioas, .iova = s->iova,
		.length = s->maplen,
	};
	int r = INJ(ioctl(s->ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g));

	if (!r && (!g.length || g.length > s->maplen || !g.out_phys)) {
		printf("#   GET_PA: length %#llx phys %#llx\n",
		       (unsigned long long)g.length,
		       (unsigned long long)g.out_phys);
		errno = EPROTO;
		return -1;
	}
	return r;
}

/* after an unmap: the IOVA must be gone */
static int op_get_pa_gone(struct st *s)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = s->ioas, .iova = s->iova,
		.length = PG,
	};

	if (!ioctl(s->ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g)) {
		printf("#   GET_PA of an unmapped IOVA succeeded\n");
		errno = EPROTO;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return 0;
}

static int op_unmap(struct st *s)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = s->ioas, .iova = s->iova,
		.length = s->maplen,
	};
	int r = INJ(ioctl(s->ctx, IOMMU_IOAS_UNMAP, &u));

	if (!r && u.length != s->maplen) {
		printf("#   UNMAP: %#llx bytes of %#llx\n",
		       (unsigned long long)u.length,
		       (unsigned long long)s->maplen);
		errno = EPROTO;
		return -1;
	}
	return r;
}

static int op_destroy_ioas(struct st *s)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = s->ioas };

	return INJ(ioctl(s->ctx, IOMMU_DESTROY, &d));
}

static int op_eventfd(struct st *s)
{
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return s->efd < 0 ? -1 : 0;
}

/* built before the call: nothing may allocate between arming and it */
static int set_irqs(struct st *s, unsigned int index, int enable)
{
	union {
		struct vfio_irq_set s;
		uint8_t b[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u;
	int32_t fd = s->efd;

	memset(&u, 0, sizeof(u));
	u.s.argsz = enable ? sizeof(u) : sizeof(u.s);
	u.s.flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		    (enable ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	u.s.index = index;
	u.s.count = enable ? 1 : 0;
	memcpy(u.b + sizeof(u.s), &fd, sizeof(fd));
	return INJ(ioctl(s->dev, VFIO_DEVICE_SET_IRQS, &u));
}

static int op_msi(struct st *s)
{
	return set_irqs(s, VFIO_PCI_MSI_IRQ_INDEX, 1);
}

static int op_msi_off(struct st *s)
{
	return set_irqs(s, VFIO_PCI_MSI_IRQ_INDEX, 0);
}

static int op_intx(struct st *s)
{
	return set_irqs(s, VFIO_PCI_INTX_IRQ_INDEX, 1);
}

static int op_intx_off(struct st *s)
{
	return set_irqs(s, VFIO_PCI_INTX_IRQ_INDEX, 0);
}

/* an enabled MSI shows in /proc/interrupts under the module's name */
static int op_irq_listed(struct st *s)
{
	char line[512];

	(void)s;
	if (vfio_irq_line(line, sizeof(line)))
		return 0;
	printf("#   no vfio- line in /proc/interrupts\n");
	errno = EPROTO;
	return -1;
}

static int op_close_dev(struct st *s)
{
	int r = INJ(close(s->dev));

	s->dev = -1;
	return r;
}

static int op_close_ctx(struct st *s)
{
	int r = INJ(close(s->ctx));

	s->ctx = -1;
	return r;
}

/*
 * A page still pinned after everything was closed (a leaked pin, which no
 * counter shows when the map that took it failed) is copied at fork rather
 * than shared, as for any DMA-pinned anonymous page: the child then finds
 * another page frame there than the parent. Returns how many pages differ.
 */
static uint64_t pfn_buf[2][LARGE_PAGES];

static int pagemap_pfns(const uint8_t *buf, size_t pages, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t i, len = pages * sizeof(uint64_t);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = pread(fd, pfn, len, (uintptr_t)buf / PG * sizeof(uint64_t));
	close(fd);
	if (r != (ssize_t)len)
		return -1;
	for (i = 0; i < pages; i++)	/* present: the frame; else 0 */
		pfn[i] = pfn[i] >> 63 ? pfn[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

static int leaked_pins(const uint8_t *buf, size_t len)
{
	size_t pages = len / PG, i;
	int status, n = 0;
	pid_t pid;

	if (pages > LARGE_PAGES || pagemap_pfns(buf, pages, pfn_buf[0]))
		return 0;	/* cannot tell */
	pid = fork();
	if (pid == 0) {
		if (pagemap_pfns(buf, pages, pfn_buf[1]))
			_exit(0);
		for (i = 0; i < pages; i++)
			if (pfn_buf[0][i] && pfn_buf[1][i] != pfn_buf[0][i])
				n++;
		_exit(n > 255 ? 255 : n);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return 0;
	return WEXITSTATUS(status);
}

static int pins_left;	/* pages of the last torn-down buffer still pinned */
static int pin_check = 1;

static void teardown(struct st *s)
{
	if (s->dev >= 0)
		close(s->dev);
	if (s->ctx >= 0)
		close(s->ctx);
	if (s->efd >= 0)
		close(s->efd);
	pins_left = 0;
	if (s->buf) {
		pins_left = pin_check ? leaked_pins(s->buf, s->buflen) : 0;
		munmap(s->buf, s->buflen);
	}
	s->dev = s->ctx = s->efd = -1;
	s->buf = NULL;
}

/* the detector must see the pins of a live mapping, else it is off */
static void pin_check_calibrate(void)
{
	struct st s = { .ctx = -1, .dev = -1, .efd = -1 };
	int seen = -1;

	if (!op_open_ctx(&s) && !op_ioas_alloc(&s) && !op_buf(&s) && !op_map(&s))
		seen = leaked_pins(s.buf, s.buflen);
	if (seen != MAP_PAGES) {
		printf("# fail_nth: a mapping of %d pages shows %d pinned at fork: pin check off\n",
		       MAP_PAGES, seen);
		pin_check = 0;
	}
	teardown(&s);
}

/* ---------------- scenarios ---------------- */

struct op {
	const char *name;
	int (*fn)(struct st *s);
};

#define OP(x)	{ #x, op_##x }
#define END	{ NULL, NULL }
#define MAXOPS	16

struct scenario {
	const char *name;
	unsigned int test;	/* index of the step under test */
	struct op ops[MAXOPS];	/* steps after it run only if it succeeded */
};

#define OPEN		OP(open_ctx), OP(open_dev), OP(bind)
#define ATTACHED	OPEN, OP(ioas_alloc), OP(attach)
#define MAPPED		ATTACHED, OP(buf), OP(map)

static const struct scenario scenarios[] = {
	{ "open_ctx", 0, { OP(open_ctx), OP(open_dev), OP(bind), END } },
	{ "open_dev", 1, { OP(open_ctx), OP(open_dev), OP(bind), END } },
	{ "bind", 2, { OPEN, OP(ioas_alloc), OP(attach), END } },
	{ "ioas_alloc", 1, { OP(open_ctx), OP(ioas_alloc), OP(iova_ranges),
			     OP(open_dev), OP(bind), OP(attach), END } },
	{ "iova_ranges", 2, { OP(open_ctx), OP(ioas_alloc), OP(iova_ranges),
			      END } },
	{ "attach", 4, { ATTACHED, OP(buf), OP(map), OP(get_pa), END } },
	{ "detach", 5, { ATTACHED, OP(detach), OP(destroy_ioas), END } },
	{ "map", 6, { MAPPED, OP(get_pa), OP(unmap), END } },
	{ "map_large", 6, { ATTACHED, OP(buf_large), OP(map), OP(get_pa),
			    OP(unmap), END } },
	{ "get_pa", 7, { MAPPED, OP(get_pa), OP(unmap), END } },
	{ "unmap", 7, { MAPPED, OP(unmap), OP(get_pa_gone), END } },
	{ "set_irqs_msi", 4, { OPEN, OP(eventfd), OP(msi), OP(irq_listed),
			       OP(msi_off), END } },
	{ "set_irqs_msi_off", 5, { OPEN, OP(eventfd), OP(msi), OP(msi_off),
				   OP(msi), END } },
	{ "set_irqs_intx", 4, { OPEN, OP(eventfd), OP(intx), OP(irq_listed),
				OP(intx_off), END } },
	{ "destroy", 6, { OPEN, OP(ioas_alloc), OP(buf), OP(map),
			  OP(destroy_ioas), END } },
	{ "close_dev_first", 9, { MAPPED, OP(eventfd), OP(msi), OP(close_dev),
				  OP(close_ctx), END } },
	{ "close_ctx_first", 9, { MAPPED, OP(eventfd), OP(msi), OP(close_ctx),
				  OP(close_dev), END } },
	{ "close_dev_last", 10, { MAPPED, OP(eventfd), OP(msi), OP(close_ctx),
				  OP(close_dev), END } },
	{ "close_ctx_unbound", 4, { OP(open_ctx), OP(ioas_alloc), OP(buf),
				    OP(map), OP(close_ctx), END } },
};

/* what an injected allocation or copy failure may surface as */
static int sane_errno(int e)
{
	return e == ENOMEM || e == EFAULT || e == EINTR || e == ENOSPC ||
	       e == EAGAIN || e == ENOBUFS;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "?";
}

static int check_clean(const char *scen, unsigned int n, const char *when)
{
	long long v[NSTATS];
	char line[512];
	unsigned int i;
	int bad = 0;
	long kb;

	if (read_stats(v)) {
		printf("#   %s N=%u %s: cannot read the module's stats\n", scen, n, when);
		return 1;
	}
	for (i = 0; i < NSTATS; i++)
		if (v[i] != stat_base[i]) {
			printf("#   %s N=%u %s: %s %lld, baseline %lld\n", scen, n,
			       when, stat_names[i], v[i], stat_base[i]);
			bad = 1;
		}
	kb = vcn_vmpin_kb();
	if (kb != 0) {
		printf("#   %s N=%u %s: VmPin %ld kB\n", scen, n, when, kb);
		bad = 1;
	}
	if (pins_left) {
		printf("#   %s N=%u %s: %d pages of the buffer still pinned\n",
		       scen, n, when, pins_left);
		bad = 1;
	}
	if (vfio_irq_line(line, sizeof(line))) {
		printf("#   %s N=%u %s: /proc/interrupts: %s\n", scen, n, when, line);
		bad = 1;
	}
	return bad;
}

/*
 * Run the scenario; arm fail-nth with @nth (0: a normal run) before the
 * step under test. Returns 0 if every step that ran behaved; *injected says
 * whether the fault was reached, *err the errno of the step (0: succeeded).
 */
static int run_once(const struct scenario *sc, unsigned int nth, int *injected,
		    int *err)
{
	struct st s = { .ctx = -1, .dev = -1, .efd = -1 };
	unsigned int i;
	int bad = 0;

	*injected = 0;
	*err = 0;
	for (i = 0; i < MAXOPS && sc->ops[i].fn; i++) {
		int r, e;

		if (i == sc->test) {
			g_arm = nth;
			g_injected = 0;
		}
		r = sc->ops[i].fn(&s);
		e = errno;
		g_arm = 0;
		if (i == sc->test) {
			*injected = g_injected;
			if (r) {
				*err = e;
				if (!nth || !sane_errno(e) || !g_injected) {
					printf("#   %s N=%u: %s -> %s (%s)%s\n",
					       sc->name, nth, sc->ops[i].name,
					       ename(e), strerror(e),
					       nth && !g_injected ?
					       ", fault not injected" : "");
					bad = 1;
				}
				break;	/* nothing after it makes sense */
			}
			continue;
		}
		if (r) {
			printf("#   %s N=%u: %s step %s -> %s (%s)\n", sc->name,
			       nth, i < sc->test ? "setup" : "follow-up",
			       sc->ops[i].name, ename(e), strerror(e));
			bad = 1;
			break;
		}
	}
	teardown(&s);
	return bad;
}

struct tally {
	unsigned int ok, by_errno[256];
};

static int run_scenario(const struct scenario *sc, unsigned int cap, int verbose)
{
	struct tally t = {};
	unsigned int n = 0, points = 0, i;
	uint64_t t0 = vcn_now_ms();
	int injected, err, bad = 0, capped = 0;
	char sum[1024];
	size_t off;

	/* a normal run first: the scenario itself must work */
	bad |= run_once(sc, 0, &injected, &err);
	bad |= check_clean(sc->name, 0, "after a normal run");
	bad |= kmsg_check(sc->name, 0) != 0;
	if (bad) {
		printf("#   %s: the scenario fails without fault injection\n", sc->name);
		goto out;
	}
	for (n = 1;; n++) {
		if (n > cap) {
			capped = 1;
			break;
		}
		bad |= run_once(sc, n, &injected, &err);
		/* the run past the last point is checked like the others */
		bad |= check_clean(sc->name, n, injected ? "after the injected run" :
				   "after the run past the last point");
		if (kmsg_check(sc->name, n)) {
			printf("#   %s N=%u: kernel splat (step %s -> %s)\n",
			       sc->name, n, sc->ops[sc->test].name,
			       err ? ename(err) : "succeeded");
			bad = 1;
		}
		if (!injected)
			break;
		points++;
		if (err)
			t.by_errno[err & 255]++;
		else
			t.ok++;
		if (verbose)
			printf("#   %s N=%u: %s\n", sc->name, n,
			       err ? ename(err) : "succeeded");
		if (bad)
			break;
		if (run_once(sc, 0, &injected, &err)) {
			printf("#   %s N=%u: the normal run after it failed\n",
			       sc->name, n);
			bad = 1;
		}
		bad |= check_clean(sc->name, n, "after the following normal run");
		bad |= kmsg_check(sc->name, n) != 0;
		if (bad)	/* one broken state spoils every later point */
			break;
	}
out:
	off = snprintf(sum, sizeof(sum), "%u succeeded", t.ok);
	for (i = 0; i < 256 && off < sizeof(sum); i++)
		if (t.by_errno[i])
			off += snprintf(sum + off, sizeof(sum) - off, ", %u %s",
					t.by_errno[i], ename(i));
	if (capped)
		printf("fail_nth: %s: %u injection points, capped at %u: not all covered\n",
		       sc->name, points, cap);
	else if (!bad)
		printf("fail_nth: %s: %u injection points, all covered\n",
		       sc->name, points);
	else
		printf("fail_nth: %s: stopped at N=%u of %u points seen\n",
		       sc->name, n, points);
	printf("# fail_nth: %s: %s%s; %.1f s\n", sc->name, sum,
	       alloc_warnings || irq_proc_warnings ?
	       "; kernel warnings of no module bug in the log (noted above)" : "",
	       (vcn_now_ms() - t0) / 1000.0);
	printf("%s - fail_nth %s%s\n", bad ? "not ok" : "ok", sc->name,
	       capped ? " # capped" : "");
	fflush(stdout);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *bdf = getenv("VCN_BDF"), *e;
	unsigned int cap = 400, i;
	int verbose = !!getenv("VCN_VERBOSE"), failed = 0, ran = 0;
	uint64_t t0 = vcn_now_ms();

	setvbuf(stdout, NULL, _IOLBF, 0);
	e = getenv("VCN_FAILNTH_MAX");
	if (e && atoi(e) > 0)
		cap = atoi(e);
	if (!bdf)
		bdf = vcn_find_bdf(0x1234, 0x11e8);
	dev_node = bdf ? vcn_dev_node(bdf) : NULL;
	ctx_node = vcn_ictx_node();
	if (!dev_node) {
		printf("not ok - fail_nth: no vfio-cdev-noiommu node for %s\n",
		       bdf ? bdf : "(no edu device)");
		return 1;
	}
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		die("open /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION?)");
	if (read_stats(stat_base))
		die("read /sys/kernel/debug/vfio_cdev_noiommu/stats");
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	printf("# fail_nth: %s (%s), context %s, at most %u points a scenario\n",
	       bdf, dev_node, ctx_node, cap);
	pin_check_calibrate();

	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		int match = 1, j, status;
		pid_t pid;

		/* patterns select; "!pattern" leaves out */
		for (j = 1; j < argc; j++)
			if (argv[j][0] != '!')
				match = 0;
		for (j = 1; j < argc; j++) {
			if (argv[j][0] == '!' &&
			    !fnmatch(argv[j] + 1, scenarios[i].name, 0))
				break;
			if (argv[j][0] != '!')
				match |= !fnmatch(argv[j], scenarios[i].name, 0);
		}
		if (!match || j < argc)
			continue;
		ran++;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			/* fail-nth is per task: the child opens its own */
			close(nth_fd);
			nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
			if (nth_fd < 0)
				die("open /proc/thread-self/fail-nth");
			_exit(run_scenario(&scenarios[i], cap, verbose));
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0)
			status = -1;
		if (status) {
			failed++;
			/* exit 1: the child printed its not ok line */
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 1) {
				if (WIFSIGNALED(status))
					printf("#   killed by signal %d\n",
					       WTERMSIG(status));
				printf("not ok - fail_nth %s\n", scenarios[i].name);
			}
		}
	}
	printf("# fail_nth: %d scenarios, %d failed, %.1f s\n", ran, failed,
	       (vcn_now_ms() - t0) / 1000.0);
	return failed;
}
