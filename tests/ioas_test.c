// SPDX-License-Identifier: GPL-2.0
/*
 * ioas_test.c - the DMA-mapping uAPI against the contract: IOAS_MAP, UNMAP,
 * IOVA_RANGES and NOIOMMU_GET_PA, every errno in upstream's order, the
 * memlock charge, pinning, and that every teardown path gives back what was
 * taken (VmPin, the module's debugfs counters). Runs as root against one
 * bound device: VCN_BDF (default: the first QEMU edu device).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "harness.h"
#include "vcn_dev.h"

#define PG	4096UL
#define MIB	(1UL << 20)

static const char *bdf(void)
{
	const char *b = getenv("VCN_BDF");

	return b ? b : vcn_find_bdf(0x1234, 0x11e8);
}

static void open_attached(struct vcn_dev *d)
{
	ASSERT_OK(vcn_dev_open(d, bdf()));
}

static void *anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

static int map_raw(struct vcn_dev *d, uint32_t flags, uint32_t ioas, void *va,
		   uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .flags = flags, .ioas_id = ioas,
		.user_va = (uintptr_t)va, .length = len, .iova = *iova,
	};
	int r = ioctl(d->ctx, IOMMU_IOAS_MAP, &m);

	*iova = m.iova;
	return r;
}

#define RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED	(RW | IOMMU_IOAS_MAP_FIXED_IOVA)

static int unmap_raw(struct vcn_dev *d, uint64_t iova, uint64_t len,
		     uint64_t *out)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = d->ioas, .iova = iova, .length = len,
	};
	int r = ioctl(d->ctx, IOMMU_IOAS_UNMAP, &u);

	if (out)
		*out = u.length;
	return r;
}

static int get_pa_raw(struct vcn_dev *d, struct iommu_ioas_noiommu_get_pa *g)
{
	g->size = sizeof(*g);
	return ioctl(d->ctx, IOMMU_IOAS_NOIOMMU_GET_PA, g);
}



static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2] = {};

	if (syscall(SYS_capget, &h, c))
		return -1;
	c[cap / 32].effective &= ~(1u << (cap % 32));
	c[cap / 32].permitted &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &h, c);
}

/* ---------------- IOVA_RANGES ---------------- */

TEST(iova_ranges_whole_space)
{
	struct iommu_iova_range r[2] = {};
	struct iommu_ioas_iova_ranges q = { .size = sizeof(q) };
	struct vcn_dev d;

	open_attached(&d);
	q.ioas_id = d.ioas;
	q.num_iovas = 2;
	q.allowed_iovas = (uintptr_t)r;
	ASSERT_OK(ioctl(d.ctx, IOMMU_IOAS_IOVA_RANGES, &q));
	EXPECT_EQ(q.num_iovas, 1);
	EXPECT_EQ(r[0].start, 0);
	EXPECT_EQ(r[0].last, UINT64_MAX);
	EXPECT_EQ(q.out_iova_alignment, 4096);
	q.num_iovas = 0;	/* no room: EMSGSIZE, but the count comes back */
	EXPECT_ERRNO(EMSGSIZE, ioctl(d.ctx, IOMMU_IOAS_IOVA_RANGES, &q));
	EXPECT_EQ(q.num_iovas, 1);
	q.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(d.ctx, IOMMU_IOAS_IOVA_RANGES, &q));
	q.__reserved = 0;
	q.ioas_id = 9999;
	EXPECT_ERRNO(ENOENT, ioctl(d.ctx, IOMMU_IOAS_IOVA_RANGES, &q));
	q.ioas_id = d.pt;	/* a page-table object is not an IOAS */
	EXPECT_ERRNO(ENOENT, ioctl(d.ctx, IOMMU_IOAS_IOVA_RANGES, &q));
}

/* ---------------- MAP ---------------- */

