// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - a multi-threaded fuzzer of everything the module offers userspace.
 *
 * Several threads (FUZZ_THREADS or argv[2], default 4) run for a bounded time
 * (FUZZ_SECONDS or argv[1], default 20) and issue long random sequences of
 * operations on one shared pool of file descriptors: opening, dup'ing and
 * closing the context node and the device cdev; every iommufd command with
 * random sizes (too small, exact, larger with zero or non-zero tails), flags,
 * ids, IOVAs, lengths and user addresses; every device ioctl; pread/pwrite of
 * the regions; mmap/munmap of BAR0 and touching the mappings (SIGBUS is
 * expected when memory decode is off). Inputs are mostly valid, built from
 * ids and mappings remembered from earlier successful calls, so the fuzzer
 * gets deep; a share of them is wild.
 *
 * The device is QEMU's edu (VCN_BDF, default the first 1234:11e8). Nothing
 * here may make it DMA: bus mastering is never turned on, its DMA registers
 * (BAR0 0x80..0x9f) are never written, and config writes stay on the command
 * register (bus master bit cleared), the virtual BARs and ROM BAR, and
 * offsets >= 0x40. Interrupts are raised through BAR0 0x60 only when no
 * other driver shares edu's interrupt line.
 *
 * At the end everything is closed and the module's debugfs counters must be
 * back at zero. A watchdog reports a thread that stops making progress
 * (a kernel hang) instead of hanging itself. Output: per-kind counts, the
 * errnos seen, and TAP lines "ok - ..." / "not ok - ..."; exit status 0 only
 * when every check passed. FUZZ_SEED sets the seed (runs are not exactly
 * repeatable: threads race). FUZZ_FAULTS=pct turns on fault injection for
 * the fuzzing threads where the kernel has it (user copies; FUZZ_FAILSLAB=1
 * adds slab allocations), FUZZ_NO_IRQ=1 never raises edu's interrupt.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

#include "vcn_dev.h"
#include "vcn_soak.h"

#define PG		4096UL
#define NSLOTS		16	/* the shared fd pool */
#define NIDS		8	/* remembered object ids per context */
#define NMAPREC		16	/* remembered mappings per context */
#define MAXMAPS		6	/* BAR mmaps per thread */
#define MAXTHREADS	32
#define RAWCAP		768	/* largest argument we build */
#define ARGOFF		64	/* where an argument normally sits in the arg pages */
#define ERRMAX		134
#define EDU_DMA_FIRST	0x80	/* src, dst, count, command: never written */
#define EDU_DMA_END	0xa0
#define STALL_SECONDS	30	/* no progress this long: the kernel hangs */

#ifndef offsetofend
#define offsetofend(T, m)	(offsetof(T, m) + sizeof(((T *)0)->m))
#endif

#define OPS(X)								\
	X(OPEN_CTX, "open_ctx", 2) X(OPEN_DEV, "open_dev", 2)		\
	X(DUP, "dup", 1) X(CLOSE, "close", 3)				\
	X(DESTROY, "destroy", 3) X(IOAS_ALLOC, "ioas_alloc", 4)		\
	X(IOVA_RANGES, "iova_ranges", 2) X(MAP, "map", 14)		\
	X(UNMAP, "unmap", 10) X(GET_PA, "get_pa", 10)			\
	X(IOMMU_RAND, "iommu_rand", 2) X(BIND, "bind", 4)		\
	X(ATTACH, "attach", 5) X(DETACH, "detach", 2)			\
	X(GET_INFO, "get_info", 2) X(REGION_INFO, "region_info", 3)	\
	X(IRQ_INFO, "irq_info", 2) X(SET_IRQS, "set_irqs", 7)		\
	X(RESET, "reset", 1) X(HOT_RESET_INFO, "hot_reset_info", 1)	\
	X(HOT_RESET, "hot_reset", 1) X(DEV_RAND, "dev_rand", 1)		\
	X(PREAD, "pread", 6) X(PWRITE, "pwrite", 6)			\
	X(MMAP, "mmap", 4) X(MUNMAP, "munmap", 3) X(TOUCH, "touch", 6)	\
	X(BUF_CHURN, "buf_churn", 1) X(DRAIN, "drain", 2)		\
	X(FDINFO, "fdinfo", 1) X(CHAIN, "chain", 3)

#define X_ENUM(e, n, w)	OP_##e,
enum { OPS(X_ENUM) OP_N };
#define X_NAME(e, n, w)	n,
static const char *const op_name[OP_N] = { OPS(X_NAME) };
#define X_W(e, n, w)	w,
static const unsigned int op_weight[OP_N] = { OPS(X_W) };

enum { SK_NONE, SK_CTX, SK_DEV };

struct maprec {
	uint32_t ioas;
	uint64_t iova, len;
};

/*
 * One pool entry. fd: -1 free, -2 being set up, else open. Everything else
 * is a hint that threads read and write without locks: a stale or torn
 * value only makes an input less valid, which is fine for a fuzzer.
 */
struct slot {
	int fd;
	int kind;
	unsigned int gen;
	uint32_t ids[NIDS];		/* ctx: any object id seen */
	uint32_t ioas[NIDS];		/* ctx: IOAS ids */
	uint32_t att[NIDS];		/* ctx: IOAS ids a device was attached to */
	struct maprec maps[NMAPREC];	/* ctx: mappings made */
	int bctx;			/* dev: slot of the bound context */
	unsigned int bgen;
	int bound;			/* dev: BIND succeeded on this file */
};

struct bmap {
	uint8_t *addr;
	size_t len;
	uint64_t baroff;	/* BAR0 offset of addr; ~0 if not BAR0 */
	int prot;
	int slot;		/* mapped through this slot's fd ... */
	unsigned int gen;	/* ... while it held this file */
};

struct thr {
	int idx;
	pthread_t th;
	uint64_t seed;
	uint8_t *rw, *ro;	/* the same 2 pages twice (RW, RO), guard after */
	uint8_t *data;		/* 16 KiB for pread/pwrite */
	int efd[4];
	struct bmap maps[MAXMAPS];
	int nmaps;
	uint64_t ops[OP_N], okc[OP_N];
	uint32_t err[OP_N][ERRMAX];
	uint64_t sigbus, irqs;
	volatile uint64_t progress;
	volatile int cur_op;
	volatile int done;
};

struct buf {
	uint8_t *p;
	size_t len;
	const char *name;
};

static struct slot slots[NSLOTS];
static struct thr thr[MAXTHREADS];
static int nthreads = 4;
static struct buf bufs[6];
static int nbufs;
static int volatile_buf = -1;	/* the buffer buf_churn plays with */
static const char *g_bdf, *g_devnode, *g_ctxnode;
static uint64_t g_bar0_size = 1 << 20;
static uint32_t g_cfg_size = 256;
static int g_raise_ok;		/* edu may raise INTx: nobody else on the line */
static volatile int g_stop;
static volatile int g_bound = -1;	/* hint: slot of the last bound device */
static volatile int g_unexpected_sig;

static __thread sigjmp_buf t_jb;
static __thread volatile sig_atomic_t t_in_touch;

static int chance(unsigned int pct)
{
	return rnd(100) < pct;
}

static uint64_t wild64(void)
{
	static const uint64_t w[] = {
		0, 1, PG - 1, PG, PG + 1, 1ULL << 32, 1ULL << 40, 1ULL << 47,
		1ULL << 52, 1ULL << 63, UINT64_MAX, UINT64_MAX - PG + 1,
		UINT64_MAX - 1, 0x7fffffffffffffffULL, 0xffffffff, 0x80000000,
	};

	return chance(70) ? w[rnd(sizeof(w) / sizeof(w[0]))] : rnd64();
}

/* ---------------- accounting ---------------- */

static void account(struct thr *t, int op, long r, int e)
{
	t->ops[op]++;
	if (r >= 0)
		t->okc[op]++;
	else
		t->err[op][e > 0 && e < ERRMAX ? e : 0]++;
}

/* ---------------- the fd pool ---------------- */

static int slot_fd(int i)
{
	return __atomic_load_n(&slots[i].fd, __ATOMIC_ACQUIRE);
}

