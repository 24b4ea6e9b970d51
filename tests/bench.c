// SPDX-License-Identifier: GPL-2.0
/*
 * bench.c - how fast and how small the module's DMA mapping is, as ratios.
 *
 * Absolute times mean little (the test guests run under TCG), so every
 * figure is the ratio of two measurements taken in this same run, one of
 * them a reference the kernel already has: a null ioctl on the context,
 * a /proc/self/pagemap lookup, mlock+munlock, the same query on a small
 * table, the cost of capable() as two ioctls on a regular file show it.
 * Each measurement repeats one operation for ~0.3 s, three rounds
 * interleaved with the measurements it is compared with; the best round's
 * time per operation counts. Table sizes come from the module's debugfs
 * counters (vfio_cdev_noiommu/stats).
 *
 * Output: "# " lines describe the environment and the raw times; one line
 * per figure, "bench: <name> <value> <unit> (target <op> <x>) PASS|MISS"
 * or "... (info)", then "bench: summary N targets met, M missed".
 * Exit status: 0 whether targets are met or not; 1 when a measurement
 * could not be taken (an ioctl failed, a result was inconsistent).
 *
 * Runs as root against one bound device: VCN_BDF, default the first QEMU
 * edu device (1234:11e8).
 */
#define _GNU_SOURCE
#include <linux/fs.h>		/* FIBMAP, FIGETBSZ */
#include <sys/utsname.h>

#include "vcn_dev.h"
#include "bench.h"

#define PG		4096UL
#define MIB		(1UL << 20)
#define HPAGE		(2UL << 20)


#define BIG_BUF		(64 * MIB)	/* figure 2: mapped BIG_MAPS times */
#define BIG_MAPS	61		/* 61 * 16384 = 999424 pages */
#define BIG_IOVA	0x1000000000ULL
#define MAPUNMAP_LEN	(16 * MIB)	/* figure 3 */
#define TABLE_LEN	(16 * MIB)	/* figure 5, 4 KiB pages */
#define TABLE_ODD_LEN	(4100 * PG)	/* figure 5, info: 16400 bytes of frames */
#define TABLE_HPAGES	8		/* figure 5, hugepages */

#define STATS		"/sys/kernel/debug/vfio_cdev_noiommu/stats"
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

static int met, missed, not_taken;
static long hp_orig = -1;

/* ---------------- reporting ---------------- */

static void figure(const char *name, double v, const char *unit, const char *op,
		   double x)
{
	int ok = op[0] == '<' ? v <= x : v >= x;

	printf("bench: %s %.3f %s (target %s %g) %s\n", name, v, unit, op, x,
	       ok ? "PASS" : "MISS");
	if (ok)
		met++;
	else
		missed++;
}

static void figure_info(const char *name, double v, const char *unit)
{
	printf("bench: %s %.3f %s (info)\n", name, v, unit);
}

static void lost(const char *what)
{
	printf("# %s: could not be measured\n", what);
	not_taken++;
}

/* ---------------- operations ---------------- */

/*
 * ioctls that must fail with b->err: the parts of GET_PA's cost, on the
 * context; with no device, on b->fd
 */
static int op_fail(struct bench *b, unsigned long n, unsigned int cmd, void *arg)
{
	int fd = b->d ? b->d->ctx : b->fd;

	while (n--) {
		if (ioctl(fd, cmd, arg) != -1 || errno != b->err) {
			if (errno == b->err)
				errno = EPROTO;
			return vcn_fail("%s: expected %s", b->name, strerror(b->err));
		}
	}
	return 0;
}

/* IOMMU_DESTROY with size 0: the dispatcher reads size, refuses it, EINVAL */
static int op_null(struct bench *b, unsigned long n)
{
	struct iommu_destroy z = { .size = 0 };

	return op_fail(b, n, IOMMU_DESTROY, &z);
}

/* a ';' number with no command: ENOTTY before the size is read */
static int op_unknown(struct bench *b, unsigned long n)
{
	uint32_t z[8] = {};

	return op_fail(b, n, _IO(';', 0xff), z);
}

/*
 * What capable(CAP_SYS_RAWIO), which GET_PA must call every time, costs
 * here: FIBMAP of block -1 on a regular file is that check, one get_user()
 * and EINVAL; FIGETBSZ on the same file is one put_user() and no check.
 */
