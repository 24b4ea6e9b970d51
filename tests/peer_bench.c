// SPDX-License-Identifier: GPL-2.0
/*
 * peer_bench.c - the figures `make bench` compares with upstream 7.3's own
 * cdev no-IOMMU. It speaks only upstream's uAPI (the device node found
 * through sysfs vfio-dev/, the context node the module's sysfs parameter
 * names or else /dev/iommu, upstream's ioctls), so the same binary runs on
 * upstream's vfio-pci and on the module. Nothing of the module's own (its
 * debugfs counters) is read.
 *
 * Output, one line per figure: "peer: <figure> <value> <unit>", the value
 * the best of ROUNDS rounds (tests/bench.h); the host takes medians over
 * boots. Figures: GET_PA over 4 KiB and over a 2 MiB hugepage, a
 * /proc/self/pagemap lookup, MAP+UNMAP of 64 MiB in 4 KiB pages, THP and
 * hugetlb, a GET_PA walk of 64 MiB, the MSI and INTx round trips of an edu
 * interrupt, VFIO_DEVICE_GET_INFO; then scaling: GET_PA from 1, 2, 4 and 8
 * threads on one IOAS, MAP+UNMAP from 1, 2 and 4 threads on one IOAS and
 * on one IOAS per thread (each with its own device attached), as
 * throughput per thread relative to one thread.
 *
 * Devices (env): VCN_BENCH_BDFS, up to four bound functions (the first an
 * edu: the interrupts are its). VCN_BENCH_SHORT=1: rounds of 10 ms, a
 * smoke run that only shows every figure can be taken (make check). Exit
 * status 1 when a figure could not be measured.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>

#include "vcn_dev.h"
#include "bench.h"
#include "edu.h"

#define PG		4096UL
#define HPAGE		(2UL << 20)
#define BIG		(64UL << 20)	/* the 64 MiB figures */
#define THREAD_LEN	(4UL << 20)	/* each scaling thread's MAP+UNMAP */
#define MAX_DEVS	4
#define MAX_THREADS	8

static struct vcn_dev devs[MAX_DEVS];
static int ndevs, failed;
static volatile uint8_t *edu_bar;
static size_t edu_bar_size;
static int efd;

static void out(const char *name, double v, const char *unit)
{
	printf(unit[0] == 'x' ? "peer: %s %.3f %s\n" : "peer: %s %.1f %s\n", name, v, unit);
}

/* how much of this process's memory THP really backs (smaps_rollup) */
static void say_thp(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "AnonHugePages:", 14))
			printf("# THP in use: %s", line + 14);
	if (f)
		fclose(f);
}

/* ---------------- memory ---------------- */

enum backing { SMALL, THP, HUGETLB };

/* the THP buffer's mapping as mmap returned it (buf_alloc aligns inside) */
static uint8_t *thp_base;

static uint8_t *buf_alloc(size_t len, enum backing how)
{
	int f = MAP_PRIVATE | MAP_ANONYMOUS | (how == HUGETLB ? MAP_HUGETLB : 0);
	size_t want = how == THP ? len + HPAGE : len;
	uint8_t *p = mmap(NULL, want, PROT_READ | PROT_WRITE, f, -1, 0);

	if (p == MAP_FAILED) {
		vcn_fail("mmap %zu bytes%s", len, how == HUGETLB ? " MAP_HUGETLB" : "");
		return NULL;
	}
	if (how == THP) {	/* aligned, so every 2 MiB can be one huge page */
		thp_base = p;
		p = (uint8_t *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));
	}
	madvise(p, len, how == THP ? MADV_HUGEPAGE : how == SMALL ? MADV_NOHUGEPAGE : 0);
	memset(p, 0x5a, len);	/* populated: the pin need not fault */
	return p;
}

/* IOMMU_IOAS_MAP at a fixed IOVA of @d's IOAS (vcn_dev.h says why it failed) */
static int map_at(struct vcn_dev *d, void *va, uint64_t len, uint64_t iova)
{
	return vcn_map(d, va, len, &iova, 1);
}