static int slot_claim(void)
{
	int i, tries;

	for (tries = 0; tries < 4; tries++) {
		int exp = -1;

		i = rnd(NSLOTS);
		if (__atomic_compare_exchange_n(&slots[i].fd, &exp, -2, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return i;
	}
	return -1;
}

static void slot_publish(int i, int kind, int fd)
{
	struct slot *s = &slots[i];

	s->kind = kind;
	s->gen++;
	memset(s->ids, 0, sizeof(s->ids));
	memset(s->ioas, 0, sizeof(s->ioas));
	memset(s->att, 0, sizeof(s->att));
	memset(s->maps, 0, sizeof(s->maps));
	s->bctx = -1;
	s->bound = 0;
	__atomic_store_n(&s->fd, fd, __ATOMIC_RELEASE);
}

/* close the fd of slot i once, whoever else still uses the number */
static int slot_close(int i)
{
	int fd = slot_fd(i);

	if (fd < 0)
		return -2;
	if (!__atomic_compare_exchange_n(&slots[i].fd, &fd, -1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return -2;
	return close(fd);
}

/* a random open slot of this kind (SK_NONE: any), or -1 */
static int pick_slot(int kind)
{
	int start = rnd(NSLOTS), k;

	for (k = 0; k < NSLOTS; k++) {
		int i = (start + k) % NSLOTS;

		if (slot_fd(i) >= 0 && (kind == SK_NONE || slots[i].kind == kind))
			return i;
	}
	return -1;
}

/* a slot whose file a BIND succeeded on (it may be stale), or -1 */
static int pick_bound(void)
{
	int b = g_bound, start = rnd(NSLOTS), k;

	if (b >= 0 && slot_fd(b) >= 0 && slots[b].kind == SK_DEV && slots[b].bound)
		return b;
	for (k = 0; k < NSLOTS; k++) {
		int i = (start + k) % NSLOTS;

		if (slot_fd(i) >= 0 && slots[i].kind == SK_DEV && slots[i].bound)
			return i;
	}
	return -1;
}

/* a device fd: mostly one that is bound, so device ioctls get somewhere */
static int pick_dev(void)
{
	int b = chance(80) ? pick_bound() : -1;

	return b >= 0 ? b : pick_slot(SK_DEV);
}

static void remember(uint32_t *arr, uint32_t id)
{
	arr[rnd(NIDS)] = id;
}

/* a remembered id, or 0 if none */
static uint32_t pick_id(const uint32_t *arr)
{
	int start = rnd(NIDS), k;

	for (k = 0; k < NIDS; k++)
		if (arr[(start + k) % NIDS])
			return arr[(start + k) % NIDS];
	return 0;
}

/* an IOAS id for a command on the context in slot si */
static uint32_t pick_ioas(int si)
{
	uint32_t id = 0;

	if (si >= 0 && chance(50))
		id = pick_id(slots[si].att);
	if (!id && si >= 0 && chance(85))
		id = pick_id(slots[si].ioas);
	else if (si >= 0 && chance(40))
		id = pick_id(slots[si].ids);	/* maybe a hwpt or device */
	if (!id)
		id = chance(80) ? 1 + rnd(8) : (uint32_t)wild64();
	return id;
}

/* a context for an iommufd command: often the one the device is bound to */
static int pick_ctx(void)
{
	int b = chance(50) ? pick_bound() : -1, c;

	if (b >= 0) {
		c = slots[b].bctx;
		if (c >= 0 && slot_fd(c) >= 0 && slots[c].kind == SK_CTX &&
		    slots[c].gen == slots[b].bgen)
			return c;
	}
	return pick_slot(SK_CTX);
}

static const struct maprec *pick_map(int si)
{
	int start = rnd(NMAPREC), k;

	if (si < 0)
		return NULL;
	for (k = 0; k < NMAPREC; k++) {
		const struct maprec *m = &slots[si].maps[(start + k) % NMAPREC];

		if (m->len)
			return m;
	}
	return NULL;
}

/* any fd, for arguments that want one */
static int pick_any_fd(struct thr *t)
{
	int s;

	switch (rnd(8)) {
	case 0: case 1: case 2:
		s = pick_slot(SK_CTX);
		return s >= 0 ? slot_fd(s) : -1;
	case 3:
		s = pick_slot(SK_DEV);
		return s >= 0 ? slot_fd(s) : -1;
	case 4:
		return t->efd[rnd(4)];
	case 5:
		return -1;
	case 6:
		return 1000 + rnd(1000);
	default:
		return (int)rnd64();
	}
}

/* ---------------- argument placement ---------------- */

enum { PL_NORMAL, PL_RO, PL_EDGE, PL_NULL, PL_WILD, PL_KERNEL, PL_ODD, PL_BAR };

/* a BAR mapping of this thread past BAR0's first page (writes land nowhere) */
static struct bmap *safe_bar_map(struct thr *t, size_t need)
{
	int i, start = rnd(MAXMAPS);

	for (i = 0; i < t->nmaps; i++) {
		struct bmap *m = &t->maps[(start + i) % t->nmaps];

		if (m->baroff != ~0ULL && m->baroff >= PG && m->len >= need &&
		    (m->prot & PROT_WRITE))
			return m;
	}
	return NULL;
}

/*
 * Put n bytes of raw where an ioctl will look for its argument. Mostly at a
 * normal address; sometimes read-only (the answer cannot be written back),
 * across the end into a guard page, NULL, wild, a kernel address, odd, or in
 * a BAR mapping.
 */
static void *place(struct thr *t, const void *raw, size_t n, int *how)
{
	uint32_t c = rnd(100);
	struct bmap *m;
	size_t k;

	memset(t->rw, 0, 2 * PG);
	if (n > RAWCAP)
		n = RAWCAP;
	if (c < 88) {
		*how = PL_NORMAL;
		memcpy(t->rw + ARGOFF, raw, n);
		return t->rw + ARGOFF;
	}
	if (c < 91) {
		*how = PL_RO;
		memcpy(t->rw + ARGOFF, raw, n);
		return t->ro + ARGOFF;
	}
	if (c < 93 && n) {
		*how = PL_EDGE;
		k = 1 + rnd(n);
		memcpy(t->rw + 2 * PG - k, raw, k);
		return t->rw + 2 * PG - k;
	}
	if (c < 94) {
		*how = PL_ODD;
		k = 1 + rnd(7);
		memcpy(t->rw + ARGOFF + k, raw, n);
		return t->rw + ARGOFF + k;
	}
	if (c < 96 && (m = safe_bar_map(t, n))) {
		*how = PL_BAR;
		return m->addr;
	}
	if (c < 97) {
		*how = PL_NULL;
		return NULL;
	}
	if (c < 98) {
		*how = PL_WILD;
		return (void *)(uintptr_t)(chance(50) ? 0xdead0000UL : rnd64());
	}
	*how = PL_KERNEL;
	return (void *)0xffffffff81000000UL;
}

/*
 * The leading size/argsz of a struct whose minimum is minsz and full size
 * full; raw (RAWCAP bytes, zero past the struct) may get a non-zero tail.
 */
static uint32_t fuzz_size(uint32_t minsz, uint32_t full, uint8_t *raw)
{
	uint32_t c = rnd(100), sz;

	if (c < 72)
		return full;
	if (c < 80)
		return minsz;
	if (c < 86)	/* larger, zero tail */
		return full + 4 * (1 + rnd(32));
	if (c < 90) {	/* larger, non-zero tail */
		sz = full + 4 * (1 + rnd(32));
		raw[full + rnd(sz - full)] = 1 + rnd(255);
		return sz;
	}
	if (c < 94)
		return minsz ? rnd(minsz) : 0;
	if (c < 96)
		return 0;
	if (c < 98)
		return chance(50) ? 2 * PG : (chance(50) ? 0xffffffff : 1 << 20);
	return rnd(RAWCAP);
}

/*
 * Build the argument (struct st of full bytes, leading u32 size), place it,
 * run the ioctl; the answer is copied back into st when it was placed
 * normally. Returns the ioctl's result, errno in *e.
 */
static long do_ioctl(struct thr *t, int fd, unsigned long cmd, void *st,
		     uint32_t minsz, uint32_t full, int fuzzsize, int *e,
		     int *how)
{
	uint8_t raw[RAWCAP];
	uint32_t sz = full;
	void *arg;
	long r;

	memset(raw, 0, sizeof(raw));
	memcpy(raw, st, full);
	if (fuzzsize) {
		sz = fuzz_size(minsz, full, raw);
		memcpy(raw, &sz, sizeof(sz));
	} else if (!*(uint32_t *)raw) {
		memcpy(raw, &full, sizeof(full));
	}
	arg = place(t, raw, sz > full ? (sz < RAWCAP ? sz : RAWCAP) : full, how);
	r = ioctl(fd, cmd, arg);
	*e = errno;
	if (*how == PL_NORMAL)
		memcpy(st, t->rw + ARGOFF, full);
	return r;
}

/* ---------------- user addresses ---------------- */

/* a user address and length (bytes) for IOAS_MAP */
static uint64_t pick_uva(struct thr *t, uint64_t *len)
{
	struct buf *b = &bufs[rnd(nbufs)];
	size_t npg = b->len / PG, pg = rnd(npg);
	size_t maxpg = npg - pg;
	uint64_t va = (uintptr_t)b->p + pg * PG;
	struct bmap *m;

	*len = (chance(80) ? 1 + rnd(maxpg < 16 ? maxpg : 16) : 1 + rnd(maxpg)) * PG;
	if (chance(88))
		return va;
	switch (rnd(10)) {
	case 0:
		*len += PG * (1 + rnd(64));	/* runs past the buffer */
		return va;
	case 1:
		return va + 1 + rnd(PG - 1);	/* unaligned */
	case 2:
		*len += 1 + rnd(PG - 1);
		return va;
	case 3:
		return 0;
	case 4:
		return (uintptr_t)t->rw + 2 * PG;	/* the guard page */
	case 5:
		return 0xffffffff81000000ULL;
	case 6:
		m = t->nmaps ? &t->maps[rnd(t->nmaps)] : NULL;
		if (m) {
			*len = m->len;
			return (uintptr_t)m->addr;	/* MMIO: not pinnable */
		}
		return va;
	case 7:
		*len = 0;
		return va;
	case 8:	/* huge lengths, rarely: the pin fails at the first hole */
		*len = chance(90) ? (uint64_t)PG << (4 + rnd(14)) : wild64() & ~(PG - 1);
		return va;
	default:
		return (uintptr_t)t->ro;
	}
}

/* ---------------- the context node ---------------- */

static void op_open_ctx(struct thr *t)
{
	int i = slot_claim(), fd, e;
	int fl = chance(90) ? O_RDWR : (chance(50) ? O_RDONLY : O_WRONLY);

	if (i < 0)
		return;
	fd = open(g_ctxnode, fl | O_CLOEXEC);
	e = errno;
	account(t, OP_OPEN_CTX, fd, e);
	if (fd < 0) {
		__atomic_store_n(&slots[i].fd, -1, __ATOMIC_RELEASE);
		return;
	}
	slot_publish(i, SK_CTX, fd);
}

static void op_bind_slot(struct thr *t, int di, int ctxslot, int fd);

static void op_open_dev(struct thr *t)
{
	int i = slot_claim(), fd, e;
	int fl = chance(92) ? O_RDWR : O_RDONLY;

	if (i < 0)
		return;
	fd = open(g_devnode, fl | O_CLOEXEC);
	e = errno;
	account(t, OP_OPEN_DEV, fd, e);
	if (fd < 0) {
		__atomic_store_n(&slots[i].fd, -1, __ATOMIC_RELEASE);
		return;
	}
	slot_publish(i, SK_DEV, fd);
	if (chance(70)) {
		int c = pick_slot(SK_CTX);

		if (c >= 0)
			op_bind_slot(t, i, c, slot_fd(c));
	}
}

static void op_dup(struct thr *t)
{
	int s = pick_slot(SK_NONE), i, fd, e, kind;

	if (s < 0)
		return;
	kind = slots[s].kind;
	i = slot_claim();
	if (i < 0)
		return;
	fd = fcntl(slot_fd(s), F_DUPFD_CLOEXEC, 3);
	e = errno;
	account(t, OP_DUP, fd, e);
	if (fd < 0) {
		__atomic_store_n(&slots[i].fd, -1, __ATOMIC_RELEASE);
		return;
	}
	slot_publish(i, kind, fd);
	/* a dup is the same file: it shares what the original knows */
	memcpy(slots[i].ids, slots[s].ids, sizeof(slots[i].ids));
	memcpy(slots[i].ioas, slots[s].ioas, sizeof(slots[i].ioas));
	memcpy(slots[i].maps, slots[s].maps, sizeof(slots[i].maps));
	slots[i].bctx = slots[s].bctx;
	slots[i].bgen = slots[s].bgen;
	slots[i].bound = slots[s].bound;
}

static void op_close(struct thr *t)
{
	int s = pick_slot(SK_NONE), r;

	if (s < 0 || (s == g_bound && chance(60)))
		return;
	/* and the context it is bound to: without a fd to it, no GET_PA */
	if (g_bound >= 0 && s == slots[g_bound].bctx && chance(60))
		return;
	r = slot_close(s);
	if (r != -2)
		account(t, OP_CLOSE, r, errno);
}

static void op_destroy(struct thr *t)
{
	int s = pick_ctx(), e, how;
	struct iommu_destroy d = { 0 };
	long r;

	if (s < 0)
		return;
	d.id = chance(50) ? pick_ioas(s) : pick_id(slots[s].ids);
	if (!d.id || chance(5))
		d.id = chance(50) ? rnd(16) : (uint32_t)wild64();
	r = do_ioctl(t, slot_fd(s), IOMMU_DESTROY, &d, 8, sizeof(d), 1, &e, &how);
	account(t, OP_DESTROY, r, e);
}

static void op_ioas_alloc(struct thr *t)
{
	int s = pick_ctx(), e, how;
	struct iommu_ioas_alloc a = { 0 };
	long r;

	if (s < 0)
		return;
	if (chance(4))
		a.flags = (uint32_t)wild64();
	r = do_ioctl(t, slot_fd(s), IOMMU_IOAS_ALLOC, &a,
		     offsetofend(struct iommu_ioas_alloc, out_ioas_id), sizeof(a),
		     1, &e, &how);
	account(t, OP_IOAS_ALLOC, r, e);
	if (!r && how == PL_NORMAL && a.out_ioas_id) {
		remember(slots[s].ioas, a.out_ioas_id);
		remember(slots[s].ids, a.out_ioas_id);
	}
}

static void op_iova_ranges(struct thr *t)
{
	int s = pick_ctx(), e, how;
	struct iommu_ioas_iova_ranges q = { 0 };
	struct bmap *m;
	long r;

	if (s < 0)
		return;
	q.ioas_id = pick_ioas(s);
	q.num_iovas = chance(70) ? 1 + rnd(2) : (chance(50) ? 0 : (uint32_t)wild64());
	q.__reserved = chance(3);
	switch (rnd(12)) {
	case 0:
		q.allowed_iovas = 0;
		break;
	case 1:
		q.allowed_iovas = (uintptr_t)t->ro;
		break;
	case 2:
		q.allowed_iovas = wild64();
		break;
	case 3:
		m = safe_bar_map(t, 64);
		q.allowed_iovas = m ? (uintptr_t)m->addr : 0;
		break;
	case 4:
		q.allowed_iovas = (uintptr_t)t->rw + 2 * PG - 8;	/* half in the guard */
		break;
	default:
		q.allowed_iovas = (uintptr_t)t->data;
	}
	r = do_ioctl(t, slot_fd(s), IOMMU_IOAS_IOVA_RANGES, &q,
		     offsetofend(struct iommu_ioas_iova_ranges, out_iova_alignment),
		     sizeof(q), 1, &e, &how);
	account(t, OP_IOVA_RANGES, r, e);
}

static uint64_t pick_iova(int s, uint64_t len)
{
	const struct maprec *m = pick_map(s);
	uint32_t c = rnd(100);

	if (m && c < 45) {
		switch (rnd(5)) {
		case 0:
			return m->iova;
		case 1:
			return m->iova + m->len;
		case 2:
			return m->iova - len;
		case 3:
			return m->iova + PG * rnd(m->len / PG + 1);
		default:
			return m->iova - PG * rnd(4);
		}
	}
	if (c < 92)
		return 0x10000000ULL + PG * rnd(2048);	/* a dense window: collisions */
	if (c < 96)
		return 0x10000000ULL + PG * rnd(2048) + 1 + rnd(PG - 1);
	return wild64();
}

static void op_map(struct thr *t)
{
	int s = pick_ctx(), e, how;
	struct iommu_ioas_map m = { 0 };
	uint32_t c = rnd(100);
	uint64_t len;
	long r;

	if (s < 0)
		return;
	if (c < 86)
		m.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	else if (c < 91)
		m.flags = IOMMU_IOAS_MAP_READABLE;
	else if (c < 94)
		m.flags = IOMMU_IOAS_MAP_WRITEABLE;
	else if (c < 97)
		m.flags = 0;
	else
		m.flags = (uint32_t)wild64();
	if (chance(60))
		m.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
	m.ioas_id = pick_ioas(s);
	m.__reserved = chance(2) ? 1 + rnd(100) : 0;
	m.user_va = pick_uva(t, &len);
	m.length = len;
	m.iova = (m.flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? pick_iova(s, len) :
		 (chance(90) ? 0 : wild64());
	r = do_ioctl(t, slot_fd(s), IOMMU_IOAS_MAP, &m,
		     offsetofend(struct iommu_ioas_map, iova), sizeof(m), 1, &e,
		     &how);
	account(t, OP_MAP, r, e);
	if (!r && (how == PL_NORMAL || (m.flags & IOMMU_IOAS_MAP_FIXED_IOVA))) {
		struct maprec *rec = &slots[s].maps[rnd(NMAPREC)];

		rec->ioas = m.ioas_id;
		rec->iova = m.iova;
		rec->len = m.length;
	}
}

static void op_unmap(struct thr *t)
{
	int s = pick_ctx(), e, how;
	struct iommu_ioas_unmap u = { 0 };
	const struct maprec *m;
	uint32_t c = rnd(100);
	long r;

	if (s < 0)
		return;
	m = pick_map(s);
	u.ioas_id = m && chance(90) ? m->ioas : pick_ioas(s);
	if (m && c < 50) {
		u.iova = m->iova;
		u.length = m->len;
	} else if (m && c < 65) {
		uint64_t k = PG * rnd(8);

		u.iova = m->iova - k;
		u.length = m->len + k + PG * rnd(8);
	} else if (m && c < 75) {
		u.iova = m->iova + PG * rnd(2);
		u.length = m->len > PG ? m->len - PG : PG;
	} else if (c < 80) {
		u.iova = 0;
		u.length = UINT64_MAX;
	} else if (c < 92) {
		u.iova = 0x10000000ULL + PG * rnd(2048);
		u.length = PG * (1 + rnd(256));
	} else if (c < 95) {
		u.iova = 0x10000000ULL;
		u.length = 0;
	} else {
		u.iova = wild64();
		u.length = wild64();
	}
	r = do_ioctl(t, slot_fd(s), IOMMU_IOAS_UNMAP, &u,
		     offsetofend(struct iommu_ioas_unmap, length), sizeof(u), 1,
		     &e, &how);
	account(t, OP_UNMAP, r, e);
}

static void op_get_pa(struct thr *t)
{
	int s = pick_ctx(), e, how;
	struct iommu_ioas_noiommu_get_pa g = { 0 };
	const struct maprec *m;
	long r;

	if (s < 0)
		return;
	m = pick_map(s);
	g.ioas_id = m && chance(90) ? m->ioas : pick_ioas(s);
	if (m && chance(80))
		g.iova = m->iova + rnd(m->len + 16);
	else
		g.iova = chance(70) ? 0x10000000ULL + rnd(2048 * PG) : wild64();
	switch (rnd(8)) {
	case 0:
		g.length = 1;
		break;
	case 1:
		g.length = 1 + rnd(PG);
		break;
	case 2:
		g.length = PG;
		break;
	case 3: case 4:
		g.length = UINT64_MAX;
		break;
	case 5:
		g.length = chance(50) ? 0 : wild64();
		break;
	default:
		g.length = PG * (1 + rnd(600));
	}
	if (chance(3))
		g.flags = 1 + rnd(8);
	if (chance(2))
		g.__reserved = 1;
	r = do_ioctl(t, slot_fd(s), IOMMU_IOAS_NOIOMMU_GET_PA, &g,
		     offsetofend(struct iommu_ioas_noiommu_get_pa, out_phys),
		     sizeof(g), 1, &e, &how);
	account(t, OP_GET_PA, r, e);
}

/* numbers around the iommufd ones, on any fd */
static void op_iommu_rand(struct thr *t)
{
	int s = pick_slot(chance(80) ? SK_CTX : SK_NONE), e, how;
	uint8_t st[64];
	unsigned int nr = 0x70 + rnd(0x31);
	unsigned long cmd = chance(85) ? _IO(IOMMUFD_TYPE, nr) :
			    _IOC(rnd(4), IOMMUFD_TYPE, nr, rnd(128));
	uint32_t i;
	long r;

	if (s < 0)
		return;
	for (i = 0; i < sizeof(st); i++)
		st[i] = chance(70) ? 0 : rnd(256);
	if (chance(50))
		memset(st + 8, 0, sizeof(st) - 8);
	r = do_ioctl(t, slot_fd(s), cmd, st, 8, 8 * (1 + rnd(8)), 1, &e, &how);
	account(t, OP_IOMMU_RAND, r, e);
}

/* ---------------- device ioctls ---------------- */

static int bound_ctx(int di)
{
	int c = slots[di].bctx;

	if (c >= 0 && c < NSLOTS && slot_fd(c) >= 0 && slots[c].gen == slots[di].bgen)
		return c;
	return pick_slot(SK_CTX);
}

static void op_bind_slot(struct thr *t, int di, int ctxslot, int ctxfd)
{
	struct vfio_device_bind_iommufd b = { 0 };
	int e, how;
	long r;

	b.iommufd = ctxfd;
	b.flags = chance(92) ? 0 : (chance(50) ? VFIO_DEVICE_BIND_FLAG_TOKEN :
				    (uint32_t)wild64());
	b.token_uuid_ptr = chance(95) ? 0 : (uintptr_t)t->data;
	r = do_ioctl(t, slot_fd(di), VFIO_DEVICE_BIND_IOMMUFD, &b,
		     offsetofend(struct vfio_device_bind_iommufd, out_devid),
		     sizeof(b), chance(60), &e, &how);
	account(t, OP_BIND, r, e);
	if (!r && ctxslot >= 0) {
		slots[di].bctx = ctxslot;
		slots[di].bgen = slots[ctxslot].gen;
		if (how == PL_NORMAL && b.out_devid)
			remember(slots[ctxslot].ids, b.out_devid);
	}
	if (!r) {
		slots[di].bound = 1;
		g_bound = di;
	}
}

static void op_bind(struct thr *t)
{
	int d = pick_slot(SK_DEV), c = -1, fd;

	if (d < 0)
		return;
	if (chance(75)) {
		c = pick_slot(SK_CTX);
		fd = c >= 0 ? slot_fd(c) : -1;
	} else {
		fd = pick_any_fd(t);
	}
	op_bind_slot(t, d, c, fd);
}

static void op_attach(struct thr *t)
{
	int d = pick_dev(), c, e, how;
	struct vfio_device_attach_iommufd_pt a = { 0 };
	uint32_t in_id;
	long r;

	if (d < 0)
		return;
	c = bound_ctx(d);
	a.pt_id = c >= 0 && chance(70) ? pick_ioas(c) :
		  (c >= 0 && chance(70) ? pick_id(slots[c].ids) : rnd(16));
	if (chance(3))
		a.pt_id = (uint32_t)wild64();
	a.flags = chance(92) ? 0 : (chance(50) ? VFIO_DEVICE_ATTACH_PASID :
				    (uint32_t)wild64());
	a.pasid = chance(90) ? 0 : (uint32_t)wild64();
	in_id = a.pt_id;
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a,
		     offsetofend(struct vfio_device_attach_iommufd_pt, pt_id),
		     sizeof(a), chance(40), &e, &how);
	account(t, OP_ATTACH, r, e);
	if (!r && c >= 0 && how == PL_NORMAL) {
		if (a.pt_id != in_id)
			remember(slots[c].att, in_id);	/* it was an IOAS */
		remember(slots[c].ids, a.pt_id);
	}
}

static void op_detach(struct thr *t)
{
	int d = pick_dev(), e, how;
	struct vfio_device_detach_iommufd_pt a = { 0 };
	long r;

	if (d < 0)
		return;
	a.flags = chance(92) ? 0 : (chance(50) ? VFIO_DEVICE_DETACH_PASID :
				    (uint32_t)wild64());
	a.pasid = chance(90) ? 0 : rnd(8);
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_DETACH_IOMMUFD_PT, &a,
		     offsetofend(struct vfio_device_detach_iommufd_pt, flags),
		     sizeof(a), chance(40), &e, &how);
	account(t, OP_DETACH, r, e);
}

static void op_get_info(struct thr *t)
{
	int d = pick_dev(), e, how;
	struct vfio_device_info i = { 0 };
	long r;

	if (d < 0)
		return;
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_GET_INFO, &i,
		     offsetofend(struct vfio_device_info, num_irqs), sizeof(i),
		     chance(40), &e, &how);
	account(t, OP_GET_INFO, r, e);
}

static void op_region_info(struct thr *t)
{
	int d = pick_dev(), e, how;
	struct { struct vfio_region_info i; uint8_t cap[64]; } ri;
	long r;

	if (d < 0)
		return;
	memset(&ri, 0, sizeof(ri));
	ri.i.index = chance(85) ? rnd(10) : (uint32_t)wild64();
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_GET_REGION_INFO, &ri,
		     offsetofend(struct vfio_region_info, offset),
		     chance(50) ? sizeof(ri.i) : sizeof(ri), 1, &e, &how);
	account(t, OP_REGION_INFO, r, e);
}

static void op_irq_info(struct thr *t)
{
	int d = pick_dev(), e, how;
	struct vfio_irq_info ii = { 0 };
	long r;

	if (d < 0)
		return;
	ii.index = chance(90) ? rnd(7) : (uint32_t)wild64();
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_GET_IRQ_INFO, &ii,
		     offsetofend(struct vfio_irq_info, count), sizeof(ii),
		     chance(40), &e, &how);
	account(t, OP_IRQ_INFO, r, e);
}