static int op_fibmap(struct bench *b, unsigned long n)
{
	int blk = -1;

	return op_fail(b, n, FIBMAP, &blk);
}

static int op_figetbsz(struct bench *b, unsigned long n)
{
	int bsz;

	while (n--) {
		if (ioctl(b->fd, FIGETBSZ, &bsz))
			return vcn_fail("FIGETBSZ");
	}
	return 0;
}

static int op_get_pa_fail(struct bench *b, unsigned long n)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .flags = b->gflags, .ioas_id = b->ioas,
		.iova = b->iova, .length = b->len,
	};

	return op_fail(b, n, IOMMU_IOAS_NOIOMMU_GET_PA, &g);
}

static int op_get_pa(struct bench *b, unsigned long n)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = b->ioas,
	};
	unsigned long i;

	for (i = 0; i < n; i++) {
		g.iova = b->iovas[i % RING];
		g.length = b->len;
		if (ioctl(b->d->ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g))
			return vcn_fail("GET_PA ioas %u iova %#llx", b->ioas,
					(unsigned long long)g.iova);
	}
	return 0;
}

/* GET_PA until every byte of [iova, iova + len) has its physical address */
static int op_get_pa_walk(struct bench *b, unsigned long n)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = b->ioas,
	};
	uint64_t off;

	while (n--) {
		for (off = 0; off < b->len; off += g.length) {
			g.iova = b->iova + off;
			g.length = b->len - off;
			if (ioctl(b->d->ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g))
				return vcn_fail("GET_PA iova %#llx",
						(unsigned long long)g.iova);
			if (!g.length) {
				errno = ERANGE;
				return vcn_fail("GET_PA returned length 0");
			}
		}
	}
	return 0;
}

static int op_pagemap(struct bench *b, unsigned long n)
{
	off_t off = (uintptr_t)b->va / PG * 8;
	uint64_t ent;

	while (n--) {
		if (pread(b->fd, &ent, sizeof(ent), off) != sizeof(ent))
			return vcn_fail("pread /proc/self/pagemap");
	}
	return 0;
}

static int op_map_unmap(struct bench *b, unsigned long n)
{
	uint64_t iova;

	while (n--) {
		iova = b->iova;
		if (vcn_map(b->d, b->va, b->len, &iova, 1) ||
		    vcn_unmap(b->d, b->iova, b->len))
			return -1;
	}
	return 0;
}

static int op_mlock(struct bench *b, unsigned long n)
{
	while (n--) {
		if (mlock(b->va, b->len))
			return vcn_fail("mlock %#llx bytes", (unsigned long long)b->len);
		if (munlock(b->va, b->len))
			return vcn_fail("munlock");
	}
	return 0;
}

/* the device is attached to one IOAS at a time; GET_PA needs it there */
static int attach_to(struct vcn_dev *d, uint32_t ioas)
{
	if (vcn_detach(d->dev))
		return vcn_fail("VFIO_DEVICE_DETACH_IOMMUFD_PT");
	if (vcn_attach(d->dev, ioas, &d->pt))
		return vcn_fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT ioas %u", ioas);
	return 0;
}

static int prep_attach(struct bench *b)
{
	return attach_to(b->d, b->ioas);
}

/* ---------------- memory ---------------- */

/* anonymous memory in 4 KiB pages (no THP), every page faulted in */
static uint8_t *anon4k(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED) {
		vcn_fail("mmap %zu bytes", len);
		return NULL;
	}
	madvise(p, len, MADV_NOHUGEPAGE);	/* EINVAL without THP: fine */
	for (i = 0; i < len; i += PG)
		p[i] = (uint8_t)(i / PG) | 1;
	return p;
}

static uint8_t *anon_huge(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
			  -1, 0);

	if (p == MAP_FAILED) {
		vcn_fail("mmap %zu bytes MAP_HUGETLB", len);
		return NULL;
	}
	memset(p, 1, len);
	return p;
}

/*
 * 4 KiB pages that are unlikely to be physically adjacent: fault in twice
 * as many, give every other one back, then fault the buffer in from what
 * was freed (order-0 pages whose buddies are still in use). *hold keeps the
 * other half allocated until the caller is done.
 */