TEST(map_fixed_and_kernel_chosen)
{
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova, a, b;

	open_attached(&d);
	buf = anon(8 * PG);
	iova = 0x100000000ULL;
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, 2 * PG, &iova));
	EXPECT_EQ(iova, 0x100000000ULL);
	a = 0;
	ASSERT_OK(map_raw(&d, RW, d.ioas, buf + 2 * PG, 2 * PG, &a));
	b = 0;
	ASSERT_OK(map_raw(&d, IOMMU_IOAS_MAP_READABLE, d.ioas, buf + 4 * PG, PG, &b));
	EXPECT_NE(a, 0);	/* a kernel-chosen IOVA is never 0 */
	EXPECT_NE(b, 0);
	EXPECT_NE(a, b);
	EXPECT_EQ(a % PG, 0);
	EXPECT_TRUE(a + 2 * PG <= b || b + PG <= a);	/* no overlap */
	/* mapping the same memory twice at two IOVAs is allowed */
	iova = 0x200000000ULL;
	EXPECT_OK(map_raw(&d, FIXED, d.ioas, buf, 2 * PG, &iova));
}

TEST(map_rejects_bad_arguments)
{
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova;

	open_attached(&d);
	buf = anon(4 * PG);
	iova = 0x10000000;
	EXPECT_ERRNO(EOPNOTSUPP, map_raw(&d, FIXED | 8, d.ioas, buf, PG, &iova));
	EXPECT_ERRNO(EOPNOTSUPP, map_raw(&d, FIXED | 0x80000000, d.ioas, buf, PG, &iova));
	EXPECT_ERRNO(EINVAL, map_raw(&d, IOMMU_IOAS_MAP_FIXED_IOVA, d.ioas, buf, PG, &iova));
	EXPECT_ERRNO(EINVAL, map_raw(&d, FIXED, d.ioas, buf, 0, &iova));
	EXPECT_ERRNO(EINVAL, map_raw(&d, FIXED, d.ioas, buf, PG + 1, &iova));
	EXPECT_ERRNO(EINVAL, map_raw(&d, FIXED, d.ioas, buf + 1, PG, &iova));
	iova = 0x10000001;
	EXPECT_ERRNO(EINVAL, map_raw(&d, FIXED, d.ioas, buf, PG, &iova));
	iova = UINT64_MAX - PG + 1;	/* iova + length wraps */
	EXPECT_ERRNO(EOVERFLOW, map_raw(&d, FIXED, d.ioas, buf, 2 * PG, &iova));
	iova = UINT64_MAX;
	EXPECT_ERRNO(EOVERFLOW, map_raw(&d, FIXED, d.ioas, buf, PG, &iova));
	iova = 0x10000000;
	EXPECT_ERRNO(EOVERFLOW, map_raw(&d, FIXED, d.ioas, buf, UINT64_MAX, &iova));
	/* lengths far beyond the buffer (found by the fuzzer: they once made
	 * the kernel WARN in an allocation sized by them) */
	iova = 0x100000000ULL;
	EXPECT_ERRNO(EFAULT, map_raw(&d, FIXED, d.ioas, buf, 1ULL << 60, &iova));
	iova = 0;
	EXPECT_ERRNO(EOVERFLOW, map_raw(&d, RW, d.ioas, buf, (1ULL << 63) + PG, &iova));
	iova = 0;	/* a user address beyond the user address space */
	EXPECT_ERRNO(EFAULT, map_raw(&d, FIXED, d.ioas, (void *)0x800000000000ULL,
				     1ULL << 63, &iova));
	iova = 0x10000000;
	EXPECT_ERRNO(ENOENT, map_raw(&d, FIXED, 9999, buf, PG, &iova));
	EXPECT_ERRNO(ENOENT, map_raw(&d, FIXED, d.pt, buf, PG, &iova));
	/* reserved field */
	struct iommu_ioas_map m = {
		.size = sizeof(m), .flags = FIXED, .ioas_id = d.ioas, .__reserved = 1,
		.user_va = (uintptr_t)buf, .length = PG, .iova = 0x10000000,
	};
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(d.ctx, IOMMU_IOAS_MAP, &m));
	/* nothing above mapped anything */
	EXPECT_EQ(vcn_stat("areas"), 0);
}