static void op_set_irqs(struct thr *t)
{
	int d = pick_dev(), e, how, fd;
	struct { struct vfio_irq_set h; int32_t data[16]; } s;
	uint32_t c, i, dsz, minsz = offsetofend(struct vfio_irq_set, count);
	uint32_t full;
	long r;

	if (d < 0)
		return;
	fd = slot_fd(d);
	memset(&s, 0, sizeof(s));
	c = rnd(100);
	s.h.index = c < 35 ? VFIO_PCI_INTX_IRQ_INDEX :
		    c < 60 ? VFIO_PCI_MSI_IRQ_INDEX :
		    c < 78 ? VFIO_PCI_REQ_IRQ_INDEX :
		    c < 84 ? VFIO_PCI_ERR_IRQ_INDEX :
		    c < 90 ? VFIO_PCI_MSIX_IRQ_INDEX : rnd(8);
	c = rnd(100);
	s.h.flags = c < 65 ? VFIO_IRQ_SET_ACTION_TRIGGER :
		    c < 78 ? VFIO_IRQ_SET_ACTION_MASK :
		    c < 92 ? VFIO_IRQ_SET_ACTION_UNMASK :
		    c < 96 ? (uint32_t)rnd(8) << 3 : 0;
	c = rnd(100);
	s.h.flags |= c < 50 ? VFIO_IRQ_SET_DATA_EVENTFD :
		     c < 84 ? VFIO_IRQ_SET_DATA_NONE :
		     c < 96 ? VFIO_IRQ_SET_DATA_BOOL : rnd(8);
	if (chance(2))
		s.h.flags = (uint32_t)wild64();
	c = rnd(100);
	s.h.start = c < 86 ? 0 : c < 94 ? 1 : (uint32_t)wild64();
	c = rnd(100);
	s.h.count = c < 65 ? 1 : c < 86 ? 0 : c < 92 ? 2 :
		    c < 97 ? rnd(17) : (uint32_t)wild64();
	dsz = (s.h.flags & VFIO_IRQ_SET_DATA_EVENTFD) ? 4 :
	      (s.h.flags & VFIO_IRQ_SET_DATA_BOOL) ? 1 : 0;
	for (i = 0; i < 16; i++) {
		if (dsz == 4) {
			c = rnd(100);
			s.data[i] = c < 78 ? t->efd[rnd(4)] : c < 90 ? -1 :
				    pick_any_fd(t);
		} else {
			((uint8_t *)s.data)[i] = chance(70);
		}
	}
	full = minsz + (s.h.count < 16 ? s.h.count : 16) * dsz;
	s.h.argsz = full;
	c = rnd(100);
	if (c < 8)
		s.h.argsz = full ? full - 1 - rnd(full) : 0;
	else if (c < 16)
		s.h.argsz = full + 4 * rnd(8);
	else if (c < 18)
		s.h.argsz = (uint32_t)wild64();
	r = do_ioctl(t, fd, VFIO_DEVICE_SET_IRQS, &s, minsz,
		     full > sizeof(s) ? sizeof(s) : full, 0, &e, &how);
	account(t, OP_SET_IRQS, r, e);
}