static uint8_t *anon4k_scattered(size_t len, uint8_t **hold)
{
	size_t i;

	*hold = anon4k(2 * len);
	if (!*hold)
		return NULL;
	for (i = 0; i < 2 * len; i += 2 * PG)
		madvise(*hold + i, PG, MADV_DONTNEED);
	return anon4k(len);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -1;
	r = fprintf(f, "%ld\n", v) < 0;
	r |= fclose(f) != 0;
	return r ? -1 : 0;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

/* free 2 MiB hugetlb pages after asking for @want more; 0 if none */
static long hp_reserve(long want)
{
	hp_orig = read_long(NR_HUGEPAGES);
	if (hp_orig < 0 || write_long(NR_HUGEPAGES, hp_orig + want)) {
		hp_orig = -1;
		return 0;
	}
	if (meminfo_kb("Hugepagesize") != 2048)
		return 0;
	return meminfo_kb("HugePages_Free");
}

static void hp_restore(void)
{
	if (hp_orig >= 0 && write_long(NR_HUGEPAGES, hp_orig))
		printf("# could not restore nr_hugepages to %ld\n", hp_orig);
	hp_orig = -1;
}

/* ---------------- the module's counters ---------------- */

struct stats {
	long long mapped_bytes, pinned_pages, areas, table_bytes;
};

static int stats_read(struct stats *s)
{
	char key[64];
	long long v;
	int seen = 0;
	FILE *f = fopen(STATS, "r");

	if (!f)
		return vcn_fail("open %s", STATS);
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, "mapped_bytes"))
			s->mapped_bytes = v, seen |= 1;
		else if (!strcmp(key, "pinned_pages"))
			s->pinned_pages = v, seen |= 2;
		else if (!strcmp(key, "areas"))
			s->areas = v, seen |= 4;
		else if (!strcmp(key, "table_bytes"))
			s->table_bytes = v, seen |= 8;
	}
	fclose(f);
	if (seen != 15) {
		errno = EPROTO;
		return vcn_fail("%s: missing counters", STATS);
	}
	return 0;
}

/* what mapping @va at @iova adds to the counters; it stays mapped */
static int map_delta(struct vcn_dev *d, void *va, uint64_t len, uint64_t iova,
		     struct stats *delta)
{
	struct stats a, b;

	if (stats_read(&a) || vcn_map(d, va, len, &iova, 1))
		return -1;
	if (stats_read(&b))
		return -1;
	delta->mapped_bytes = b.mapped_bytes - a.mapped_bytes;
	delta->pinned_pages = b.pinned_pages - a.pinned_pages;
	delta->areas = b.areas - a.areas;
	delta->table_bytes = b.table_bytes - a.table_bytes;
	if (delta->pinned_pages != (long long)(len / PG) || delta->areas != 1) {
		errno = EPROTO;
		return vcn_fail("stats moved by %lld pages, %lld areas for one map of %llu pages (another user?)",
				delta->pinned_pages, delta->areas,
				(unsigned long long)(len / PG));
	}
	return 0;
}