TEST(map_overlap_is_eexist)
{
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova;

	open_attached(&d);
	buf = anon(8 * PG);
	iova = 0x40000000;
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, 4 * PG, &iova));
	iova = 0x40000000;
	EXPECT_ERRNO(EEXIST, map_raw(&d, FIXED, d.ioas, buf, 4 * PG, &iova));
	iova = 0x40000000 + 3 * PG;	/* tail overlap */
	EXPECT_ERRNO(EEXIST, map_raw(&d, FIXED, d.ioas, buf, 2 * PG, &iova));
	iova = 0x40000000 - PG;		/* head overlap */
	EXPECT_ERRNO(EEXIST, map_raw(&d, FIXED, d.ioas, buf, 2 * PG, &iova));
	iova = 0x40000000 - PG;		/* covering it */
	EXPECT_ERRNO(EEXIST, map_raw(&d, FIXED, d.ioas, buf, 8 * PG, &iova));
	iova = 0x40000000 + 4 * PG;	/* adjacent is fine */
	EXPECT_OK(map_raw(&d, FIXED, d.ioas, buf, PG, &iova));
	iova = 0x40000000 - PG;
	EXPECT_OK(map_raw(&d, FIXED, d.ioas, buf, PG, &iova));
}

TEST(map_of_unmapped_memory_is_efault)
{
	struct vcn_dev d;
	long long pinned = vcn_stat("pinned_pages");
	uint8_t *buf;
	uint64_t iova = 0x50000000;

	open_attached(&d);
	buf = anon(4 * PG);
	munmap(buf + 2 * PG, PG);	/* a hole in the middle */
	EXPECT_ERRNO(EFAULT, map_raw(&d, FIXED, d.ioas, buf, 4 * PG, &iova));
	EXPECT_EQ(vcn_stat("pinned_pages"), pinned);	/* the first 2 went back */
	EXPECT_ERRNO(EFAULT, map_raw(&d, FIXED, d.ioas, (void *)0x10000, PG, &iova));
	/* device memory (a BAR mmap) is not pinnable user memory */
	size_t barsz;
	void *bar = vcn_bar_mmap(&d, 0, &barsz);

	ASSERT_TRUE(bar);
	EXPECT_ERRNO(EFAULT, map_raw(&d, FIXED, d.ioas, bar, PG, &iova));
	EXPECT_EQ(vcn_stat("pinned_pages"), pinned);
}

/* ---------------- UNMAP ---------------- */

TEST(unmap_whole_mappings_only)
{
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova, out;
	int i;

	open_attached(&d);
	buf = anon(16 * PG);
	/* three 4-page mappings 1 MiB apart: holes between them */
	for (i = 0; i < 3; i++) {
		iova = 0x60000000 + i * MIB;
		ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf + i * 4 * PG, 4 * PG, &iova));
	}
	EXPECT_ERRNO(ENOENT, unmap_raw(&d, 0x60000000, 2 * PG, NULL));	/* a part */
	EXPECT_ERRNO(ENOENT, unmap_raw(&d, 0x60000000 + PG, 4 * PG, NULL));
	EXPECT_ERRNO(ENOENT, unmap_raw(&d, 0x70000000, PG, NULL));	/* a hole */
	EXPECT_ERRNO(EINVAL, unmap_raw(&d, 0x60000000, 0, NULL));
	EXPECT_ERRNO(EOVERFLOW, unmap_raw(&d, UINT64_MAX - PG + 1, 2 * PG, NULL));
	EXPECT_ERRNO(EOVERFLOW, unmap_raw(&d, UINT64_MAX, PG, NULL));
	/* a range over two whole mappings and the holes around them */
	EXPECT_OK(unmap_raw(&d, 0x60000000 - MIB, 3 * MIB, &out));
	EXPECT_EQ(out, 8 * PG);
	EXPECT_OK(unmap_raw(&d, 0x60000000 + 2 * MIB, 4 * PG, &out));
	EXPECT_EQ(out, 4 * PG);
	EXPECT_ERRNO(ENOENT, unmap_raw(&d, 0x60000000 + 2 * MIB, 4 * PG, NULL));
}