static void op_reset(struct thr *t)
{
	int d = pick_dev();
	long r;

	if (d < 0)
		return;
	r = ioctl(slot_fd(d), VFIO_DEVICE_RESET);
	account(t, OP_RESET, r, errno);
}

static void op_hot_reset_info(struct thr *t)
{
	int d = pick_dev(), e, how;
	struct { struct vfio_pci_hot_reset_info h; struct vfio_pci_dependent_device dev[4]; } hi;
	long r;

	if (d < 0)
		return;
	memset(&hi, 0, sizeof(hi));
	hi.h.argsz = sizeof(hi.h) + rnd(5) * sizeof(hi.dev[0]);
	if (chance(10))
		hi.h.argsz = chance(50) ? rnd(sizeof(hi.h)) : (uint32_t)wild64();
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi,
		     offsetofend(struct vfio_pci_hot_reset_info, count),
		     sizeof(hi), 0, &e, &how);
	account(t, OP_HOT_RESET_INFO, r, e);
}

static void op_hot_reset(struct thr *t)
{
	int d = pick_dev(), e, how;
	struct { struct vfio_pci_hot_reset h; int32_t fds[4]; } hr;
	long r;

	if (d < 0)
		return;
	memset(&hr, 0, sizeof(hr));
	hr.h.argsz = sizeof(hr.h);
	if (chance(30)) {
		hr.h.count = rnd(5);
		hr.h.argsz += hr.h.count * 4;
		hr.fds[0] = pick_any_fd(t);
		hr.fds[1] = slot_fd(d);
	}
	if (chance(10))
		hr.h.flags = (uint32_t)wild64();
	if (chance(5))
		hr.h.argsz = rnd(12);
	r = do_ioctl(t, slot_fd(d), VFIO_DEVICE_PCI_HOT_RESET, &hr,
		     offsetofend(struct vfio_pci_hot_reset, count), sizeof(hr), 0,
		     &e, &how);
	account(t, OP_HOT_RESET, r, e);
}