/* physically contiguous runs of a mapping, as GET_PA reports them */
static long count_runs(struct vcn_dev *d, uint64_t iova, uint64_t len)
{
	uint64_t off = 0, l, pa;
	long runs = 0;

	while (off < len) {
		l = len - off;
		if (vcn_get_pa(d, iova + off, &l, &pa))
			return -1;
		off += l;
		runs++;
	}
	return runs;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---------------- figures ---------------- */

/* 1: GET_PA of one page against a null ioctl and a pagemap lookup */
static int fig_get_pa_cost(struct vcn_dev *d)
{
	static uint64_t one[RING];
	struct bench null = { .name = "null ioctl (EINVAL)", .run = op_null,
			      .d = d, .err = EINVAL };
	struct bench unk = { .name = "unknown ioctl (ENOTTY)", .run = op_unknown,
			     .d = d, .err = ENOTTY };
	struct bench eflags = { .name = "GET_PA flags=1 EOPNOTSUPP", .d = d,
				.run = op_get_pa_fail, .gflags = 1, .len = PG,
				.err = EOPNOTSUPP };
	struct bench eid = { .name = "GET_PA bad id ENOENT", .d = d,
			     .run = op_get_pa_fail, .ioas = 9999, .len = PG,
			     .err = ENOENT };
	struct bench eiova = { .name = "GET_PA unmapped ENOENT", .d = d,
			       .run = op_get_pa_fail, .ioas = d->ioas,
			       .iova = 0x90000000, .len = PG, .err = ENOENT };
	struct bench gpa = { .name = "GET_PA 1 page", .run = op_get_pa, .d = d,
			     .ioas = d->ioas, .iovas = one, .len = PG };
	struct bench pm = { .name = "pagemap pread", .run = op_pagemap, .d = d };
	struct bench fib = { .name = "FIBMAP(-1) on a file", .run = op_fibmap,
			     .fd = -1, .err = EINVAL };
	struct bench bsz = { .name = "FIGETBSZ on a file", .run = op_figetbsz };
	struct bench *set[] = { &null, &gpa, &pm, &unk, &eflags, &eid, &eiova,
				&fib, &bsz };
	uint64_t iova = 0x80000000, l = PG, pa, ppa;
	double cap;
	uint8_t *buf = anon4k(PG);
	int i, ret = -1;

	if (!buf)
		return -1;
	if (vcn_map(d, buf, PG, &iova, 1))
		goto out;
	for (i = 0; i < RING; i++)
		one[i] = iova;
	pm.va = buf;
	pm.fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm.fd < 0) {
		vcn_fail("open /proc/self/pagemap");
		goto out_unmap;
	}
	/* both sources must agree, or one of them measures the wrong thing */
	ppa = vcn_pagemap_pa(buf);
	if (vcn_get_pa(d, iova, &l, &pa))
		goto out_close;
	if (!ppa || pa != ppa || l != PG) {
		errno = EPROTO;
		vcn_fail("GET_PA says %#llx (+%#llx), pagemap %#llx",
			 (unsigned long long)pa, (unsigned long long)l,
			 (unsigned long long)ppa);
		goto out_close;
	}
	/* this program's own file: a regular file on any filesystem */
	fib.fd = bsz.fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fib.fd < 0) {
		vcn_fail("open /proc/self/exe");
		goto out_close;
	}
	printf("# null ioctl: IOMMU_DESTROY with size 0 on the context fd (EINVAL from the size check)\n");
	eid.iova = iova;
	if (measure(set, sizeof(set) / sizeof(set[0])))
		goto out_close;
	figure("get_pa_vs_null_ioctl", gpa.best / null.best, "x", "<=", 1.2);
	figure("pagemap_vs_get_pa", pm.best / gpa.best, "x", ">=", 3);
	/* where GET_PA's time goes: each error path stops one step further */
	figure_info("unknown_ioctl_vs_null_ioctl", unk.best / null.best, "x");
	figure_info("get_pa_to_cap_check_vs_null", eflags.best / null.best, "x");
	figure_info("get_pa_to_id_lookup_vs_null", eid.best / null.best, "x");
	figure_info("get_pa_to_tree_walk_vs_null", eiova.best / null.best, "x");
	/* the part of GET_PA's cost that the contract fixes: its capable() */
	cap = (fib.best - bsz.best) / null.best;
	figure_info("capable_rawio_vs_null_ioctl", cap, "x");
	figure_info("get_pa_less_capable_vs_null", gpa.best / null.best - cap, "x");
	ret = 0;
out_close:
	if (fib.fd >= 0)
		close(fib.fd);
	close(pm.fd);
out_unmap:
	if (vcn_unmap(d, iova, PG))
		ret = -1;
out:
	munmap(buf, PG);
	return ret;
}