static int get_pa(int ctx, uint32_t ioas, uint64_t iova, uint64_t len,
		  uint64_t *got)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = ioas, .iova = iova, .length = len,
	};

	if (ioctl(ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g))
		return -1;
	*got = g.length;
	return 0;
}

/* ---------------- the single-thread figures ---------------- */

/* GET_PA of one 4 KiB page, cycling through the pages of the mapping */
static int op_get_pa_page(struct bench *b, unsigned long n)
{
	uint64_t got;
	unsigned long i;

	for (i = 0; i < n; i++)
		if (get_pa(b->d->ctx, b->d->ioas, b->iova + (i % (b->len / PG)) * PG, PG, &got))
			return vcn_fail("%s: GET_PA", b->name);
	return 0;
}

/* GET_PA of the whole (physically contiguous) mapping at once */
static int op_get_pa_whole(struct bench *b, unsigned long n)
{
	uint64_t got;

	while (n--)
		if (get_pa(b->d->ctx, b->d->ioas, b->iova, b->len, &got) || got != b->len)
			return vcn_fail("%s: GET_PA", b->name);
	return 0;
}

static int op_pagemap(struct bench *b, unsigned long n)
{
	uint64_t e;
	unsigned long i;

	for (i = 0; i < n; i++)
		if (pread(b->fd, &e, 8, ((uintptr_t)b->va / PG + i % (b->len / PG)) * 8) != 8)
			return vcn_fail("pread pagemap");
	return 0;
}

static int op_map_unmap(struct bench *b, unsigned long n)
{
	while (n--) {
		if (map_at(b->d, b->va, b->len, b->iova))
			return vcn_fail("%s: MAP", b->name);
		if (vcn_unmap(b->d, b->iova, b->len))
			return vcn_fail("%s: UNMAP", b->name);
	}
	return 0;
}

/* GET_PA from the start of a mapping to its end, run by contiguous run */
static int op_walk(struct bench *b, unsigned long n)
{
	uint64_t off, got;

	while (n--)
		for (off = 0; off < b->len; off += got)
			if (get_pa(b->d->ctx, b->d->ioas, b->iova + off, b->len - off, &got) || !got)
				return vcn_fail("%s: GET_PA at +%#llx", b->name,
						(unsigned long long)off);
	return 0;
}

static int op_get_info(struct bench *b, unsigned long n)
{
	struct vfio_device_info info;

	while (n--) {
		info = (struct vfio_device_info){ .argsz = sizeof(info) };
		if (ioctl(b->d->dev, VFIO_DEVICE_GET_INFO, &info))
			return vcn_fail("GET_INFO");
	}
	return 0;
}

/* edu raises its interrupt; the eventfd says so; the driver acks it */
static int irq_round_trip(int intx, unsigned long n, struct vcn_dev *d)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t cnt;

	while (n--) {
		vcn_wr32(edu_bar, EDU_IRQ_RAISE, 1);
		if (poll(&p, 1, 1000) != 1 || read(efd, &cnt, 8) != 8)
			return vcn_fail("no %s within 1 s", intx ? "INTx" : "MSI");
		vcn_wr32(edu_bar, EDU_IRQ_ACK, ~0u);
		if (intx && vcn_intx_unmask(d))
			return -1;
	}
	return 0;
}

static int op_msi(struct bench *b, unsigned long n) { return irq_round_trip(0, n, b->d); }
static int op_intx(struct bench *b, unsigned long n) { return irq_round_trip(1, n, b->d); }

static void figure(struct bench *b, const char *unit, double scale)
{
	struct bench *set[1] = { b };

	if (measure(set, 1)) {
		failed++;
		return;
	}
	out(b->name, b->best / scale, unit);
}