/* other VFIO numbers, and iommufd numbers on the device */
static void op_dev_rand(struct thr *t)
{
	int d = pick_slot(chance(80) ? SK_DEV : SK_NONE), e, how;
	uint8_t st[64];
	unsigned int nr = chance(70) ? VFIO_BASE + rnd(40) : rnd(256);
	unsigned long cmd = _IO(VFIO_TYPE, nr);
	long r;

	if (d < 0)
		return;
	/* never the commands we drive on purpose with chosen arguments */
	if (cmd == VFIO_DEVICE_BIND_IOMMUFD || cmd == VFIO_DEVICE_SET_IRQS ||
	    cmd == VFIO_DEVICE_PCI_HOT_RESET)
		return;
	memset(st, 0, sizeof(st));
	st[0] = 8 * (1 + rnd(8));
	st[4 + rnd(8)] = chance(50) ? rnd(256) : 0;
	r = do_ioctl(t, slot_fd(d), cmd, st, 8, sizeof(st), 0, &e, &how);
	account(t, OP_DEV_RAND, r, e);
}

/* ---------------- regions ---------------- */

/* may [off, off+len) of BAR0 be written? never the DMA registers */
static int bar_write_allowed(uint64_t off, uint64_t len)
{
	if (off < EDU_DMA_END && off + len > EDU_DMA_FIRST)
		return 0;
	/* raise/ack interrupt, and irq-on-factorial: only when nobody shares */
	if (!g_raise_ok && off < 0x68 && off + len > 0x60)
		return 0;
	if (!g_raise_ok && off < 0x24 && off + len > 0x20)
		return 0;
	return 1;
}

static int cfg_byte_writable(unsigned int p)
{
	return (p >= 0x04 && p < 0x08) || (p >= 0x10 && p < 0x28) ||
	       (p >= 0x30 && p < 0x34) || p >= 0x40;
}

/* a config write that cannot turn bus mastering on or touch what is not ours */
static int make_cfg_write(uint64_t *off, size_t *len, uint8_t *data)
{
	uint32_t c = rnd(100);
	size_t i;

	if (c < 35) {
		static const size_t sz[] = { 1, 2, 2, 2, 4 };
		uint16_t cmd = 0;

		*off = 4;
		*len = sz[rnd(5)];
		if (chance(75))
			cmd |= PCI_COMMAND_MEMORY;
		if (chance(30))
			cmd |= 0x1;			/* I/O */
		if (chance(40))
			cmd |= 0x400;			/* INTx disable (virtual) */
		if (chance(10))
			cmd |= rnd(0x10000);
		data[0] = cmd & 0xff;
		data[1] = cmd >> 8;
		data[2] = rnd(256);
		data[3] = rnd(256);
	} else if (c < 60) {
		*off = 0x10 + rnd(0x18);
		*len = 1 + rnd(4);
		if (*off + *len > 0x28)
			*len = 0x28 - *off;
		for (i = 0; i < *len; i++)
			data[i] = chance(50) ? 0xff : rnd(256);
	} else if (c < 66) {
		*off = 0x30;
		*len = 4;
		for (i = 0; i < 4; i++)
			data[i] = chance(50) ? 0xff : rnd(256);
	} else {
		*off = 0x40 + rnd(g_cfg_size - 0x40);
		*len = chance(80) ? 1 + rnd(8) : 1 + rnd(64);
		if (*off + *len > g_cfg_size && chance(80))
			*len = g_cfg_size - *off;
		for (i = 0; i < *len; i++)
			data[i] = rnd(256);
	}
	for (i = 0; i < *len; i++) {
		if (*off + i >= g_cfg_size)
			break;
		if (!cfg_byte_writable(*off + i))
			return -1;
		if (*off + i == PCI_COMMAND)
			data[i] &= ~PCI_COMMAND_MASTER;
	}
	return 0;
}

/* a data buffer for pread/pwrite of len bytes; *len may shrink */
static uint8_t *pick_data(struct thr *t, size_t *len, int write)
{
	uint32_t c = rnd(100);
	struct bmap *m;

	if (*len > 16384)
		*len = 16384;
	if (c < 88)
		return t->data;
	if (c < 91)
		return NULL;
	if (c < 94)
		return (uint8_t *)(uintptr_t)(chance(50) ? 0xdead0000UL : 0xffffffff81000000UL);
	if (c < 97)
		return t->ro;	/* fine to write from, EFAULT to read into */
	if (write) {
		m = t->nmaps ? &t->maps[rnd(t->nmaps)] : NULL;	/* MMIO as the source */
	} else {
		m = safe_bar_map(t, 1);		/* MMIO as the destination */
	}
	if (!m)
		return t->data;
	if (*len > m->len)
		*len = m->len;
	return m->addr;
}

static void op_rw(struct thr *t, int write)
{
	int d = pick_dev(), e;
	uint32_t c = rnd(100), index;
	uint64_t off;
	size_t len, i;
	uint8_t *p;
	ssize_t r;

	if (d < 0)
		return;
	if (c < 40)
		index = VFIO_PCI_CONFIG_REGION_INDEX;
	else if (c < 85)
		index = VFIO_PCI_BAR0_REGION_INDEX;
	else if (c < 87)
		index = VFIO_PCI_ROM_REGION_INDEX;
	else
		index = chance(80) ? rnd(12) : rnd(1 << 23);
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		off = rnd(g_cfg_size + 16);
		len = chance(85) ? 1 + rnd(8) : rnd(300);
	} else if (index == VFIO_PCI_BAR0_REGION_INDEX) {
		off = chance(50) ? rnd(0x100) : rnd(g_bar0_size + PG);
		if (chance(70))
			off &= ~3ULL;
		len = chance(80) ? (1U << rnd(4)) : rnd(9000);
	} else {
		off = chance(70) ? rnd(PG) : wild64() & ((1ULL << 40) - 1);
		len = chance(90) ? 1 + rnd(64) : rnd(9000);
	}
	if (chance(2))	/* wild: for a write only where no region is */
		off = write ? ((9 + (uint64_t)rnd(1000)) << 40) + rnd64() % (1ULL << 40) -
			      ((uint64_t)index << 40) : wild64();
	if (write && index == VFIO_PCI_CONFIG_REGION_INDEX && off < (1ULL << 40)) {
		if (make_cfg_write(&off, &len, t->data))
			return;
	} else if (write && index == VFIO_PCI_BAR0_REGION_INDEX && off < (1ULL << 40)) {
		if (!bar_write_allowed(off, len)) {
			if (off < EDU_DMA_FIRST)
				len = EDU_DMA_FIRST - off;
			else
				off = EDU_DMA_END + rnd(0x40) * 4;
			if (!bar_write_allowed(off, len))
				return;
		}
		for (i = 0; i < len && i < 16384; i++)
			t->data[i] = rnd(256);
	}
	if (write && off < (1ULL << 40) && (index == VFIO_PCI_CONFIG_REGION_INDEX ||
					    index == VFIO_PCI_BAR0_REGION_INDEX)) {
		/* the data was chosen: only the normal, a read-only or no source */
		uint32_t k = rnd(100);

		if (len > 16384)
			len = 16384;
		p = k < 92 ? t->data : k < 96 ? t->ro : NULL;
		if (p == t->ro) {
			if (len > 2 * PG)
				len = 2 * PG;
			memcpy(t->rw, t->data, len);
		}
	} else {
		p = pick_data(t, &len, write);
	}
	off += (uint64_t)index << 40;
	r = write ? pwrite(slot_fd(d), p, len, off) : pread(slot_fd(d), p, len, off);
	e = errno;
	account(t, write ? OP_PWRITE : OP_PREAD, r, e);
}