/* 2: GET_PA with one page mapped against ~1M pages mapped */
static int fig_get_pa_flat(struct vcn_dev *d)
{
	static uint64_t one[RING], many[RING];
	struct bench small = { .name = "GET_PA, 1 page mapped", .run = op_get_pa,
			       .prep = prep_attach, .d = d, .iovas = one, .len = PG };
	struct bench big = { .name = "GET_PA, 1M pages mapped", .run = op_get_pa,
			     .prep = prep_attach, .d = d, .iovas = many, .len = PG };
	struct bench *set[] = { &small, &big };
	uint64_t bufpages = BIG_BUF / PG, pages, iova, t, runs = 0;
	uint8_t *one_buf, *buf;
	struct vcn_dev sd;	/* d, mapping into the small IOAS */
	struct stats s0, s1;
	int i, nmaps = 0, ret = -1;
	long r;

	if (vcn_ioas_alloc(d->ctx, &small.ioas))
		return vcn_fail("IOMMU_IOAS_ALLOC");
	one_buf = anon4k(PG);
	buf = anon4k(BIG_BUF);
	if (!one_buf || !buf)
		goto out;
	big.ioas = d->ioas;
	sd = *d;
	sd.ioas = small.ioas;
	iova = 0x80000000;
	if (vcn_map(&sd, one_buf, PG, &iova, 1))
		goto out;
	for (i = 0; i < RING; i++)
		one[i] = iova;

	/* the same buffer at BIG_MAPS IOVAs: as many table entries, less RAM */
	if (stats_read(&s0))
		goto out;
	t = now_ns();
	for (nmaps = 0; nmaps < BIG_MAPS; nmaps++) {
		iova = BIG_IOVA + nmaps * BIG_BUF;
		if (vcn_map(d, buf, BIG_BUF, &iova, 1))
			break;
	}
	t = now_ns() - t;
	if (nmaps < BIG_MAPS && errno != ENOMEM)
		goto out_unmap;
	if (!nmaps)
		goto out_unmap;
	if (stats_read(&s1))
		goto out_unmap;
	pages = nmaps * bufpages;
	r = count_runs(d, BIG_IOVA, BIG_BUF);
	if (r < 0)
		goto out_unmap;
	runs = r;
	printf("# %d maps of one %lu MiB buffer: %llu pages mapped (%lld pinned), %llu runs per map, table %lld bytes, mapping took %.1f ms\n",
	       nmaps, BIG_BUF / MIB, (unsigned long long)pages,
	       s1.pinned_pages - s0.pinned_pages, (unsigned long long)runs,
	       s1.table_bytes - s0.table_bytes, t / 1e6);
	for (i = 0; i < RING; i++)
		many[i] = BIG_IOVA + rng() % pages * PG;

	if (measure(set, 2))
		goto out_unmap;
	figure("get_pa_1m_vs_1_page", big.best / small.best, "x", "<=", 1.5);
	ret = 0;
out_unmap:
	if (attach_to(d, d->ioas))
		ret = -1;
	t = now_ns();
	if (nmaps && vcn_unmap(d, BIG_IOVA, (uint64_t)nmaps * BIG_BUF))
		ret = -1;
	printf("# unmapping %d maps took %.1f ms\n", nmaps, (now_ns() - t) / 1e6);
out:
	/* destroying the IOAS unmaps its page */
	if (vcn_destroy(d->ctx, small.ioas)) {
		vcn_fail("IOMMU_DESTROY ioas %u", small.ioas);
		ret = -1;
	}
	if (buf)
		munmap(buf, BIG_BUF);
	if (one_buf)
		munmap(one_buf, PG);
	return ret;
}

/* 3: MAP+UNMAP against mlock+munlock of the same 4 KiB-page memory */
static int fig_map_speed(struct vcn_dev *d)
{
	struct bench map = { .name = "MAP+UNMAP 16 MiB", .run = op_map_unmap,
			     .d = d, .iova = 0x40000000, .len = MAPUNMAP_LEN };
	struct bench ml = { .name = "mlock+munlock 16 MiB", .run = op_mlock,
			    .d = d, .len = MAPUNMAP_LEN };
	struct bench *set[] = { &map, &ml };
	uint8_t *buf = anon4k(MAPUNMAP_LEN);

	if (!buf)
		return -1;
	map.va = ml.va = buf;
	printf("# MAP+UNMAP vs mlock+munlock: %lu pages of 4 KiB, populated\n",
	       MAPUNMAP_LEN / PG);
	if (measure(set, 2)) {
		munmap(buf, MAPUNMAP_LEN);
		return -1;
	}
	figure("map_unmap_speed_vs_mlock", ml.best / map.best, "x", ">=", 0.8);
	munmap(buf, MAPUNMAP_LEN);
	return 0;
}