TEST(unmap_all)
{
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0, out;

	open_attached(&d);
	buf = anon(8 * PG);
	ASSERT_OK(map_raw(&d, RW, d.ioas, buf, 8 * PG, &iova));
	iova = 0xfff00000000ULL;
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, 2 * PG, &iova));
	EXPECT_OK(unmap_raw(&d, 0, UINT64_MAX, &out));
	EXPECT_EQ(out, 10 * PG);
	EXPECT_OK(unmap_raw(&d, 0, UINT64_MAX, &out));	/* nothing left: 0 */
	EXPECT_EQ(out, 0);
	EXPECT_EQ(vcn_stat("areas"), 0);
}

/* ---------------- GET_PA ---------------- */

TEST(get_pa_errno_order)
{
	struct iommu_ioas_noiommu_get_pa g = {};
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0x80000000;
	pid_t pid;
	int st;

	open_attached(&d);
	buf = anon(PG);
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, PG, &iova));
	/* without CAP_SYS_RAWIO: EPERM before anything else is looked at */
	pid = fork();
	if (pid == 0) {
		struct iommu_ioas_noiommu_get_pa b = { .flags = 1, .ioas_id = 9999 };

		if (drop_cap(CAP_SYS_RAWIO))
			_exit(2);
		_exit(get_pa_raw(&d, &b) == -1 && errno == EPERM ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	EXPECT_EQ(st, 0);
	g = (struct iommu_ioas_noiommu_get_pa){ .flags = 1, .length = 0, .ioas_id = 9999 };
	EXPECT_ERRNO(EOPNOTSUPP, get_pa_raw(&d, &g));
	g = (struct iommu_ioas_noiommu_get_pa){ .__reserved = 1, .ioas_id = 9999 };
	EXPECT_ERRNO(EOPNOTSUPP, get_pa_raw(&d, &g));
	g = (struct iommu_ioas_noiommu_get_pa){ .length = 0, .ioas_id = 9999, .iova = UINT64_MAX };
	EXPECT_ERRNO(EINVAL, get_pa_raw(&d, &g));
	g = (struct iommu_ioas_noiommu_get_pa){ .length = 1, .ioas_id = 9999, .iova = UINT64_MAX };
	EXPECT_ERRNO(EOVERFLOW, get_pa_raw(&d, &g));
	g = (struct iommu_ioas_noiommu_get_pa){ .length = 1, .ioas_id = 9999, .iova = iova };
	EXPECT_ERRNO(ENOENT, get_pa_raw(&d, &g));
	g.ioas_id = d.pt;	/* the page-table object's id is not the IOAS */
	EXPECT_ERRNO(ENOENT, get_pa_raw(&d, &g));
	g.ioas_id = d.ioas;
	g.iova = iova + PG;	/* not mapped */
	EXPECT_ERRNO(ENOENT, get_pa_raw(&d, &g));
	g.iova = iova - 1;
	EXPECT_ERRNO(ENOENT, get_pa_raw(&d, &g));
	g.iova = iova;
	EXPECT_OK(get_pa_raw(&d, &g));
	/* size rules of the framework apply too */
	g.size = offsetof(struct iommu_ioas_noiommu_get_pa, out_phys);
	EXPECT_ERRNO(EINVAL, ioctl(d.ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g));
}

TEST(get_pa_needs_an_attached_device)
{
	struct iommu_ioas_noiommu_get_pa g = { .length = PG };
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0x90000000, pa;
	uint32_t other;

	open_attached(&d);
	buf = anon(PG);
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, PG, &iova));
	g.ioas_id = d.ioas;
	g.iova = iova;
	ASSERT_OK(get_pa_raw(&d, &g));
	pa = g.out_phys;
	ASSERT_OK(vcn_detach(d.dev));
	EXPECT_ERRNO(EOPNOTSUPP, get_pa_raw(&d, &g));
	/* another IOAS, never attached: same */
	ASSERT_OK(vcn_ioas_alloc(d.ctx, &other));
	iova = 0x90000000;
	ASSERT_OK(map_raw(&d, FIXED, other, buf, PG, &iova));
	g.ioas_id = other;
	EXPECT_ERRNO(EOPNOTSUPP, get_pa_raw(&d, &g));
	/* attach again: the existing mappings work again, same page */
	ASSERT_OK(vcn_attach(d.dev, d.ioas, NULL));
	g.ioas_id = d.ioas;
	g.length = PG;
	EXPECT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.out_phys, pa);
	/* destroy after detach succeeds with mappings left, and unpins */
	ASSERT_OK(vcn_detach(d.dev));
	EXPECT_OK(vcn_destroy(d.ctx, d.ioas));
	EXPECT_OK(vcn_destroy(d.ctx, other));
	EXPECT_EQ(vcn_stat("pinned_pages"), 0);
}