/* ---------------- BAR mmap ---------------- */

/* forget a mapping only once it is gone: a mapping holds its file */
static int unmap_bmap(struct thr *t, int i)
{
	if (munmap(t->maps[i].addr, t->maps[i].len))
		return -1;	/* ENOMEM under fault injection: later */
	t->maps[i] = t->maps[--t->nmaps];
	return 0;
}

static void op_mmap(struct thr *t)
{
	int d = pick_dev(), e, index, prot, flags;
	uint64_t npg = g_bar0_size / PG, pgoff, len, off, avail;
	void *p;

	if (d < 0)
		return;
	if (t->nmaps == MAXMAPS) {
		int r = unmap_bmap(t, rnd(t->nmaps));

		account(t, OP_MUNMAP, r, errno);
		if (r)
			return;
	}
	index = chance(90) ? 0 : rnd(10);
	pgoff = chance(90) ? rnd(npg) : rnd(2 * npg);
	avail = pgoff < npg ? npg - pgoff : 1;
	len = (chance(85) ? 1 + rnd(avail < 16 ? avail : 16) : 1 + rnd(npg + 4)) * PG;
	prot = chance(80) ? PROT_READ | PROT_WRITE :
	       chance(75) ? PROT_READ : PROT_READ | PROT_WRITE | PROT_EXEC;
	flags = chance(95) ? MAP_SHARED : MAP_PRIVATE;
	off = ((uint64_t)index << 40) + pgoff * PG;
	if (chance(2))
		off = wild64() & ~(PG - 1);
	p = mmap(NULL, len, prot, flags, slot_fd(d), off);
	e = errno;
	account(t, OP_MMAP, p == MAP_FAILED ? -1 : 0, e);
	if (p == MAP_FAILED)
		return;
	t->maps[t->nmaps].addr = p;
	t->maps[t->nmaps].len = len;
	t->maps[t->nmaps].baroff = off >> 40 == 0 ? off : ~0ULL;
	t->maps[t->nmaps].prot = prot;
	t->maps[t->nmaps].slot = d;
	t->maps[t->nmaps].gen = slots[d].gen;
	t->nmaps++;
}

static void op_munmap(struct thr *t)
{
	int i;
	struct bmap *m;
	size_t k;
	long r;

	if (!t->nmaps)
		return;
	i = rnd(t->nmaps);
	m = &t->maps[i];
	k = PG * (1 + rnd(m->len / PG));
	if (chance(70) || k >= m->len) {
		r = unmap_bmap(t, i);
		account(t, OP_MUNMAP, r, errno);
		return;
	}
	if (chance(40)) {	/* the head: the VMA splits */
		r = munmap(m->addr, k);
		if (!r) {
			m->addr += k;
			m->len -= k;
			if (m->baroff != ~0ULL)
				m->baroff += k;
		}
	} else if (chance(60)) {	/* the tail */
		r = munmap(m->addr + m->len - k, k);
		if (!r)
			m->len -= k;
	} else {		/* shrink in place */
		void *q = mremap(m->addr, m->len, m->len - k, 0);

		r = q == MAP_FAILED ? -1 : 0;
		if (!r)
			m->len -= k;
	}
	account(t, OP_MUNMAP, r, errno);
}

static void sig_handler(int sig)
{
	if (t_in_touch)
		siglongjmp(t_jb, sig);
	g_unexpected_sig = sig;
	{
		static const char msg[] = "fuzz: unexpected SIGBUS/SIGSEGV outside a BAR access\n";

		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(3);
	}
	_exit(3);
}

static void op_touch(struct thr *t)
{
	struct bmap *m;
	volatile size_t off;
	volatile int wr;
	int sig;

	if (!t->nmaps)
		return;
	m = &t->maps[rnd(t->nmaps)];
	off = rnd(m->len) & ~3UL;
	if (chance(50) && m->baroff == 0)
		off = rnd(0x100) & ~3UL;	/* the registers */
	wr = (m->prot & PROT_WRITE) && chance(35) && m->baroff != ~0ULL &&
	     bar_write_allowed(m->baroff + off, 4);
	t_in_touch = 1;
	sig = sigsetjmp(t_jb, 1);
	if (!sig) {
		if (wr)
			vcn_wr32(m->addr, off, (uint32_t)rnd64());
		else
			(void)vcn_rd32(m->addr, off);
	}
	t_in_touch = 0;
	if (sig == SIGBUS)
		t->sigbus++;
	account(t, OP_TOUCH, sig ? -1 : 0, sig == SIGBUS ? EIO : EFAULT);
}

/* ---------------- buffers and eventfds ---------------- */

static void op_buf_churn(struct thr *t)
{
	struct buf *b;
	void *p;
	long r;

	if (volatile_buf < 0)
		return;
	b = &bufs[volatile_buf];
	switch (rnd(4)) {
	case 0:	/* drop the pages: pinned ones stay pinned, new faults get new ones */
		r = madvise(b->p, b->len, MADV_DONTNEED);
		break;
	case 1:	/* unpinnable for a while */
		r = mprotect(b->p, b->len, PROT_NONE);
		break;
	case 2:
		r = mprotect(b->p, b->len, PROT_READ | PROT_WRITE);
		break;
	default:	/* replaced by fresh memory at the same address */
		p = mmap(b->p, b->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		r = p == MAP_FAILED ? -1 : 0;
	}
	account(t, OP_BUF_CHURN, r, errno);
}

static void op_drain(struct thr *t)
{
	uint64_t n;
	int i;

	for (i = 0; i < 4; i++)
		if (read(t->efd[i], &n, sizeof(n)) == sizeof(n))
			t->irqs += n;
	account(t, OP_DRAIN, 0, 0);
}

/* the context's fdinfo walks its objects under their locks */
static void op_fdinfo(struct thr *t)
{
	int s = pick_slot(SK_NONE), fd, e;
	char p[64], buf[1024];
	ssize_t r;

	if (s < 0)
		return;
	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", slot_fd(s));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		account(t, OP_FDINFO, -1, errno);
		return;
	}
	r = read(fd, buf, sizeof(buf));
	e = errno;
	close(fd);
	account(t, OP_FDINFO, r, e);
}

/*
 * A coherent chain on the bound device and its context, as a driver does
 * it: IOAS_ALLOC, ATTACH, MAP, GET_PA, then sometimes UNMAP and DETACH.
 * Racing everything else, it keeps the deep paths busy.
 */
static void op_chain(struct thr *t)
{
	int d = pick_bound(), c, dfd, cfd;
	struct iommu_ioas_noiommu_get_pa g = { .size = sizeof(g) };
	struct vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a) };
	struct iommu_ioas_map m = { .size = sizeof(m) };
	uint32_t ioas;
	uint64_t len;
	long r;

	if (d < 0)
		return;
	c = slots[d].bctx;
	if (c < 0 || slots[c].gen != slots[d].bgen)
		return;
	dfd = slot_fd(d);
	cfd = slot_fd(c);
	if (dfd < 0 || cfd < 0)
		return;
	ioas = pick_id(slots[c].att);
	if (!ioas || chance(20)) {
		r = vcn_ioas_alloc(cfd, &ioas);
		if (r) {
			account(t, OP_CHAIN, r, errno);
			return;
		}
		remember(slots[c].ioas, ioas);
		remember(slots[c].ids, ioas);
		a.pt_id = ioas;
		r = ioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
		if (r) {
			account(t, OP_CHAIN, r, errno);
			return;
		}
		remember(slots[c].att, ioas);
		remember(slots[c].ids, a.pt_id);
	}
	m.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	m.ioas_id = ioas;
	m.user_va = pick_uva(t, &len);
	m.length = len;
	r = ioctl(cfd, IOMMU_IOAS_MAP, &m);
	if (r) {
		account(t, OP_CHAIN, r, errno);
		return;
	}
	{
		struct maprec *rec = &slots[c].maps[rnd(NMAPREC)];

		rec->ioas = ioas;
		rec->iova = m.iova;
		rec->len = m.length;
	}
	g.ioas_id = ioas;
	g.iova = m.iova + rnd(m.length);
	g.length = chance(50) ? UINT64_MAX : 1 + rnd(m.length);
	r = ioctl(cfd, IOMMU_IOAS_NOIOMMU_GET_PA, &g);
	if (!r && chance(50)) {
		struct iommu_ioas_unmap u = {
			.size = sizeof(u), .ioas_id = ioas, .iova = m.iova,
			.length = m.length,
		};

		r = ioctl(cfd, IOMMU_IOAS_UNMAP, &u);
	}
	if (!r && chance(10)) {
		struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };

		r = ioctl(dfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt);
	}
	account(t, OP_CHAIN, r, errno);
}