/* 4: a 2 MiB hugepage against 2 MiB of 4 KiB pages (informational) */
static int fig_hugepage(struct vcn_dev *d)
{
	static uint64_t hiova[RING], siova[RING];
	struct bench mh = { .name = "MAP+UNMAP 2M hugepage", .run = op_map_unmap,
			    .d = d, .iova = 0x200000000ULL, .len = HPAGE };
	struct bench ms = { .name = "MAP+UNMAP 2M 4k pages", .run = op_map_unmap,
			    .d = d, .iova = 0x300000000ULL, .len = HPAGE };
	struct bench gh = { .name = "GET_PA 2M, hugepage", .run = op_get_pa,
			    .d = d, .ioas = d->ioas, .iovas = hiova, .len = HPAGE };
	struct bench gh4 = { .name = "GET_PA 4K, hugepage", .run = op_get_pa,
			     .d = d, .ioas = d->ioas, .iovas = hiova, .len = PG };
	struct bench gs = { .name = "GET_PA 2M, 4k pages", .run = op_get_pa,
			    .d = d, .ioas = d->ioas, .iovas = siova, .len = HPAGE };
	struct bench ws = { .name = "GET_PA walk 2M, 4k", .run = op_get_pa_walk,
			    .d = d, .ioas = d->ioas, .len = HPAGE };
	struct bench *mset[] = { &mh, &ms }, *gset[] = { &gh, &gh4, &gs, &ws };
	uint8_t *huge = anon_huge(HPAGE), *small = anon4k(HPAGE);
	uint64_t hi = 0x200000000ULL, si = 0x300000000ULL, l = HPAGE, pa;
	long runs;
	int i, ret = -1;

	if (!huge || !small)
		goto out;
	mh.va = huge;
	ms.va = small;
	if (measure(mset, 2))
		goto out;
	figure_info("map_unmap_per_byte_huge_vs_4k", mh.best / ms.best, "x");

	if (vcn_map(d, huge, HPAGE, &hi, 1))
		goto out;
	if (vcn_map(d, small, HPAGE, &si, 1))
		goto out_unmap_huge;
	if (vcn_get_pa(d, hi, &l, &pa))
		goto out_unmap;
	if (l != HPAGE) {
		errno = EPROTO;
		vcn_fail("GET_PA over a hugepage: %#llx contiguous bytes",
			 (unsigned long long)l);
		goto out_unmap;
	}
	runs = count_runs(d, si, HPAGE);
	if (runs < 0)
		goto out_unmap;
	printf("# 2 MiB of 4 KiB pages: %ld physically contiguous runs\n", runs);
	for (i = 0; i < RING; i++) {
		hiova[i] = hi;
		siova[i] = si;
	}
	ws.iova = si;
	if (measure(gset, 4))
		goto out_unmap;
	figure_info("get_pa_2m_query_huge_vs_4k", gh.best / gs.best, "x");
	figure_info("get_pa_huge_2m_vs_4k_query", gh.best / gh4.best, "x");
	figure_info("get_pa_cover_2m_4k_vs_huge", ws.best / gh.best, "x");
	ret = 0;
out_unmap:
	if (vcn_unmap(d, si, HPAGE))
		ret = -1;
out_unmap_huge:
	if (vcn_unmap(d, hi, HPAGE))
		ret = -1;
out:
	if (huge)
		munmap(huge, HPAGE);
	if (small)
		munmap(small, HPAGE);
	return ret;
}

/*
 * 4b: GET_PA on a table kept as a frame per page (scattered pages) against
 * one kept as a run list (fresh pages), both 16 MiB (informational); first
 * every page of the scattered one is checked against pagemap, length too.
 */
static int check_against_pagemap(struct vcn_dev *d, uint8_t *va, uint64_t iova)
{
	static uint64_t ppa[TABLE_LEN / PG], run[TABLE_LEN / PG];
	uint64_t pa = 0, l;
	long i, n = TABLE_LEN / PG;

	for (i = 0; i < n; i++)
		ppa[i] = vcn_pagemap_pa(va + i * PG);
	for (i = n - 1; i >= 0; i--)	/* contiguous bytes from page i on */
		run[i] = i + 1 < n && ppa[i + 1] == ppa[i] + PG ? run[i + 1] + PG : PG;
	for (i = 0; i < n; i++) {
		l = UINT64_MAX;
		if (vcn_get_pa(d, iova + i * PG, &l, &pa))
			return -1;
		if (!ppa[i] || pa != ppa[i] || l != run[i]) {
			errno = EPROTO;
			return vcn_fail("GET_PA of page %ld: %#llx +%#llx, pagemap %#llx +%#llx",
					i, (unsigned long long)pa,
					(unsigned long long)l,
					(unsigned long long)ppa[i],
					(unsigned long long)run[i]);
		}
	}
	return 0;
}

