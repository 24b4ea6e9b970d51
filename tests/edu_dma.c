// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma.c - a userspace driver for QEMU's edu device (1234:11e8) on the
 * no-IOMMU cdev: BAR mmap, config space, DMA to and from memory mapped with
 * IOMMU_IOAS_MAP at the address IOMMU_IOAS_NOIOMMU_GET_PA gives, and MSI and
 * INTx through eventfds. Every DMA is checked byte for byte against random
 * data, so a wrong physical address, a lost pin or a DMA that never ran
 * fails a test.
 *
 * Device: VCN_EDU_BDF, else VCN_BDF if that is an edu, else the first edu.
 * edu's traps (see rig notes): its DMA buffer is 4 KiB at device address
 * 0x40000, and QEMU 7.2 aborts on any DMA touching its last byte, so every
 * transfer here is a chunk of at most 2 KiB inside 0x40000..0x40ffe.
 */
#define _GNU_SOURCE
#include <sys/random.h>

#include "harness.h"
#include "vcn_dev.h"
#include "edu.h"

#define IRQ_TIMEOUT_MS		3000
#define SZ_2M			(2UL << 20)
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

struct edu {
	struct vcn_dev d;
	volatile uint8_t *bar;
	size_t bar_size;
};

static struct edu *edu_live;	/* for the exit handler */

static const char *bdf(void)
{
	const char *b = getenv("VCN_EDU_BDF");

	if (b)
		return b;
	b = getenv("VCN_BDF");
	if (b && vcn_find_bdf(0x1234, 0x11e8) && !strcmp(b, vcn_find_bdf(0x1234, 0x11e8)))
		return b;
	return vcn_find_bdf(0x1234, 0x11e8);
}

/* ---------------- random data ---------------- */

static uint64_t seed, rng;

static void rng_init(void)
{
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng = seed | 1;
	if (getenv("VCN_VERBOSE"))
		printf("#   random seed %#llx\n", (unsigned long long)seed);
}

static void fill_random(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* xorshift64*: cheap, and a given seed reproduces a failure */
		rng ^= rng >> 12;
		rng ^= rng << 25;
		rng ^= rng >> 27;
		p[i] = (rng * 0x2545f4914f6cdd1dULL) >> 56;
	}
}

/* destination bytes all differ from the source, so a DMA that did nothing shows */
static void fill_inverse(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = ~src[i];
}

static int expect_same(const char *what, const uint8_t *got,
		       const uint8_t *want, size_t n)
{
	size_t i;

	vcn_mb();	/* the device wrote these behind the compiler's back */
	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	VCN_REPORT(i == n, "%s: %zu bytes as expected (seed %#llx)", what, n,
		   (unsigned long long)seed);
	if (i < n)
		printf("#     first difference at +%#zx: %#04x, want %#04x\n", i,
		       got[i], want[i]);
	return i == n;
}

/* ---------------- the device ---------------- */

/* no DMA in flight and no interrupt pending: what every test starts from */
static void edu_quiesce(struct edu *e)
{
	edu_wait_idle(e->bar);
	vcn_wr32(e->bar, EDU_IRQ_ACK, ~0u);
}

/* a test that fails half-way must not leave a DMA or an interrupt behind */
static void edu_atexit(void)
{
	if (edu_live && edu_live->bar)
		edu_quiesce(edu_live);
}

static void edu_open(struct edu *e)
{
	ASSERT_OK(vcn_dev_open(&e->d, bdf()));
	e->bar = vcn_bar_mmap(&e->d, VFIO_PCI_BAR0_REGION_INDEX, &e->bar_size);
	ASSERT_TRUE(e->bar != NULL);
	ASSERT_EQ(vcn_rd32(e->bar, EDU_ID), EDU_ID_VALUE);
	ASSERT_OK(vcn_enable_bus_master(&e->d));
	edu_live = e;
	atexit(edu_atexit);
	edu_quiesce(e);
}

static void edu_close(struct edu *e)
{
	edu_quiesce(e);
	edu_live = NULL;
	munmap((void *)e->bar, e->bar_size);
	vcn_dev_close(&e->d);
}

/*
 * Move len bytes between IOVA range [iova, iova+len) and the device buffer
 * at EDU_BUF, one DMA per physically contiguous run that GET_PA reports
 * (the way a driver builds a scatter list). Returns the number of runs.
 */