TEST(get_pa_lengths)
{
	struct iommu_ioas_noiommu_get_pa g = {};
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0xa0000000;

	open_attached(&d);
	buf = anon(4 * PG);
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, 4 * PG, &iova));
	g.ioas_id = d.ioas;
	g.iova = iova + 100;
	g.length = 1;			/* honoured exactly */
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.length, 1);
	EXPECT_EQ(g.out_phys, vcn_pagemap_pa(buf + 100));
	g.length = UINT64_MAX;		/* ends on a page boundary */
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ((g.out_phys + g.length) % PG, 0);
	EXPECT_TRUE(g.length >= PG - 100 && g.length <= 4 * PG - 100);
	g.iova = iova + 4 * PG - 1;	/* the last byte of the mapping */
	g.length = UINT64_MAX;
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.length, 1);
	EXPECT_EQ(g.out_phys, vcn_pagemap_pa(buf + 4 * PG - 1));
	/* every page agrees with pagemap */
	for (int i = 0; i < 4; i++) {
		g.iova = iova + i * PG + 7;
		g.length = 16;
		ASSERT_OK(get_pa_raw(&d, &g));
		EXPECT_EQ(g.out_phys, vcn_pagemap_pa(buf + i * PG + 7));
		EXPECT_EQ(g.length, 16);
	}
}

/* a hugepage, or a THP-backed region when no hugetlb page is free */
static uint8_t *huge2m(void)
{
	uint8_t *p = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
			  -1, 0);
	FILE *f;

	if (p != MAP_FAILED)
		return p;
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	if (f) {
		fputs("4\n", f);
		fclose(f);
	}
	p = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

TEST(get_pa_hugepage_runs)
{
	struct iommu_ioas_noiommu_get_pa g = {};
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0x40000000000ULL;

	open_attached(&d);
	buf = huge2m();
	ASSERT_TRUE(buf);
	/* one map: one 2 MiB run */
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, 2 * MIB, &iova));
	g.ioas_id = d.ioas;
	g.iova = iova;
	g.length = UINT64_MAX;
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.length, 2 * MIB);
	EXPECT_EQ(g.out_phys % (2 * MIB), 0);
	g.iova = iova + MIB + 5;
	g.length = UINT64_MAX;
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.length, MIB - 5);
	ASSERT_OK(unmap_raw(&d, iova, 2 * MIB, NULL));
	/* the same page mapped by two IOAS_MAP calls: two runs, never one */
	iova = 0x40000000000ULL;
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, MIB, &iova));
	iova += MIB;
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf + MIB, MIB, &iova));
	g.iova = iova - MIB;
	g.length = UINT64_MAX;
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.length, MIB);
	g.iova = iova;
	g.length = UINT64_MAX;
	ASSERT_OK(get_pa_raw(&d, &g));
	EXPECT_EQ(g.length, MIB);
}

/*
 * A mapping whose table is mostly scattered pages with runs of every
 * interesting length among them (the module then keeps a frame per page and
 * lists the long runs): GET_PA at every page, at its first and last byte and
 * capped either side of the run's end, must match pagemap exactly.
 */
#define MIX_POOL	8192	/* fresh pages the layout is cut from */
#define MIX_MAX		4096	/* pages in the mapping, at most */

/* run lengths of the mapping, in order; 1s are scattered single pages */
static const unsigned int mix_runs[] = {
	20, 0, 2, 3, 15, 16, 17, 1, 100, 1, 31, 32, 33, 0, 64, 0, 15,
};

#define MIX_SINGLES	700	/* single pages where mix_runs says 0 */