static int fig_get_pa_flat_table(struct vcn_dev *d)
{
	static uint64_t iovas[2][RING];
	struct bench g[2] = {
		{ .name = "GET_PA, frame per page", .iova = 0xa00000000ULL },
		{ .name = "GET_PA, run list", .iova = 0xb00000000ULL },
	};
	struct bench *set[] = { &g[0], &g[1] };
	int mapped[2] = { 0, 0 }, i, k, ret = -1;
	uint8_t *hold = NULL;

	/* scattered pages make a frame-per-page table, fresh ones a run list */
	g[0].va = anon4k_scattered(TABLE_LEN, &hold);
	g[1].va = anon4k(TABLE_LEN);
	for (k = 0; k < 2; k++) {
		g[k].run = op_get_pa;
		g[k].d = d;
		g[k].ioas = d->ioas;
		g[k].iovas = iovas[k];
		g[k].len = 64 * PG;	/* long enough for a scan to show */
		if (!g[k].va || vcn_map(d, g[k].va, TABLE_LEN, &g[k].iova, 1))
			goto out;
		mapped[k] = 1;
		if (check_against_pagemap(d, g[k].va, g[k].iova))
			goto out;
		for (i = 0; i < RING; i++)
			iovas[k][i] = g[k].iova + rng() % (TABLE_LEN / PG) * PG;
	}
	if (measure(set, 2))
		goto out;
	figure_info("get_pa_frame_per_page_vs_run_list", g[0].best / g[1].best, "x");
	ret = 0;
out:
	for (k = 0; k < 2; k++) {
		if (mapped[k] && vcn_unmap(d, g[k].iova, TABLE_LEN))
			ret = -1;
		if (g[k].va)
			munmap(g[k].va, TABLE_LEN);
	}
	if (hold)
		munmap(hold, 2 * TABLE_LEN);
	return ret;
}

/*
 * Map @len of 4 KiB pages at @iova (scattered: physically apart, else as
 * they come), count its runs with GET_PA, unmap it: *s is what the map
 * added to the module's counters.
 */
static int table_of(struct vcn_dev *d, uint64_t len, uint64_t iova, int scatter,
		    struct stats *s, long *runs)
{
	uint8_t *hold = NULL, *buf;
	int ret = -1;

	buf = scatter ? anon4k_scattered(len, &hold) : anon4k(len);
	if (!buf)
		goto out;
	if (map_delta(d, buf, len, iova, s))
		goto out;
	*runs = count_runs(d, iova, len);
	if (vcn_unmap(d, iova, len) || *runs < 0)
		goto out;
	ret = 0;
out:
	if (buf)
		munmap(buf, len);
	if (hold)
		munmap(hold, 2 * len);
	return ret;
}