static void single_figures(struct vcn_dev *d)
{
	uint8_t *small = buf_alloc(BIG, SMALL), *thp = buf_alloc(BIG, THP);
	uint8_t *huge = buf_alloc(BIG, HUGETLB);
	const uint64_t iova = 1ULL << 32, hiova = 1ULL << 33, tiova = 3ULL << 32;
	struct bench b;

	if (!small || !thp || !huge || map_at(d, small, BIG, iova)) {
		failed++;
		goto out;
	}
	if (map_at(d, huge, BIG, hiova)) {
		vcn_unmap(d, iova, BIG);
		failed++;
		goto out;
	}
	say_thp();
	b = (struct bench){ .name = "getpa_4k", .run = op_get_pa_page, .d = d, .iova = iova, .len = BIG };
	figure(&b, "ns", 1);
	b = (struct bench){ .name = "getpa_2m_hugepage", .run = op_get_pa_whole, .d = d, .iova = hiova, .len = HPAGE };
	figure(&b, "ns", 1);
	b = (struct bench){ .name = "pagemap_lookup", .run = op_pagemap, .va = small, .len = BIG,
			    .fd = open("/proc/self/pagemap", O_RDONLY) };
	figure(&b, "ns", 1);
	close(b.fd);
	b = (struct bench){ .name = "walk_64m_getpa", .run = op_walk, .d = d, .iova = iova, .len = BIG };
	figure(&b, "us", 1000);
	vcn_unmap(d, iova, BIG);
	vcn_unmap(d, hiova, BIG);
	b = (struct bench){ .name = "map_unmap_64m_4k", .run = op_map_unmap, .d = d, .iova = tiova, .va = small, .len = BIG };
	figure(&b, "us", 1000);
	b = (struct bench){ .name = "map_unmap_64m_thp", .run = op_map_unmap, .d = d, .iova = tiova, .va = thp, .len = BIG };
	figure(&b, "us", 1000);
	b = (struct bench){ .name = "map_unmap_64m_hugetlb", .run = op_map_unmap, .d = d, .iova = tiova, .va = huge, .len = BIG };
	figure(&b, "us", 1000);
	b = (struct bench){ .name = "get_info", .run = op_get_info, .d = d };
	figure(&b, "ns", 1);
out:
	if (small)
		munmap(small, BIG);
	if (thp)
		munmap(thp_base, BIG + HPAGE);
	if (huge)
		munmap(huge, BIG);
}

static void irq_figures(struct vcn_dev *d)
{
	static const struct {
		const char *name;
		unsigned int index;
		int (*run)(struct bench *b, unsigned long n);
	} irqs[2] = {
		{ "msi_round_trip", VFIO_PCI_MSI_IRQ_INDEX, op_msi },
		{ "intx_round_trip", VFIO_PCI_INTX_IRQ_INDEX, op_intx },
	};
	struct bench b;
	int i;

	edu_bar = vcn_bar_mmap(d, VFIO_PCI_BAR0_REGION_INDEX, &edu_bar_size);
	if (!edu_bar || vcn_rd32(edu_bar, EDU_ID) != EDU_ID_VALUE || vcn_enable_bus_master(d) ||
	    (efd = vcn_eventfd()) < 0) {
		vcn_fail("the first device is not a working edu");
		failed++;
		return;
	}
	for (i = 0; i < 2; i++) {
		int32_t fd = efd;

		if (vcn_irq_set_eventfds(d, irqs[i].index, 0, 1, &fd)) {
			failed++;
			continue;
		}
		b = (struct bench){ .name = irqs[i].name, .run = irqs[i].run, .d = d };
		figure(&b, "us", 1000);
		vcn_irq_disable(d, irqs[i].index);
	}
}

/* ---------------- scaling ---------------- */

struct worker {
	pthread_t t;
	struct vcn_dev *d;	/* its IOAS is d->ioas */
	uint64_t iova;
	uint8_t *va;
	int map;		/* MAP+UNMAP, else GET_PA */
	unsigned long ops;
	int err;
};

static volatile int go, stop;

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t got;
	unsigned long i = 0;

	while (!go)
		;
	while (!stop) {
		if (w->map)
			w->err |= map_at(w->d, w->va, THREAD_LEN, w->iova) ||
				  vcn_unmap(w->d, w->iova, THREAD_LEN);
		else
			w->err |= get_pa(w->d->ctx, w->d->ioas, w->iova + (i % (THREAD_LEN / PG)) * PG,
					 PG, &got);
		i++;
	}
	w->ops = i;
	return NULL;
}