static uint64_t pfn_of(const void *va)
{
	return vcn_pagemap_pa(va) / PG;
}

/* a pool page: its frame and its index in the pool */
struct mix_page {
	uint64_t pfn;
	unsigned long idx;
};

static int mix_cmp(const void *a, const void *b)
{
	const struct mix_page *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

/*
 * The first place from @c in the frame-sorted pool with @k consecutive
 * frames. Sorting makes this independent of the order the kernel hands
 * fresh pages out in (7.3's rarely ascend for 100 pages).
 */
static long mix_find(const struct mix_page *pool, unsigned long c, unsigned int k)
{
	unsigned long i, j;

	for (i = c; i + k <= MIX_POOL; i = j) {
		for (j = i + 1; j < i + k && pool[j].pfn == pool[j - 1].pfn + 1; j++)
			;
		if (j == i + k)
			return i;
	}
	return -1;
}

/* move pool pages sorted[at..at+k) to pages [to, to+k) of @dst, in frame order */
static void mix_move(uint8_t *pool, const struct mix_page *sorted, unsigned long at,
		     uint8_t *dst, unsigned long to, unsigned int k)
{
	unsigned int j;
	void *r;

	for (j = 0; j < k; j++) {
		r = mremap(pool + sorted[at + j].idx * PG, PG, PG,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dst + (to + j) * PG);
		ASSERT_TRUE(r == dst + (to + j) * PG);
	}
}

/* lay the pool out as mix_runs says at @dst: the mapping's page count */
static unsigned long mix_build(uint8_t *pool, struct mix_page *sorted, uint8_t *dst)
{
	unsigned long c = 0, n = 0;
	unsigned int r, k, m;
	long at;

	qsort(sorted, MIX_POOL, sizeof(*sorted), mix_cmp);
	for (r = 0; r < sizeof(mix_runs) / sizeof(mix_runs[0]); r++) {
		k = mix_runs[r] ? mix_runs[r] : 1;
		for (m = 0; m < (mix_runs[r] ? 1 : MIX_SINGLES); m++) {
			at = mix_find(sorted, c, k);
			if (at < 0 || n + k > MIX_MAX)
				printf("#   no run of %u frames in the pool after %lu (%lu pages laid out)\n",
				       k, c, n);
			ASSERT_TRUE(at >= 0 && n + k <= MIX_MAX);
			mix_move(pool, sorted, at, dst, n, k);
			n += k;
			c = at + k + 1;	/* skip a frame: the next run is apart */
		}
	}
	return n;
}

/* *bad += 1 unless GET_PA at @off gives the frame of @pfn and @want bytes */
static void mix_check(struct vcn_dev *d, uint64_t iova, uint64_t off,
		      uint64_t pfn, uint64_t len, uint64_t want, int *bad)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.ioas_id = d->ioas, .iova = iova + off, .length = len,
	};

	if (get_pa_raw(d, &g) || g.out_phys != pfn * PG + off % PG ||
	    g.length != want) {
		if (!(*bad)++)
			printf("#   GET_PA at +%#llx len %#llx: %#llx +%#llx, want %#llx +%#llx\n",
			       (unsigned long long)off, (unsigned long long)len,
			       (unsigned long long)g.out_phys,
			       (unsigned long long)g.length,
			       (unsigned long long)(pfn * PG + off % PG),
			       (unsigned long long)want);
	}
}