/* 5: table bytes per mapped page, from the module's counters */
static int fig_table(struct vcn_dev *d, long hpages)
{
	uint64_t iova = 0x600000000ULL, hiova = 0x800000000ULL;
	long long overhead, npages = TABLE_LEN / PG;
	uint8_t *huge = NULL;
	struct stats s;
	long runs;
	int ret = -1;

	/* one page is one run: the rest is what an area costs by itself */
	if (table_of(d, PG, iova, 0, &s, &runs))
		return -1;
	overhead = s.table_bytes - 8;
	printf("# one 1-page map: %lld table bytes (area overhead %lld + 8 for its run)\n",
	       s.table_bytes, overhead);

	if (table_of(d, TABLE_LEN, iova, 0, &s, &runs))
		return -1;
	printf("# %lld fresh 4 KiB pages: %ld runs, %lld table bytes\n",
	       npages, runs, s.table_bytes);
	figure_info("table_bytes_per_4k_page_fresh", (double)s.table_bytes / s.pinned_pages,
	     "bytes");

	if (table_of(d, TABLE_LEN, iova, 1, &s, &runs))
		return -1;
	printf("# %lld scattered 4 KiB pages: %ld runs (GET_PA walk), %lld table bytes: the area's %lld + %.2f per page\n",
	       npages, runs, s.table_bytes, overhead,
	       (double)(s.table_bytes - overhead) / npages);
	figure("table_bytes_per_4k_page", (double)s.table_bytes / s.pinned_pages,
	       "bytes", "<=", 8);
	figure_info("table_runs_4k_scattered", runs, "runs");

	/* a size whose worst case is not a power of two bytes */
	if (table_of(d, TABLE_ODD_LEN, iova, 1, &s, &runs))
		return -1;
	printf("# %lu scattered 4 KiB pages: %ld runs (GET_PA walk), %lld table bytes: the area's %lld + %.2f per page\n",
	       TABLE_ODD_LEN / PG, runs, s.table_bytes, overhead,
	       (double)(s.table_bytes - overhead) / (TABLE_ODD_LEN / PG));
	figure_info("table_bytes_per_4k_page_odd_size",
	     (double)s.table_bytes / s.pinned_pages, "bytes");

	if (hpages > TABLE_HPAGES)
		hpages = TABLE_HPAGES;
	if (hpages <= 0) {
		lost("table_bytes_per_2m_hugepage (no hugepages)");
		return 0;
	}
	huge = anon_huge(hpages * HPAGE);
	if (!huge)
		return -1;
	if (map_delta(d, huge, hpages * HPAGE, hiova, &s))
		goto out;
	runs = count_runs(d, hiova, hpages * HPAGE);
	if (vcn_unmap(d, hiova, hpages * HPAGE) || runs < 0)
		goto out;
	printf("# %ld hugepages in one map: %ld runs, %lld table bytes\n",
	       hpages, runs, s.table_bytes);
	figure("table_bytes_per_2m_hugepage", (double)s.table_bytes / hpages,
	       "bytes", "<=", 64);
	ret = 0;
out:
	munmap(huge, hpages * HPAGE);
	return ret;
}

/* VCN_BDF, or the first QEMU edu device */
static const char *find_bdf(void)
{
	static char bdf[32];
	const char *b = getenv("VCN_BDF");

	if (!b)
		b = vcn_find_bdf(0x1234, 0x11e8);
	if (!b || strlen(b) >= sizeof(bdf))
		return NULL;
	memcpy(bdf, b, strlen(b) + 1);
	return bdf;
}

int main(void)
{
	const char *bdf = find_bdf();
	struct utsname u;
	struct vcn_dev d;
	struct stats s;
	long hpages;

	setvbuf(stdout, NULL, _IOLBF, 0);
	uname(&u);
	printf("# vfio_cdev_noiommu benchmark: kernel %s, device %s, %ld MiB RAM, page %ld\n",
	       u.release, bdf ? bdf : "(none)", meminfo_kb("MemTotal") / 1024,
	       sysconf(_SC_PAGESIZE));
	printf("# each figure: best of %d rounds of ~%llu ms, rounds interleaved\n",
	       ROUNDS, ROUND_NS / 1000000);
	if (vcn_dev_open(&d, bdf))
		return 1;
	if (stats_read(&s))
		return 1;
	if (s.areas || s.pinned_pages)
		printf("# note: %lld areas already mapped by someone else\n", s.areas);

	/* hugepages first, before this program fragments memory itself */
	atexit(hp_restore);
	hpages = hp_reserve(TABLE_HPAGES);
	printf("# hugepages: %ld of 2 MiB free (nr_hugepages was %ld)\n", hpages,
	       hp_orig);

	if (fig_get_pa_cost(&d))
		lost("GET_PA vs null ioctl / pagemap");
	if (fig_get_pa_flat(&d))
		lost("GET_PA with 1M pages mapped");
	if (fig_map_speed(&d))
		lost("MAP+UNMAP vs mlock+munlock");
	if (hpages <= 0)
		lost("hugepage vs 4 KiB (no hugepages)");
	else if (fig_hugepage(&d))
		lost("hugepage vs 4 KiB");
	if (fig_get_pa_flat_table(&d))
		lost("GET_PA, frame per page vs run list");
	if (fig_table(&d, hpages))
		lost("table bytes per page");

	vcn_dev_close(&d);
	hp_restore();
	if (not_taken)
		printf("# %d figures could not be measured\n", not_taken);
	printf("bench: summary %d targets met, %d missed\n", met, missed);
	return not_taken ? 1 : 0;
}