/* total operations per second of @n workers running for SCALE_NS */
static double run_workers(struct worker *w, int n)
{
	uint64_t t0;
	unsigned long ops = 0;
	int i, err = 0;

	go = stop = 0;
	for (i = 0; i < n; i++) {
		w[i].err = 0;
		w[i].ops = 0;
		if (pthread_create(&w[i].t, NULL, work, &w[i])) {
			vcn_fail("pthread_create");
			failed++;
			stop = go = 1;
			n = i;	/* join only the ones that started */
			break;
		}
	}
	t0 = now_ns();
	go = 1;
	while (now_ns() - t0 < round_ns)
		usleep(10000);
	stop = 1;
	for (i = 0; i < n; i++) {
		pthread_join(w[i].t, NULL);
		ops += w[i].ops;
		err |= w[i].err;
	}
	if (err) {
		vcn_fail("a scaling worker's ioctl failed");
		failed++;
	}
	return ops * 1e9 / (double)(now_ns() - t0);
}

static void scale_figure(const char *what, struct worker *w, const int *counts)
{
	double one = 0, rate;
	char name[64];
	int i;

	for (i = 0; counts[i]; i++) {
		rate = run_workers(w, counts[i]);
		if (i == 0)
			one = rate;
		snprintf(name, sizeof(name), "scale_%s_t%d", what, counts[i]);
		/* per thread, relative to one thread alone: 1.0 is perfect */
		out(name, one ? rate / counts[i] / one : 0, "x");
	}
}

static void scaling(void)
{
	static const int getpa_counts[] = { 1, 2, 4, 8, 0 };
	static const int map_counts[] = { 1, 2, 4, 0 };
	struct worker w[MAX_THREADS];
	uint8_t *mem = buf_alloc(MAX_THREADS * THREAD_LEN, SMALL);
	const uint64_t base = 1ULL << 36;
	int i;

	if (!mem || map_at(&devs[0], mem, MAX_THREADS * THREAD_LEN, base)) {
		failed++;
		return;
	}
	for (i = 0; i < MAX_THREADS; i++)
		w[i] = (struct worker){ .d = &devs[0], .iova = base + i * THREAD_LEN };
	scale_figure("getpa_one_ioas", w, getpa_counts);
	vcn_unmap(&devs[0], base, MAX_THREADS * THREAD_LEN);
	for (i = 0; i < MAX_THREADS; i++)
		w[i] = (struct worker){ .d = &devs[0], .map = 1, .iova = base + i * THREAD_LEN,
					.va = mem + i * THREAD_LEN };
	scale_figure("mapunmap_one_ioas", w, map_counts);
	if (ndevs < 4) {
		printf("# scale_mapunmap_own_ioas: needs 4 devices, %d bound\n", ndevs);
		failed++;
		return;
	}
	/* one IOAS per thread, each with its own device attached */
	for (i = 0; i < 4; i++)
		w[i] = (struct worker){ .d = &devs[i], .map = 1, .iova = base,
					.va = mem + i * THREAD_LEN };
	scale_figure("mapunmap_own_ioas", w, map_counts);
	munmap(mem, MAX_THREADS * THREAD_LEN);
}

int main(void)
{
	char *list = getenv("VCN_BENCH_BDFS"), *bdf, *save = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("VCN_BENCH_SHORT"))
		round_ns = ROUND_NS / 30;
	if (!list) {
		fprintf(stderr, "peer_bench: VCN_BENCH_BDFS is not set\n");
		return 1;
	}
	list = strdup(list);
	for (bdf = strtok_r(list, " ", &save); bdf && ndevs < MAX_DEVS;
	     bdf = strtok_r(NULL, " ", &save)) {
		if (vcn_dev_open(&devs[ndevs], bdf))
			return 1;
		ndevs++;
	}
	printf("# peer_bench: %d devices, context node %s\n", ndevs, vcn_ictx_node());
	single_figures(&devs[0]);
	irq_figures(&devs[0]);
	scaling();
	printf("# peer_bench: %d figures not measured\n", failed);
	return failed ? 1 : 0;
}