TEST(get_pa_mixed_runs_exact)
{
	static uint64_t pfn[MIX_MAX], cont[MIX_MAX];
	static struct mix_page pool_pfn[MIX_POOL];
	long long table0 = vcn_stat("table_bytes"), table;
	unsigned long n, i, runs = 0, nlong = 0, unknown = 0;
	uint64_t iova = 0x50000000000ULL, c;
	uint8_t *pool, *dst;
	struct vcn_dev d;
	int bad = 0;

	open_attached(&d);
	pool = anon(MIX_POOL * PG);
	for (i = 0; i < MIX_POOL; i++)
		pool_pfn[i] = (struct mix_page){ pfn_of(pool + i * PG), i };
	dst = mmap(NULL, MIX_MAX * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(dst != MAP_FAILED);
	n = mix_build(pool, pool_pfn, dst);
	/* the truth: each page's frame and its contiguous pages onwards */
	for (i = 0; i < n; i++)
		pfn[i] = pfn_of(dst + i * PG);
	for (i = n; i--; ) {
		unknown += !pfn[i];
		cont[i] = i + 1 < n && pfn[i + 1] == pfn[i] + 1 ? cont[i + 1] + 1 : 1;
		if (!i || pfn[i] != pfn[i - 1] + 1) {
			runs++;
			nlong += cont[i] >= 16;
		}
	}
	ASSERT_EQ(unknown, 0);
	printf("# %lu pages in %lu runs, %lu of 16 pages or more\n", n, runs, nlong);
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, dst, n * PG, &iova));
	table = vcn_stat("table_bytes") - table0;
	/* a frame per page and the long runs: cheaper than 8 bytes a run */
	printf("# table %lld bytes\n", table);
	EXPECT_TRUE(table < (long long)(8 * runs));
	EXPECT_TRUE(table <= (long long)(4 * n + 8 * nlong + PG + 256));
	for (i = 0; i < n; i++) {
		c = cont[i] * PG;
		mix_check(&d, iova, i * PG, pfn[i], UINT64_MAX, c, &bad);
		mix_check(&d, iova, i * PG + PG - 1, pfn[i], UINT64_MAX, c - PG + 1, &bad);
		mix_check(&d, iova, i * PG + 1, pfn[i], c - 2, c - 2, &bad);
		mix_check(&d, iova, i * PG, pfn[i], c + 1, c, &bad);
		mix_check(&d, iova, i * PG + 5, pfn[i], 1, 1, &bad);
	}
	EXPECT_EQ(bad, 0);
	EXPECT_OK(unmap_raw(&d, iova, n * PG, NULL));
	EXPECT_EQ(vcn_stat("table_bytes"), table0);
	munmap(dst, MIX_MAX * PG);
	munmap(pool, MIX_POOL * PG);
}

/* ---------------- pinning and accounting ---------------- */

TEST(pins_are_accounted_and_returned)
{
	long long pages0 = vcn_stat("pinned_pages"), bytes0 = vcn_stat("mapped_bytes");
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0;
	long pin0 = vcn_vmpin_kb();

	ASSERT_TRUE(pages0 >= 0 && pin0 >= 0);
	open_attached(&d);
	buf = anon(64 * PG);
	ASSERT_OK(map_raw(&d, RW, d.ioas, buf, 64 * PG, &iova));
	EXPECT_EQ(vcn_vmpin_kb(), pin0 + 64 * 4);
	EXPECT_EQ(vcn_stat("pinned_pages"), pages0 + 64);
	EXPECT_EQ(vcn_stat("mapped_bytes"), bytes0 + 64 * PG);
	EXPECT_TRUE(vcn_stat("table_bytes") > 0);
	ASSERT_OK(unmap_raw(&d, iova, 64 * PG, NULL));
	EXPECT_EQ(vcn_vmpin_kb(), pin0);
	EXPECT_EQ(vcn_stat("pinned_pages"), pages0);
	EXPECT_EQ(vcn_stat("table_bytes"), 0);
}

static int map_with_limit(rlim_t limit, int keep_ipc_lock, size_t len)
{
	struct rlimit rl = { limit, limit };
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0;

	if (vcn_dev_open(&d, bdf()))
		return -2;
	buf = anon(len);
	if (!keep_ipc_lock && drop_cap(CAP_IPC_LOCK))
		return -2;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return -2;
	return map_raw(&d, RW, d.ioas, buf, len, &iova) ? errno : 0;
}