static int edu_xfer(struct edu *e, uint64_t iova, uint32_t len, int to_ram)
{
	uint32_t done = 0;
	int runs = 0;

	while (done < len) {
		uint64_t run = len - done, pa = 0;

		if (vcn_get_pa(&e->d, iova + done, &run, &pa))
			return -1;
		if (to_ram ? edu_dma(e->bar, EDU_BUF + done, pa, run, EDU_CMD_TO_RAM)
			   : edu_dma(e->bar, pa, EDU_BUF + done, run, 0))
			return -1;
		done += run;
		runs++;
	}
	return runs;
}

/* ---------------- tests ---------------- */

TEST(bar0_config_and_registers)
{
	struct vfio_region_info ri;
	struct edu e;
	uint16_t ids[2];
	uint32_t v, id = 0;
	int i;

	rng_init();
	edu_open(&e);
	ASSERT_OK(vcn_region_info(&e.d, VFIO_PCI_BAR0_REGION_INDEX, &ri));
	EXPECT_EQ(ri.size, 1 << 20);
	EXPECT_EQ(ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			      VFIO_REGION_INFO_FLAG_MMAP),
		  VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP);
	/* config space through the config region, at vfio-pci's index << 40 */
	ASSERT_OK(vcn_region_info(&e.d, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	EXPECT_EQ(ri.offset, (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40);
	ASSERT_OK(vcn_cfg_read(&e.d, 0, ids, sizeof(ids)));
	EXPECT_EQ(ids[0], 0x1234);
	EXPECT_EQ(ids[1], 0x11e8);
	/* the same register through the region file and through the mmap */
	EXPECT_OK(vcn_region_rw(&e.d, VFIO_PCI_BAR0_REGION_INDEX, 0, EDU_ID, &id, 4));
	EXPECT_EQ(id, EDU_ID_VALUE);
	EXPECT_EQ(vcn_rd32(e.bar, EDU_ID), EDU_ID_VALUE);
	/* liveness: the device computes ~value, so each answer is fresh */
	for (i = 0; i < 6; i++) {
		fill_random((uint8_t *)&v, sizeof(v));
		if (i == 0)
			v = 0;
		vcn_wr32(e.bar, EDU_LIVENESS, v);
		EXPECT_EQ(vcn_rd32(e.bar, EDU_LIVENESS), (uint32_t)~v);
	}
	/* written through the file, read through the mmap */
	v = 0x5a5a1234;
	EXPECT_OK(vcn_region_rw(&e.d, VFIO_PCI_BAR0_REGION_INDEX, 1, EDU_LIVENESS, &v, 4));
	EXPECT_EQ(vcn_rd32(e.bar, EDU_LIVENESS), (uint32_t)~v);
	edu_close(&e);
}

TEST(dma_4k_roundtrip)
{
	struct vcn_dma a, b;
	uint64_t pm, l, pa = 0;
	struct edu e;
	uint32_t off;

	rng_init();
	edu_open(&e);
	ASSERT_OK(vcn_dma_alloc(&e.d, 4096, 0, &a));
	ASSERT_OK(vcn_dma_alloc(&e.d, 4096, 0, &b));
	/* a page-aligned page is one physically contiguous run */
	EXPECT_EQ(a.contig, 4096);
	EXPECT_EQ(b.contig, 4096);
	EXPECT_EQ(a.pa % 4096, 0);
	EXPECT_NE(a.pa, 0);
	EXPECT_NE(a.pa, b.pa);
	pm = vcn_pagemap_pa(a.va);
	if (pm)
		EXPECT_EQ(a.pa, pm);
	else
		printf("#   pagemap shows no PFN: GET_PA not cross-checked\n");
	l = 1;
	EXPECT_OK(vcn_get_pa(&e.d, a.iova, &l, &pa));
	EXPECT_EQ(l, 1);
	EXPECT_EQ(pa, a.pa);

	fill_random(a.va, 4096);
	fill_inverse(b.va, a.va, 4096);
	for (off = 0; off < 4096; off += EDU_CHUNK) {
		ASSERT_OK(edu_dma(e.bar, a.pa + off, EDU_BUF, EDU_CHUNK, 0));
		ASSERT_OK(edu_dma(e.bar, EDU_BUF, b.pa + off, EDU_CHUNK, EDU_CMD_TO_RAM));
	}
	expect_same("RAM -> edu -> RAM, 2 x 2 KiB", b.va, a.va, 4096);
	EXPECT_OK(vcn_dma_free(&e.d, &a));
	EXPECT_OK(vcn_dma_free(&e.d, &b));
	edu_close(&e);
}

/* Can this guest give us a 2 MiB hugetlb page? Reserve one if none is. */
static int hugepage_available(int *old_nr)
{
	void *p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	FILE *f;

	*old_nr = -1;
	if (p != MAP_FAILED)
		goto ok;
	f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	if (!f)
		return 0;
	if (fscanf(f, "%d", old_nr) != 1) {
		fclose(f);
		*old_nr = -1;
		return 0;
	}
	rewind(f);
	fprintf(f, "%d\n", *old_nr + 1);
	fclose(f);
	printf("#   reserved one 2 MiB hugepage (nr_hugepages was %d)\n", *old_nr);
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		return 0;
ok:
	munmap(p, SZ_2M);
	return 1;
}

static void restore_hugepages(int old_nr)
{
	FILE *f;

	if (old_nr < 0)
		return;
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	if (f) {
		fprintf(f, "%d\n", old_nr);
		fclose(f);
	}
}

/*
 * Copies inside one 2 MiB buffer, first half to second half, chosen to
 * cross 4 KiB boundaries and to hit both ends: on a hugepage each must be
 * a single contiguous run; on normal pages the crossing ones are split by
 * what GET_PA reports. 8 DMAs, not 2 MiB of them: each takes ~100 ms.
 */
static const struct { uint32_t src, dst, len; } chunks[] = {
	{ 0x000000, 0x1ff800, 2048 },	/* first bytes -> last bytes */
	{ 0x001000 - 1000, 0x101000 - 600, 2000 },	/* both cross a page */
	{ 0x0ff800, 0x100000, 2048 },	/* end of first half -> start of second */
	{ 0x080000 + 0x7ff, 0x1c0ffd, 1777 },	/* odd length; dst crosses a page */
};

TEST(dma_2m_hugepage)
{
	static const uint64_t spots[] = { 0x1000 - 1000, 0x12345, 0x100000, SZ_2M - 1 };
	struct vcn_dma h;
	uint8_t *want;
	int huge, old_nr, runs;
	uint64_t l, pa = 0, pm;
	struct edu e;
	size_t i;

	rng_init();
	edu_open(&e);
	huge = hugepage_available(&old_nr);
	if (!huge)
		printf("# SKIP hugepage: no 2 MiB hugetlb page in this guest; "
		       "copying through 2 MiB of normal 4 KiB pages instead\n");
	ASSERT_OK(vcn_dma_alloc(&e.d, SZ_2M, huge ? VCN_DMA_HUGE : 0, &h));
	if (huge) {
		/* one IOAS_MAP of one hugepage: one run, as upstream reports it */
		EXPECT_EQ(h.contig, SZ_2M);
		EXPECT_EQ(h.pa % SZ_2M, 0);
	} else {
		/* a run ends on a page boundary unless capped by the query */
		EXPECT_TRUE(h.contig >= 4096 && h.contig <= SZ_2M);
		EXPECT_EQ((h.pa + h.contig) % 4096, 0);
	}
	for (i = 0; i < ARRAY_SIZE(spots); i++) {
		l = SZ_2M - spots[i];
		ASSERT_OK(vcn_get_pa(&e.d, h.iova + spots[i], &l, &pa));
		EXPECT_EQ((pa + l) % 4096, 0);
		if (huge) {
			EXPECT_EQ(pa, h.pa + spots[i]);
			EXPECT_EQ(l, SZ_2M - spots[i]);
		}
		pm = vcn_pagemap_pa(h.va + spots[i]);
		if (pm)
			EXPECT_EQ(pa, pm);
	}

	want = malloc(SZ_2M);
	ASSERT_TRUE(want != NULL);
	fill_random(h.va, SZ_2M);
	memcpy(want, h.va, SZ_2M);
	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		runs = edu_xfer(&e, h.iova + chunks[i].src, chunks[i].len, 0);
		ASSERT_TRUE(runs > 0);
		if (huge)
			EXPECT_EQ(runs, 1);
		runs = edu_xfer(&e, h.iova + chunks[i].dst, chunks[i].len, 1);
		ASSERT_TRUE(runs > 0);
		if (huge)
			EXPECT_EQ(runs, 1);
		memcpy(want + chunks[i].dst, want + chunks[i].src, chunks[i].len);
	}
	/* the whole buffer: copied ranges changed, nothing else did */
	expect_same(huge ? "2 MiB hugepage, 4 copies" : "2 MiB of 4 KiB pages, 4 copies",
		    h.va, want, SZ_2M);
	free(want);
	EXPECT_OK(vcn_dma_free(&e.d, &h));
	restore_hugepages(old_nr);
	edu_close(&e);
}

TEST(dma_unaligned_iova_offset)
{
	const uint64_t fixed = 0x1234560000ULL;
	uint64_t iova = fixed, pa0 = 0, pa = 0, l;
	uint8_t *buf, *src, *dst;
	struct edu e;

	rng_init();
	edu_open(&e);
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_TRUE(buf != MAP_FAILED);
	ASSERT_OK(vcn_map(&e.d, buf, 8192, &iova, 1));
	EXPECT_EQ(iova, fixed);

	l = 1;
	ASSERT_OK(vcn_get_pa(&e.d, iova, &l, &pa0));
	/* inside one page the offset carries over exactly */
	l = 1;
	ASSERT_OK(vcn_get_pa(&e.d, iova + 123, &l, &pa));
	EXPECT_EQ(pa, pa0 + 123);
	EXPECT_EQ(l, 1);
	l = 8192 - 123;
	ASSERT_OK(vcn_get_pa(&e.d, iova + 123, &l, &pa));
	EXPECT_EQ(pa, pa0 + 123);
	EXPECT_TRUE(l >= 4096 - 123 && l <= 8192 - 123);
	EXPECT_EQ((pa + l) % 4096, 0);
	/* the last byte of the mapping: a run of exactly 1 */
	l = 100;
	ASSERT_OK(vcn_get_pa(&e.d, iova + 8191, &l, &pa));
	EXPECT_EQ(l, 1);

	src = buf + 123;		/* 1000 bytes inside page 0 */
	dst = buf + 4096 + 777;		/* 1000 bytes inside page 1 */
	fill_random(buf, 8192);
	fill_inverse(dst, src, 1000);
	{
		uint8_t before = dst[-1], after = dst[1000];

		EXPECT_EQ(edu_xfer(&e, iova + 123, 1000, 0), 1);
		EXPECT_EQ(edu_xfer(&e, iova + 4096 + 777, 1000, 1), 1);
		expect_same("unaligned 1000 bytes, +123 -> +4096+777", dst, src, 1000);
		/* a PA off by some bytes would also spill over the edges */
		EXPECT_EQ(dst[-1], before);
		EXPECT_EQ(dst[1000], after);
	}
	EXPECT_OK(vcn_unmap(&e.d, iova, 8192));
	munmap(buf, 8192);
	edu_close(&e);
}

/* one interrupt must arrive; then edu says why, and we acknowledge it */
static void expect_edu_irq(struct edu *e, int efd, uint32_t want, const char *what)
{
	uint32_t st;

	EXPECT_TRUE(vcn_eventfd_wait(efd, IRQ_TIMEOUT_MS, what) > 0);
	st = vcn_rd32(e->bar, EDU_IRQ_STATUS);
	EXPECT_EQ(st, want);
	vcn_wr32(e->bar, EDU_IRQ_ACK, st);
	EXPECT_EQ(vcn_rd32(e->bar, EDU_IRQ_STATUS), 0);
}

TEST(dma_completion_msi)
{
	struct vfio_irq_info ii;
	struct vcn_dma a, b;
	struct edu e;
	int efd;

	rng_init();
	edu_open(&e);
	ASSERT_OK(vcn_irq_info(&e.d, VFIO_PCI_MSI_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 1);
	EXPECT_TRUE(ii.flags & VFIO_IRQ_INFO_EVENTFD);
	ASSERT_OK(vcn_irq_info(&e.d, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 0);		/* edu has no MSI-X */
	ASSERT_OK(efd = vcn_eventfd());
	ASSERT_OK(vcn_msi_enable(&e.d, efd));
	EXPECT_EQ(vcn_eventfd_poll(efd, 100), 0);	/* nothing spurious */

	ASSERT_OK(vcn_dma_alloc(&e.d, 4096, 0, &a));
	ASSERT_OK(vcn_dma_alloc(&e.d, 4096, 0, &b));
	fill_random(a.va, 4096);
	fill_inverse(b.va, a.va, 4096);

	ASSERT_OK(edu_dma(e.bar, a.pa, EDU_BUF, EDU_CHUNK, EDU_CMD_IRQ));
	expect_edu_irq(&e, efd, EDU_IRQ_DMA, "MSI after RAM -> edu DMA");
	EXPECT_EQ(vcn_rd64(e.bar, EDU_DMA_CMD) & EDU_CMD_START, 0);
	ASSERT_OK(edu_dma(e.bar, EDU_BUF, b.pa, EDU_CHUNK, EDU_CMD_TO_RAM | EDU_CMD_IRQ));
	expect_edu_irq(&e, efd, EDU_IRQ_DMA, "MSI after edu -> RAM DMA");
	EXPECT_EQ(vcn_rd64(e.bar, EDU_DMA_CMD) & EDU_CMD_START, 0);
	/* the interrupt came after the data: no waiting on the status register */
	expect_same("DMA completed by MSI", b.va, a.va, EDU_CHUNK);
	fill_inverse(a.va, a.va, 4096);	/* a now holds b's untouched half */
	expect_same("bytes beyond the DMA untouched", b.va + EDU_CHUNK,
		    a.va + EDU_CHUNK, 4096 - EDU_CHUNK);

	/* a software-raised interrupt takes the same MSI path */
	vcn_wr32(e.bar, EDU_IRQ_RAISE, 0x10);
	expect_edu_irq(&e, efd, 0x10, "MSI after a write to 0x60");
	EXPECT_EQ(vcn_eventfd_poll(efd, 100), 0);
	EXPECT_OK(vcn_irq_disable(&e.d, VFIO_PCI_MSI_IRQ_INDEX));
	EXPECT_OK(vcn_dma_free(&e.d, &a));
	EXPECT_OK(vcn_dma_free(&e.d, &b));
	edu_close(&e);
}

TEST(intx_automask_and_unmask)
{
	struct vfio_irq_info ii;
	struct edu e;
	int efd;

	edu_open(&e);
	ASSERT_OK(vcn_irq_info(&e.d, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 1);
	EXPECT_EQ(ii.flags & (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			      VFIO_IRQ_INFO_AUTOMASKED),
		  VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED);
	ASSERT_OK(efd = vcn_eventfd());
	ASSERT_OK(vcn_intx_enable(&e.d, efd));
	EXPECT_EQ(vcn_eventfd_poll(efd, 100), 0);	/* line is low */

	vcn_wr32(e.bar, EDU_IRQ_RAISE, 0x1);
	expect_edu_irq(&e, efd, 0x1, "INTx after a write to 0x60");

	/* still masked (automask, no UNMASK yet): a new assertion waits */
	vcn_wr32(e.bar, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(vcn_eventfd_poll(efd, 300), 0);
	/* ... and is delivered at UNMASK, since the line is still asserted */
	ASSERT_OK(vcn_intx_unmask(&e.d));
	expect_edu_irq(&e, efd, 0x2, "INTx pending at UNMASK");

	/* silenced and unmasked: the next assertion comes through at once */
	ASSERT_OK(vcn_intx_unmask(&e.d));
	EXPECT_EQ(vcn_eventfd_poll(efd, 100), 0);
	vcn_wr32(e.bar, EDU_IRQ_RAISE, 0x4);
	expect_edu_irq(&e, efd, 0x4, "INTx after UNMASK");
	ASSERT_OK(vcn_intx_unmask(&e.d));
	EXPECT_EQ(vcn_eventfd_poll(efd, 200), 0);	/* acked: no more */
	EXPECT_OK(vcn_irq_disable(&e.d, VFIO_PCI_INTX_IRQ_INDEX));
	edu_close(&e);
}

int main(int argc, char **argv)
{
	if (!bdf()) {
		printf("Bail out! no edu device (1234:11e8; set VCN_EDU_BDF)\n");
		return 1;
	}
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