/* ---------------- threads ---------------- */

static unsigned int weight_total;

static int pick_op(void)
{
	uint32_t w = rnd(weight_total);
	int i;

	for (i = 0; i < OP_N; i++) {
		if (w < op_weight[i])
			return i;
		w -= op_weight[i];
	}
	return OP_MAP;
}

static void run_op(struct thr *t, int op)
{
	switch (op) {
	case OP_OPEN_CTX: op_open_ctx(t); break;
	case OP_OPEN_DEV: op_open_dev(t); break;
	case OP_DUP: op_dup(t); break;
	case OP_CLOSE: op_close(t); break;
	case OP_DESTROY: op_destroy(t); break;
	case OP_IOAS_ALLOC: op_ioas_alloc(t); break;
	case OP_IOVA_RANGES: op_iova_ranges(t); break;
	case OP_MAP: op_map(t); break;
	case OP_UNMAP: op_unmap(t); break;
	case OP_GET_PA: op_get_pa(t); break;
	case OP_IOMMU_RAND: op_iommu_rand(t); break;
	case OP_BIND: op_bind(t); break;
	case OP_ATTACH: op_attach(t); break;
	case OP_DETACH: op_detach(t); break;
	case OP_GET_INFO: op_get_info(t); break;
	case OP_REGION_INFO: op_region_info(t); break;
	case OP_IRQ_INFO: op_irq_info(t); break;
	case OP_SET_IRQS: op_set_irqs(t); break;
	case OP_RESET: op_reset(t); break;
	case OP_HOT_RESET_INFO: op_hot_reset_info(t); break;
	case OP_HOT_RESET: op_hot_reset(t); break;
	case OP_DEV_RAND: op_dev_rand(t); break;
	case OP_PREAD: op_rw(t, 0); break;
	case OP_PWRITE: op_rw(t, 1); break;
	case OP_MMAP: op_mmap(t); break;
	case OP_MUNMAP: op_munmap(t); break;
	case OP_TOUCH: op_touch(t); break;
	case OP_BUF_CHURN: op_buf_churn(t); break;
	case OP_DRAIN: op_drain(t); break;
	case OP_FDINFO: op_fdinfo(t); break;
	case OP_CHAIN: op_chain(t); break;
	}
}

static int g_faults;	/* FUZZ_FAULTS: the fuzzing threads get fault injection */

static void make_it_fail(int on)
{
	FILE *f = fopen("/proc/thread-self/make-it-fail", "w");

	if (f) {
		fputs(on ? "1" : "0", f);
		fclose(f);
	}
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;

	rs = t->seed;
	if (g_faults)
		make_it_fail(1);
	while (!g_stop) {
		int op = pick_op(), i;

		/*
		 * A mapping holds its file: a closed device fd stays bound while
		 * it is mapped. Let such orphans go soon, so others can bind.
		 */
		for (i = chance(30) ? 0 : t->nmaps; i < t->nmaps; i++) {
			struct bmap *m = &t->maps[i];

			if (slot_fd(m->slot) < 0 || slots[m->slot].gen != m->gen) {
				int r = unmap_bmap(t, i);

				account(t, OP_MUNMAP, r, errno);
				break;
			}
		}

		t->cur_op = op;
		run_op(t, op);
		t->progress++;
	}
	t->cur_op = -1;
	if (g_faults)
		make_it_fail(0);
	while (t->nmaps)
		if (unmap_bmap(t, 0)) {
			perror("fuzz: munmap of a BAR mapping");
			t->maps[0] = t->maps[--t->nmaps];
		}
	t->done = 1;
	return NULL;
}

static int thr_setup(struct thr *t)
{
	int mfd = memfd_create("fuzz-arg", MFD_CLOEXEC), i;
	uint8_t *r1, *r2;

	if (mfd < 0 || ftruncate(mfd, 2 * PG))
		return -1;
	r1 = mmap(NULL, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r2 = mmap(NULL, 3 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r1 == MAP_FAILED || r2 == MAP_FAILED)
		return -1;
	t->rw = mmap(r1, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd, 0);
	t->ro = mmap(r2, 2 * PG, PROT_READ, MAP_SHARED | MAP_FIXED, mfd, 0);
	close(mfd);
	t->data = mmap(NULL, 16384, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (t->rw == MAP_FAILED || t->ro == MAP_FAILED || t->data == MAP_FAILED)
		return -1;
	for (i = 0; i < 4; i++) {
		t->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->efd[i] < 0)
			return -1;
	}
	return 0;
}

/* ---------------- setup and checks ---------------- */

static uint8_t *anon(size_t len, int extra)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | extra, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void add_buf(uint8_t *p, size_t len, const char *name)
{
	if (!p)
		return;
	bufs[nbufs].p = p;
	bufs[nbufs].len = len;
	bufs[nbufs].name = name;
	nbufs++;
}

static void setup_bufs(void)
{
	uint8_t *p;
	int mfd;

	add_buf(anon(256 * PG, 0), 256 * PG, "anon");
	/* 2 MiB aligned, THP if the kernel gives one */
	p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		p = (uint8_t *)(((uintptr_t)p + (2 << 20) - 1) & ~((2UL << 20) - 1));
		madvise(p, 2 << 20, MADV_HUGEPAGE);
		memset(p, 0x5a, 2 << 20);
		add_buf(p, 2 << 20, "thp");
	}
	mfd = memfd_create("fuzz-shm", MFD_CLOEXEC);
	if (mfd >= 0 && !ftruncate(mfd, 32 * PG)) {
		p = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, mfd, 0);
		add_buf(p == MAP_FAILED ? NULL : p, 32 * PG, "shmem");
	}
	if (mfd >= 0)
		close(mfd);
	volatile_buf = nbufs;
	add_buf(anon(64 * PG, 0), 64 * PG, "volatile");
	if (nbufs == volatile_buf)
		volatile_buf = -1;
	p = mmap(NULL, 16 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	add_buf(p == MAP_FAILED ? NULL : p, 16 * PG, "read-only");
	add_buf(anon(2 << 20, MAP_HUGETLB), 2 << 20, "hugetlb");
}



/* is edu's INTx line free of other handlers? then raising it is harmless */
static int edu_irq_private(const char *bdf)
{
	char p[300], line[512];
	unsigned int irq = 0;
	FILE *f;
	int others = 0;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/irq", bdf);
	f = fopen(p, "r");
	if (!f || fscanf(f, "%u", &irq) != 1 || !irq) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	f = fopen("/proc/interrupts", "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned int n;

		if (sscanf(line, " %u:", &n) == 1 && n == irq)
			others = 1;	/* somebody has requested it */
	}
	if (f)
		fclose(f);
	printf("# edu INTx is irq %u, %s\n", irq,
	       others ? "in use by another handler: interrupts are not raised" :
			"not requested by anyone: interrupts may be raised");
	return !others;
}

/*
 * Fault injection (kernels with CONFIG_FAULT_INJECTION_DEBUG_FS, such as the
 * debug kernel): user copies of the fuzzing threads fail with probability
 * pct, and with slab too, their slab allocations. Quietly: a failure path
 * that leaks shows in the counters and kmemleak, one that crashes on the
 * console. Slab failures also reach core code on our call paths (ACPI INTx
 * routing under pci_enable_device(), /proc/irq entries), which does not
 * survive them everywhere: splats there are not the module's.
 */
static int setup_faults(int pct, int slab)
{
	static const char *const dirs[] = { "/sys/kernel/debug/fail_usercopy",
					    "/sys/kernel/debug/failslab" };
	char p[128], v[16];
	int i, n = 0;

	for (i = 0; i < 1 + !!slab; i++) {
		/* the filter and silence first: probability arms it */
		static const char *const knobs[][2] = {
			{ "task-filter", "Y" }, { "verbose", "0" }, { "interval", "1" },
			{ "times", "-1" }, { "space", "0" }, { "probability", NULL },
		};
		unsigned int k;

		snprintf(p, sizeof(p), "%s/probability", dirs[i]);
		if (access(p, W_OK))
			continue;
		for (k = 0; k < sizeof(knobs) / sizeof(knobs[0]); k++) {
			FILE *f;

			snprintf(p, sizeof(p), "%s/%s", dirs[i], knobs[k][0]);
			snprintf(v, sizeof(v), "%d", pct);
			f = fopen(p, "w");
			if (!f)
				continue;
			fputs(knobs[k][1] ? knobs[k][1] : v, f);
			fclose(f);
		}
		n++;
	}
	/* failslab: sleeping allocations too */
	{
		FILE *f = fopen("/sys/kernel/debug/failslab/ignore-gfp-wait", "w");

		if (f) {
			fputs("N", f);
			fclose(f);
		}
	}
	return n;
}