TEST(memlock_limit)
{
	long long pinned = vcn_stat("pinned_pages");
	pid_t pid;
	int st;

	/* beyond the limit, without CAP_IPC_LOCK: ENOMEM, nothing pinned */
	pid = fork();
	if (!pid)
		_exit(map_with_limit(8 * PG, 0, 16 * PG));
	waitpid(pid, &st, 0);
	EXPECT_EQ(WEXITSTATUS(st), ENOMEM);
	/* within it */
	pid = fork();
	if (!pid)
		_exit(map_with_limit(16 * PG, 0, 16 * PG));
	waitpid(pid, &st, 0);
	EXPECT_EQ(WEXITSTATUS(st), 0);
	/* CAP_IPC_LOCK lifts the limit, as upstream */
	pid = fork();
	if (!pid)
		_exit(map_with_limit(8 * PG, 1, 16 * PG));
	waitpid(pid, &st, 0);
	EXPECT_EQ(WEXITSTATUS(st), 0);
	/* and the children's exits gave everything back */
	EXPECT_EQ(vcn_stat("pinned_pages"), pinned);
}

TEST(process_exit_unpins)
{
	long long pinned = vcn_stat("pinned_pages");
	pid_t pid;
	int st;

	pid = fork();
	if (!pid) {
		struct vcn_dev d;
		uint8_t *buf;
		uint64_t iova = 0;

		if (vcn_dev_open(&d, bdf()))
			_exit(1);
		buf = anon(32 * PG);
		if (map_raw(&d, RW, d.ioas, buf, 32 * PG, &iova))
			_exit(1);
		if (vcn_stat("pinned_pages") != pinned + 32)
			_exit(1);
		kill(getpid(), SIGKILL);	/* no orderly close */
	}
	waitpid(pid, &st, 0);
	EXPECT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(vcn_stat("pinned_pages"), pinned);
	EXPECT_EQ(vcn_stat("areas"), 0);
}

TEST(close_context_with_mappings_unpins)
{
	long long pinned = vcn_stat("pinned_pages");
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0;

	open_attached(&d);
	buf = anon(8 * PG);
	ASSERT_OK(map_raw(&d, RW, d.ioas, buf, 8 * PG, &iova));
	close(d.ctx);		/* the bound device still holds the context */
	EXPECT_EQ(vcn_stat("pinned_pages"), pinned + 8);
	close(d.dev);		/* last reference: everything goes */
	EXPECT_EQ(vcn_stat("pinned_pages"), pinned);
}

TEST(fdinfo_counts_the_context)
{
	char path[64], line[128];
	struct vcn_dev d;
	uint8_t *buf;
	uint64_t iova = 0;
	long long mapped = -1, pinned = -1;
	FILE *f;

	open_attached(&d);
	buf = anon(8 * PG);
	ASSERT_OK(map_raw(&d, RW, d.ioas, buf, 8 * PG, &iova));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", d.ctx);
	f = fopen(path, "r");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "vcn-mapped-bytes: %lld", &mapped);
		sscanf(line, "vcn-pinned-pages: %lld", &pinned);
	}
	fclose(f);
	EXPECT_EQ(mapped, 8 * PG);
	EXPECT_EQ(pinned, 8);
}

TEST(pinned_pages_do_not_move)
{
	struct iommu_ioas_noiommu_get_pa g = {};
	struct vcn_dev d;
	uint64_t pa[64], iova = 0xb0000000;
	uint8_t *buf;
	FILE *f;
	int i;

	open_attached(&d);
	buf = anon(64 * PG);
	ASSERT_OK(map_raw(&d, FIXED, d.ioas, buf, 64 * PG, &iova));
	for (i = 0; i < 64; i++) {
		g.ioas_id = d.ioas;
		g.iova = iova + i * PG;
		g.length = 1;
		ASSERT_OK(get_pa_raw(&d, &g));
		pa[i] = g.out_phys;
	}
	/* compaction migrates movable pages; pinned ones must stay put */
	f = fopen("/proc/sys/vm/compact_memory", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	madvise(buf, 64 * PG, MADV_PAGEOUT);
	for (i = 0; i < 64; i++) {
		g.iova = iova + i * PG;
		g.length = 1;
		ASSERT_OK(get_pa_raw(&d, &g));
		EXPECT_EQ(g.out_phys, pa[i]);
		EXPECT_EQ(vcn_pagemap_pa(buf + i * PG), pa[i]);
	}
}

int main(int argc, char **argv)
{
	if (!bdf()) {
		printf("Bail out! no test device (set VCN_BDF)\n");
		return 1;
	}
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