/* after the run: the device must bind, attach, map and give a PA again */
static int device_still_works(void)
{
	struct vcn_dev d;
	uint8_t *b = anon(PG, 0);
	uint64_t iova = 0, len = PG, pa = 0;
	uint16_t cmd;
	uint32_t v;
	int ok = 0, i;

	if (!b || vcn_dev_open(&d, g_bdf))
		return 0;
	if (!vcn_map(&d, b, PG, &iova, 0) && !vcn_get_pa(&d, iova, &len, &pa) &&
	    pa && !vcn_unmap(&d, iova, PG))
		ok = 1;
	/* leave edu quiet: no factorial interrupt pending, none raised */
	if (!vcn_cfg_read(&d, PCI_COMMAND, &cmd, 2)) {
		cmd = (cmd | PCI_COMMAND_MEMORY) & ~PCI_COMMAND_MASTER;
		vcn_cfg_write(&d, PCI_COMMAND, &cmd, 2);
		v = 0;
		vcn_region_rw(&d, VFIO_PCI_BAR0_REGION_INDEX, 1, 0x20, &v, 4);
		for (i = 0; i < 100; i++) {
			if (vcn_region_rw(&d, VFIO_PCI_BAR0_REGION_INDEX, 0, 0x20, &v, 4) ||
			    !(v & 1))
				break;
			vcn_sleep_us(10000);
		}
		v = 0xffffffff;
		vcn_region_rw(&d, VFIO_PCI_BAR0_REGION_INDEX, 1, 0x64, &v, 4);
	}
	vcn_dev_close(&d);
	munmap(b, PG);
	return ok;
}

static const char *errname(int e)
{
	static __thread char buf[16];

	switch (e) {
	case 0: return "other";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case EOVERFLOW: return "EOVERFLOW";
	case EBADFD: return "EBADFD";
	case EMSGSIZE: return "EMSGSIZE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:
		snprintf(buf, sizeof(buf), "errno%d", e);
		return buf;
	}
}

static void dump_stuck(int i)
{
	char why[160];

	snprintf(why, sizeof(why), "thread %d stuck in %s (no progress for %d s)",
		 i, thr[i].cur_op >= 0 ? op_name[thr[i].cur_op] : "exit", STALL_SECONDS);
	vcn_dump_stacks(why);
}

int main(int argc, char **argv)
{
	const char *env;
	int seconds = 20, i, j, stalled = -1;
	uint64_t seed, total = 0, t0, last_progress[MAXTHREADS] = { 0 };
	uint64_t last_change[MAXTHREADS];
	struct vfio_region_info ri;
	struct sigaction sa;
	struct vcn_dev d;
	double secs;
	int all_core_ok = 1;
	static const int core[] = { OP_OPEN_CTX, OP_OPEN_DEV, OP_IOAS_ALLOC,
		OP_MAP, OP_UNMAP, OP_GET_PA, OP_BIND, OP_ATTACH, OP_SET_IRQS,
		OP_PREAD, OP_PWRITE, OP_MMAP, OP_TOUCH, OP_DESTROY, OP_CHAIN };

	setvbuf(stdout, NULL, _IOLBF, 0);
	seconds = vcn_int_arg(argc, argv, 1, "FUZZ_SECONDS", seconds, 1, INT_MAX);
	nthreads = vcn_int_arg(argc, argv, 2, "FUZZ_THREADS", nthreads, 1, MAXTHREADS);
	env = getenv("FUZZ_SEED");
	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rs = seed | 1;

	g_bdf = getenv("VCN_BDF");
	if (!g_bdf)
		g_bdf = vcn_find_bdf(0x1234, 0x11e8);
	if (!g_bdf) {
		check(0, "fuzz: an edu device (1234:11e8) exists");
		return 1;
	}
	g_bdf = strdup(g_bdf);
	g_ctxnode = strdup(vcn_ictx_node());
	env = vcn_dev_node(g_bdf);
	if (!env) {
		check(0, "fuzz: %s is bound to vfio-cdev-noiommu with a device node", g_bdf);
		return 1;
	}
	g_devnode = strdup(env);
	printf("# fuzz: %d threads, %d s, seed %#llx, device %s (%s), context %s\n",
	       nthreads, seconds, (unsigned long long)seed, g_bdf, g_devnode, g_ctxnode);

	/* learn the regions once */
	if (vcn_dev_open(&d, g_bdf)) {
		check(0, "fuzz: the device opens, binds and attaches before fuzzing");
		return 1;
	}
	if (!vcn_region_info(&d, VFIO_PCI_BAR0_REGION_INDEX, &ri) && ri.size)
		g_bar0_size = ri.size;
	if (!vcn_region_info(&d, VFIO_PCI_CONFIG_REGION_INDEX, &ri) && ri.size)
		g_cfg_size = ri.size;
	vcn_dev_close(&d);
	g_raise_ok = edu_irq_private(g_bdf) && !getenv("FUZZ_NO_IRQ");
	if ((env = getenv("FUZZ_FAULTS")) && atoi(env) > 0) {
		int slab = getenv("FUZZ_FAILSLAB") && atoi(getenv("FUZZ_FAILSLAB"));

		g_faults = setup_faults(atoi(env), slab) > 0;
		printf("# fault injection (fail_usercopy%s) at %d%%: %s\n",
		       slab ? ", failslab" : "", atoi(env),
		       g_faults ? "on" : "not available on this kernel");
	}

	/* a hugetlb page or two, if the kernel has them */
	{
		FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");

		if (f) {
			fputs("2\n", f);
			fclose(f);
		}
	}
	setup_bufs();
	printf("# buffers:");
	for (i = 0; i < nbufs; i++)
		printf(" %s(%zu KiB)", bufs[i].name, bufs[i].len >> 10);
	printf("\n");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < OP_N; i++)
		weight_total += op_weight[i];
	for (i = 0; i < NSLOTS; i++) {
		slots[i].fd = -1;
		slots[i].bctx = -1;
	}
	for (i = 0; i < nthreads; i++) {
		thr[i].idx = i;
		thr[i].seed = (seed + 0x9e3779b97f4a7c15ULL * (i + 1)) | 1;
		thr[i].cur_op = -1;
		if (thr_setup(&thr[i])) {
			perror("fuzz: thread setup");
			return 1;
		}
	}
	t0 = vcn_now_ms();
	for (i = 0; i < nthreads; i++) {
		last_change[i] = t0;
		if (pthread_create(&thr[i].th, NULL, thr_main, &thr[i])) {
			perror("fuzz: pthread_create");
			return 1;
		}
	}

	/* watchdog: run for the time given, and notice a thread that hangs */
	for (;;) {
		uint64_t now;
		int running = 0;

		vcn_sleep_us(200000);
		now = vcn_now_ms();
		if (now - t0 >= (uint64_t)seconds * 1000)
			g_stop = 1;
		for (i = 0; i < nthreads; i++) {
			if (thr[i].done)
				continue;
			running++;
			if (thr[i].progress != last_progress[i]) {
				last_progress[i] = thr[i].progress;
				last_change[i] = now;
			} else if (now - last_change[i] > STALL_SECONDS * 1000ULL) {
				stalled = i;
			}
		}
		if (stalled >= 0 || (g_stop && !running))
			break;
	}
	secs = (vcn_now_ms() - t0) / 1000.0;
	if (stalled >= 0) {
		g_stop = 1;
		dump_stuck(stalled);
		check(0, "fuzz: no thread hangs in the kernel (thread %d stuck in %s)",
		      stalled, op_name[thr[stalled].cur_op >= 0 ? thr[stalled].cur_op : 0]);
		fflush(stdout);
		_exit(2);	/* its fds cannot be closed: do not wait on them */
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(thr[i].th, NULL);

	/* close everything */
	for (i = 0; i < NSLOTS; i++)
		slot_close(i);
	for (i = 0; i < nthreads; i++)
		for (j = 0; j < 4; j++)
			close(thr[i].efd[j]);

	/* the summary */
	{
		uint64_t sum[OP_N] = { 0 }, ok[OP_N] = { 0 }, sigbus = 0, irqs = 0;
		char line[4096];
		size_t n = 0;

		for (i = 0; i < nthreads; i++) {
			for (j = 0; j < OP_N; j++) {
				sum[j] += thr[i].ops[j];
				ok[j] += thr[i].okc[j];
			}
			sigbus += thr[i].sigbus;
			irqs += thr[i].irqs;
		}
		for (j = 0; j < OP_N; j++) {
			total += sum[j];
			n += snprintf(line + n, sizeof(line) - n, "%s%s=%llu", j ? " " : "",
				      op_name[j], (unsigned long long)sum[j]);
		}
		printf("fuzz: %llu ops in %.1f s (%s)\n", (unsigned long long)total, secs, line);
		printf("# %llu SIGBUS on BAR accesses, %llu interrupts delivered to eventfds\n",
		       (unsigned long long)sigbus, (unsigned long long)irqs);
		for (j = 0; j < OP_N; j++) {
			int e;

			n = snprintf(line, sizeof(line), "#   %-15s ok %llu", op_name[j],
				     (unsigned long long)ok[j]);
			for (e = 0; e < ERRMAX; e++) {
				uint64_t c = 0;

				for (i = 0; i < nthreads; i++)
					c += thr[i].err[j][e];
				if (c)
					n += snprintf(line + n, sizeof(line) - n, ", %s %llu",
						      errname(e), (unsigned long long)c);
			}
			puts(line);
		}
		for (j = 0; j < (int)(sizeof(core) / sizeof(core[0])); j++) {
			if (!ok[core[j]]) {
				printf("# %s never succeeded\n", op_name[core[j]]);
				all_core_ok = 0;
			}
		}
	}
	check(!g_unexpected_sig, "fuzz: no unexpected signal");
	check(all_core_ok, "fuzz: every core operation succeeded at least once (the fuzzer got deep)");
	check(device_still_works(), "fuzz: afterwards the device still binds, attaches, maps and answers GET_PA");
	check_nothing_left("fuzz");
	return checks_failed ? 1 : 0;
}
