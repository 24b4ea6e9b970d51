// SPDX-License-Identifier: GPL-2.0
/*
 * nvme_drv.c - a small userspace NVMe driver on the no-IOMMU cdev, for
 * QEMU's nvme (1b36:0010): the admin queue, IDENTIFY, one I/O queue pair
 * and a READ, with queues and data in memory mapped by IOMMU_IOAS_MAP and
 * given to the controller at the physical address GET_PA reports, and
 * completions signalled by MSI-X through eventfds. It is what an SPDK-style
 * driver does, reduced to the steps that prove DMA and interrupts work.
 *
 *   nvme_drv [pattern...]   run the TESTs (TAP)
 *   nvme_drv --demo         the same driver, narrating each step
 *
 * Device: VCN_NVME_BDF, else VCN_BDF if it is an nvme, else the first one.
 * NVME_SERIAL (default "vcn-serial-0001") is the serial QEMU was given;
 * NVME_BLOCK0 (default "VCN-NVME-BLOCK0-MARKER") what the rig wrote at the
 * start of the disk image. Registers and commands: NVMe 1.4.
 */
#define _GNU_SOURCE
#include <ctype.h>

#include "harness.h"
#include "vcn_dev.h"

/* controller registers (BAR0) */
#define NVME_REG_CAP		0x00
#define NVME_REG_VS		0x08
#define NVME_REG_CC		0x14
#define NVME_REG_CSTS		0x1c
#define NVME_REG_AQA		0x24
#define NVME_REG_ASQ		0x28
#define NVME_REG_ACQ		0x30
#define NVME_REG_DBS		0x1000

#define CAP_MQES(c)		((unsigned int)((c) & 0xffff))	/* 0's based */
#define CAP_TO(c)		((unsigned int)(((c) >> 24) & 0xff))	/* 500 ms units */
#define CAP_DSTRD(c)		((unsigned int)(((c) >> 32) & 0xf))
#define CAP_CSS_NVM(c)		((unsigned int)(((c) >> 37) & 1))
#define CAP_MPSMIN(c)		((unsigned int)(((c) >> 48) & 0xf))

#define CC_EN			(1u << 0)
#define CC_IOSQES(n)		((n) << 16)	/* log2 of SQ entry size */
#define CC_IOCQES(n)		((n) << 20)
#define CC_SHN_MASK		(3u << 14)
#define CC_SHN_NORMAL		(1u << 14)
#define CSTS_RDY		(1u << 0)
#define CSTS_CFS		(1u << 1)
#define CSTS_SHST_MASK		(3u << 2)
#define CSTS_SHST_DONE		(2u << 2)

/* commands */
#define ADM_DELETE_SQ		0x00
#define ADM_CREATE_SQ		0x01
#define ADM_DELETE_CQ		0x04
#define ADM_CREATE_CQ		0x05
#define ADM_IDENTIFY		0x06
#define IO_READ			0x02
#define CNS_NAMESPACE		0x00
#define CNS_CONTROLLER		0x01

#define ADMIN_DEPTH		64
#define IO_DEPTH		16
#define IO_QID			1
#define CMD_TIMEOUT_MS		5000

struct nvme_sqe {
	uint8_t opc;
	uint8_t flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	uint32_t dw0;
	uint32_t dw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* bit 0: phase; 15:1 status field */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "SQ entry is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "CQ entry is 16 bytes");

struct nvme_q {
	struct vcn_dma sq, cq;
	uint16_t qid, depth, sq_tail, cq_head, next_cid;
	uint8_t phase;		/* the phase bit a new entry carries */
	unsigned int vector;	/* MSI-X vector of its CQ */
	int efd;		/* ... and the eventfd behind it */
	int live;		/* created on the controller */
};

struct nvme {
	struct vcn_dev d;
	volatile uint8_t *bar;
	size_t bar_size;
	uint64_t cap;
	uint32_t vs;
	unsigned int dstrd, timeout_ms;
	struct nvme_q aq, ioq;
	int efd[2];
	long irqs[2];		/* interrupts seen per vector */
	struct vcn_dma ident, data;
	char sn[21], mn[41], fr[9];
	uint16_t vid;
	uint32_t lba_size;
	uint64_t nsze;
};

static int demo;
#define say(...)	do { if (demo) printf(__VA_ARGS__); } while (0)

static struct nvme *nv_live;	/* for the exit handler */

static const char *bdf(void)
{
	const char *b = getenv("VCN_NVME_BDF");
	const char *found = vcn_find_bdf(0x1b36, 0x0010);

	if (b)
		return b;
	b = getenv("VCN_BDF");
	if (b && found && !strcmp(b, found))
		return b;
	return found;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v ? v : def;
}

/* ---------------- registers ---------------- */

/*
 * 64-bit registers as two 32-bit accesses, low half first, as Linux's
 * nvme driver does (lo_hi_readq/writeq): controllers need not decode
 * 8-byte accesses.
 */
static uint64_t nv_rd64(struct nvme *n, size_t off)
{
	uint64_t lo = vcn_rd32(n->bar, off);

	return lo | (uint64_t)vcn_rd32(n->bar, off + 4) << 32;
}

static void nv_wr64(struct nvme *n, size_t off, uint64_t v)
{
	vcn_wr32(n->bar, off, (uint32_t)v);
	vcn_wr32(n->bar, off + 4, (uint32_t)(v >> 32));
}

static size_t nv_sq_db(struct nvme *n, unsigned int qid)
{
	return NVME_REG_DBS + (2 * qid) * (4u << n->dstrd);
}

static size_t nv_cq_db(struct nvme *n, unsigned int qid)
{
	return NVME_REG_DBS + (2 * qid + 1) * (4u << n->dstrd);
}

/* wait until (CSTS & mask) == want, within CAP.TO; a fatal status ends it */
static int nv_wait_csts(struct nvme *n, uint32_t mask, uint32_t want,
			const char *what)
{
	uint64_t t0 = vcn_now_ms(), end = t0 + n->timeout_ms;
	uint32_t csts;

	for (;;) {
		csts = vcn_rd32(n->bar, NVME_REG_CSTS);
		if (csts == 0xffffffff) {
			fprintf(stderr, "nvme: %s: CSTS reads all ones (device gone?)\n", what);
			return -1;
		}
		if ((csts & mask) == want)
			break;
		if (csts & CSTS_CFS) {
			fprintf(stderr, "nvme: %s: controller fatal status, CSTS %#x\n",
				what, csts);
			return -1;
		}
		if (vcn_now_ms() > end) {
			fprintf(stderr, "nvme: %s: CSTS %#x after %u ms\n", what, csts,
				n->timeout_ms);
			return -1;
		}
		vcn_sleep_us(1000);
	}
	say("   %s after %llu ms (CSTS %#x)\n", what,
	    (unsigned long long)(vcn_now_ms() - t0), csts);
	return 0;
}

/* ---------------- bring-up ---------------- */

static void nv_atexit(void)
{
	/* stop the controller before the memory it uses goes away */
	if (nv_live && nv_live->bar)
		vcn_wr32(nv_live->bar, NVME_REG_CC, 0);
}

static int nv_open(struct nvme *n, const char *b)
{
	memset(n, 0, sizeof(*n));
	n->efd[0] = n->efd[1] = -1;
	if (vcn_dev_open(&n->d, b))
		return -1;
	say("1. %s: opened %s, bound to %s (devid %u), IOAS %u attached\n", b,
	    vcn_dev_node(b), vcn_ictx_node(), n->d.devid, n->d.ioas);
	n->bar = vcn_bar_mmap(&n->d, VFIO_PCI_BAR0_REGION_INDEX, &n->bar_size);
	if (!n->bar)
		return -1;
	if (vcn_enable_bus_master(&n->d))
		return -1;
	nv_live = n;
	atexit(nv_atexit);
	say("   BAR0 mmapped: %zu KiB; PCI_COMMAND memory + bus master on\n",
	    n->bar_size >> 10);
	return 0;
}

static int nv_read_cap(struct nvme *n)
{
	n->cap = nv_rd64(n, NVME_REG_CAP);
	n->vs = vcn_rd32(n->bar, NVME_REG_VS);
	n->dstrd = CAP_DSTRD(n->cap);
	n->timeout_ms = (CAP_TO(n->cap) ? CAP_TO(n->cap) : 1) * 500;
	say("2. CAP %#llx: MQES %u, timeout %u ms, doorbell stride %u, NVM command set %s, "
	    "min page %u KiB\n   VS %u.%u.%u\n", (unsigned long long)n->cap,
	    CAP_MQES(n->cap) + 1, n->timeout_ms, 4u << n->dstrd,
	    CAP_CSS_NVM(n->cap) ? "yes" : "no", 4u << CAP_MPSMIN(n->cap),
	    n->vs >> 16, (n->vs >> 8) & 0xff, n->vs & 0xff);
	if (n->cap == ~0ULL || !CAP_CSS_NVM(n->cap) || CAP_MPSMIN(n->cap) != 0 ||
	    CAP_MQES(n->cap) + 1 < ADMIN_DEPTH) {
		fprintf(stderr, "nvme: CAP %#llx: not a controller this driver can use\n",
			(unsigned long long)n->cap);
		return -1;
	}
	if (nv_cq_db(n, IO_QID) + 4 > n->bar_size) {
		fprintf(stderr, "nvme: BAR0 of %zu bytes has no room for doorbells\n",
			n->bar_size);
		return -1;
	}
	return 0;
}

static int nv_disable(struct nvme *n)
{
	uint32_t cc = vcn_rd32(n->bar, NVME_REG_CC);

	say("3. disabling the controller (CC %#x)\n", cc);
	vcn_wr32(n->bar, NVME_REG_CC, cc & ~CC_EN);
	return nv_wait_csts(n, CSTS_RDY, 0, "CSTS.RDY = 0");
}

/*
 * A queue's memory: one page each for SQ and CQ (IOAS_MAP wants whole
 * pages), one physically contiguous run each, as CAP.CQR requires.
 */
static int nv_alloc_queue(struct nvme *n, struct nvme_q *q, uint16_t qid,
			  uint16_t depth, unsigned int vector, int efd)
{
	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->depth = depth;
	q->phase = 1;		/* memory is zeroed: the first entries have P=1 */
	q->vector = vector;
	q->efd = efd;
	if (vcn_dma_alloc(&n->d, VCN_PAGE_SIZE, 0, &q->sq) ||
	    vcn_dma_alloc(&n->d, VCN_PAGE_SIZE, 0, &q->cq))
		return -1;
	if (q->sq.contig < depth * sizeof(struct nvme_sqe) ||
	    q->cq.contig < depth * sizeof(struct nvme_cqe)) {
		fprintf(stderr, "nvme: queue %u memory not contiguous (%llu, %llu bytes)\n",
			qid, (unsigned long long)q->sq.contig,
			(unsigned long long)q->cq.contig);
		return -1;
	}
	say("   queue %u: SQ %u x 64 B at IOVA %#llx = PA %#llx, CQ %u x 16 B at IOVA %#llx = PA %#llx\n",
	    qid, depth, (unsigned long long)q->sq.iova, (unsigned long long)q->sq.pa,
	    depth, (unsigned long long)q->cq.iova, (unsigned long long)q->cq.pa);
	return 0;
}

static int nv_setup_admin(struct nvme *n)
{
	say("4. admin queue pair:\n");
	if (nv_alloc_queue(n, &n->aq, 0, ADMIN_DEPTH, 0, n->efd[0]))
		return -1;
	vcn_wr32(n->bar, NVME_REG_AQA, (ADMIN_DEPTH - 1) << 16 | (ADMIN_DEPTH - 1));
	nv_wr64(n, NVME_REG_ASQ, n->aq.sq.pa);
	nv_wr64(n, NVME_REG_ACQ, n->aq.cq.pa);
	if (nv_rd64(n, NVME_REG_ASQ) != n->aq.sq.pa ||
	    nv_rd64(n, NVME_REG_ACQ) != n->aq.cq.pa) {
		fprintf(stderr, "nvme: ASQ/ACQ did not take the addresses\n");
		return -1;
	}
	return 0;
}

/*
 * Two MSI-X vectors are allocated now, with an eventfd only for vector 0:
 * vector 1 gets its eventfd when the I/O queue is created. Enabling both
 * at once matters: upstream refuses to grow an enabled MSI-X index unless
 * the platform can allocate vectors dynamically.
 */
static int nv_msix_enable(struct nvme *n)
{
	struct vfio_irq_info ii;
	int32_t fds[2];

	if (vcn_irq_info(&n->d, VFIO_PCI_MSIX_IRQ_INDEX, &ii))
		return -1;
	if (ii.count < 2 || !(ii.flags & VFIO_IRQ_INFO_EVENTFD)) {
		fprintf(stderr, "nvme: MSI-X: %u vectors, flags %#x\n", ii.count,
			ii.flags);
		return -1;
	}
	n->efd[0] = vcn_eventfd();
	n->efd[1] = vcn_eventfd();
	if (n->efd[0] < 0 || n->efd[1] < 0)
		return -1;
	n->aq.efd = n->efd[0];
	fds[0] = n->efd[0];
	fds[1] = -1;
	if (vcn_msix_set(&n->d, 0, 2, fds))
		return -1;
	say("5. MSI-X (%u vectors offered): vectors 0-1 enabled, vector 0 -> eventfd %d\n",
	    ii.count, n->efd[0]);
	return 0;
}

static int nv_enable(struct nvme *n)
{
	uint32_t cc = CC_EN | CC_IOSQES(6) | CC_IOCQES(4);	/* CSS NVM, 4 KiB pages */

	say("6. enabling: CC %#x\n", cc);
	vcn_wr32(n->bar, NVME_REG_CC, cc);
	return nv_wait_csts(n, CSTS_RDY, CSTS_RDY, "CSTS.RDY = 1");
}

static int nv_bringup(struct nvme *n, const char *b)
{
	if (nv_open(n, b) || nv_read_cap(n) || nv_disable(n) ||
	    nv_setup_admin(n) || nv_msix_enable(n) || nv_enable(n))
		return -1;
	return 0;
}

/* ---------------- commands ---------------- */

static void nv_submit(struct nvme *n, struct nvme_q *q, struct nvme_sqe *c)
{
	c->cid = q->next_cid++;
	memcpy(q->sq.va + q->sq_tail * sizeof(*c), c, sizeof(*c));
	q->sq_tail = (q->sq_tail + 1) % q->depth;
	vcn_mb();	/* the entry is in memory before the doorbell rings */
	vcn_wr32(n->bar, nv_sq_db(n, q->qid), q->sq_tail);
}

/*
 * A completion counts only with its interrupt: the entry's phase bit must
 * flip AND the queue's MSI-X eventfd must fire, each within the timeout,
 * so broken interrupt delivery fails as surely as broken DMA.
 */
static int nv_wait(struct nvme *n, struct nvme_q *q, uint16_t cid,
		   struct nvme_cqe *out, const char *what)
{
	volatile struct nvme_cqe *c = (volatile struct nvme_cqe *)
		(q->cq.va + q->cq_head * sizeof(*c));
	uint64_t t0 = vcn_now_ms(), end = t0 + CMD_TIMEOUT_MS;
	int irq = 0, posted;
	long k;

	for (;;) {
		if (!irq) {
			k = vcn_eventfd_poll(q->efd, 10);
			if (k < 0)
				return -1;
			if (k > 0) {
				irq = 1;
				n->irqs[q->vector] += k;
			}
		}
		vcn_mb();
		posted = (c->status & 1) == q->phase;
		if (posted && irq)
			break;
		if (vcn_now_ms() > end) {
			fprintf(stderr, "nvme: %s: %s within %d ms (vector %u)\n", what,
				posted ? "completion posted but no MSI-X interrupt" :
				irq ? "interrupt but no completion entry" :
				"neither completion nor interrupt",
				CMD_TIMEOUT_MS, q->vector);
			return -1;
		}
		if (irq)
			vcn_sleep_us(1000);
	}
	out->dw0 = c->dw0;
	out->sqhd = c->sqhd;
	out->sqid = c->sqid;
	out->cid = c->cid;
	out->status = c->status;
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	vcn_wr32(n->bar, nv_cq_db(n, q->qid), q->cq_head);
	say("   %s: completed in %llu ms, MSI-X vector %u fired\n", what,
	    (unsigned long long)(vcn_now_ms() - t0), q->vector);
	if (out->cid != cid || out->status >> 1) {
		fprintf(stderr, "nvme: %s: cid %u (want %u), status %#x (SCT %u SC %#x)\n",
			what, out->cid, cid, out->status >> 1,
			(out->status >> 9) & 7, (out->status >> 1) & 0xff);
		return -1;
	}
	return 0;
}

static int nv_cmd(struct nvme *n, struct nvme_q *q, struct nvme_sqe *c,
		  const char *what)
{
	struct nvme_cqe cqe;

	vcn_eventfd_poll(q->efd, 0);	/* the interrupt we wait for is this one's */
	nv_submit(n, q, c);
	if (nv_wait(n, q, c->cid, &cqe, what))
		return -1;
	if (cqe.sqid != q->qid) {
		fprintf(stderr, "nvme: %s: completion names SQ %u\n", what, cqe.sqid);
		return -1;
	}
	return 0;
}

/* an identify string: fixed width, space padded */
static void id_string(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = isprint(src[i]) ? src[i] : '?';
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = 0;
}

/* a 4 KiB data buffer: one page, so GET_PA must report it all contiguous */
static int nv_page(struct nvme *n, struct vcn_dma *b)
{
	if (b->va)
		return 0;
	if (vcn_dma_alloc(&n->d, VCN_PAGE_SIZE, 0, b))
		return -1;
	if (b->contig != VCN_PAGE_SIZE || b->pa % VCN_PAGE_SIZE) {
		fprintf(stderr, "nvme: GET_PA: page-aligned page at PA %#llx, %llu bytes contiguous\n",
			(unsigned long long)b->pa, (unsigned long long)b->contig);
		return -1;
	}
	return 0;
}

static int nv_identify_ctrl(struct nvme *n)
{
	struct nvme_sqe c = {
		.opc = ADM_IDENTIFY, .cdw10 = CNS_CONTROLLER,
	};
	const uint8_t *id;

	if (nv_page(n, &n->ident))
		return -1;
	memset(n->ident.va, 0xff, VCN_PAGE_SIZE);	/* so stale bytes show */
	c.prp1 = n->ident.pa;
	say("7. IDENTIFY CONTROLLER into PA %#llx\n", (unsigned long long)c.prp1);
	if (nv_cmd(n, &n->aq, &c, "IDENTIFY CONTROLLER"))
		return -1;
	vcn_mb();
	id = n->ident.va;
	n->vid = id[0] | id[1] << 8;
	id_string(n->sn, id + 4, 20);
	id_string(n->mn, id + 24, 40);
	id_string(n->fr, id + 64, 8);
	say("   PCI vendor %#06x, serial '%s', model '%s', firmware '%s', %u namespace(s)\n",
	    n->vid, n->sn, n->mn, n->fr,
	    id[516] | id[517] << 8 | id[518] << 16 | (uint32_t)id[519] << 24);
	return 0;
}

static int nv_identify_ns(struct nvme *n)
{
	struct nvme_sqe c = {
		.opc = ADM_IDENTIFY, .nsid = 1, .cdw10 = CNS_NAMESPACE,
	};
	unsigned int fmt, lbads;
	const uint8_t *id;
	int i;

	if (nv_page(n, &n->ident))
		return -1;
	id = n->ident.va;
	memset(n->ident.va, 0xff, VCN_PAGE_SIZE);
	c.prp1 = n->ident.pa;
	say("8. IDENTIFY NAMESPACE 1\n");
	if (nv_cmd(n, &n->aq, &c, "IDENTIFY NAMESPACE"))
		return -1;
	vcn_mb();
	for (n->nsze = 0, i = 7; i >= 0; i--)
		n->nsze = n->nsze << 8 | id[i];
	fmt = id[26] & 0xf;			/* FLBAS: the format in use */
	lbads = id[128 + 4 * fmt + 2];		/* LBAF[fmt] bits 23:16 */
	say("   %llu blocks, format %u: 2^%u = %u bytes per block\n",
	    (unsigned long long)n->nsze, fmt, lbads, 1u << (lbads & 31));
	if (lbads < 9 || lbads > 12 || !n->nsze) {
		fprintf(stderr, "nvme: namespace 1: %llu blocks, LBADS %u: unusable\n",
			(unsigned long long)n->nsze, lbads);
		return -1;
	}
	n->lba_size = 1u << lbads;
	return 0;
}

static int nv_create_io_queues(struct nvme *n)
{
	struct nvme_sqe c;
	int32_t fd = n->efd[1];

	if (CAP_MQES(n->cap) + 1 < IO_DEPTH) {
		fprintf(stderr, "nvme: MQES %u too small\n", CAP_MQES(n->cap));
		return -1;
	}
	say("9. I/O queue pair %u, completions on MSI-X vector 1:\n", IO_QID);
	if (vcn_msix_set(&n->d, 1, 1, &fd))
		return -1;
	say("   vector 1 -> eventfd %d\n", n->efd[1]);
	if (nv_alloc_queue(n, &n->ioq, IO_QID, IO_DEPTH, 1, n->efd[1]))
		return -1;
	memset(&c, 0, sizeof(c));
	c.opc = ADM_CREATE_CQ;
	c.prp1 = n->ioq.cq.pa;
	c.cdw10 = (IO_DEPTH - 1) << 16 | IO_QID;
	c.cdw11 = 1u << 16 | 1u << 1 | 1u << 0;	/* IV 1, IEN, PC */
	if (nv_cmd(n, &n->aq, &c, "CREATE I/O CQ"))
		return -1;
	memset(&c, 0, sizeof(c));
	c.opc = ADM_CREATE_SQ;
	c.prp1 = n->ioq.sq.pa;
	c.cdw10 = (IO_DEPTH - 1) << 16 | IO_QID;
	c.cdw11 = (uint32_t)IO_QID << 16 | 1u << 0;	/* CQID, PC */
	if (nv_cmd(n, &n->aq, &c, "CREATE I/O SQ"))
		return -1;
	n->ioq.live = 1;
	return 0;
}

/* one block into n->data, which is one page: a single PRP entry */
static int nv_read_block(struct nvme *n, uint64_t lba)
{
	struct nvme_sqe c = {
		.opc = IO_READ, .nsid = 1,
		.cdw10 = (uint32_t)lba, .cdw11 = (uint32_t)(lba >> 32),
		.cdw12 = 0,		/* NLB, 0's based: one block */
	};

	if (nv_page(n, &n->data))
		return -1;
	memset(n->data.va, 0xa5, VCN_PAGE_SIZE);
	c.prp1 = n->data.pa;
	say("10. READ namespace 1, LBA %llu, 1 block into PA %#llx\n",
	    (unsigned long long)lba, (unsigned long long)c.prp1);
	if (nv_cmd(n, &n->ioq, &c, "READ"))
		return -1;
	vcn_mb();
	return 0;
}

/* delete the I/O queues, normal shutdown, disable; release everything */
static int nv_shutdown(struct nvme *n)
{
	struct nvme_sqe c;
	uint32_t cc;
	int r = 0;

	say("11. shutting down\n");
	if (n->ioq.live) {
		memset(&c, 0, sizeof(c));
		c.opc = ADM_DELETE_SQ;
		c.cdw10 = IO_QID;
		r |= nv_cmd(n, &n->aq, &c, "DELETE I/O SQ");
		memset(&c, 0, sizeof(c));
		c.opc = ADM_DELETE_CQ;
		c.cdw10 = IO_QID;
		r |= nv_cmd(n, &n->aq, &c, "DELETE I/O CQ");
		n->ioq.live = 0;
	}
	cc = vcn_rd32(n->bar, NVME_REG_CC);
	vcn_wr32(n->bar, NVME_REG_CC, (cc & ~CC_SHN_MASK) | CC_SHN_NORMAL);
	r |= nv_wait_csts(n, CSTS_SHST_MASK, CSTS_SHST_DONE, "shutdown complete (CSTS.SHST)");
	vcn_wr32(n->bar, NVME_REG_CC, 0);
	r |= nv_wait_csts(n, CSTS_RDY, 0, "disabled (CSTS.RDY = 0)");
	r |= vcn_irq_disable(&n->d, VFIO_PCI_MSIX_IRQ_INDEX);
	r |= vcn_dma_free(&n->d, &n->ioq.sq) | vcn_dma_free(&n->d, &n->ioq.cq);
	r |= vcn_dma_free(&n->d, &n->aq.sq) | vcn_dma_free(&n->d, &n->aq.cq);
	r |= vcn_dma_free(&n->d, &n->ident) | vcn_dma_free(&n->d, &n->data);
	nv_live = NULL;
	munmap((void *)n->bar, n->bar_size);
	n->bar = NULL;
	close(n->efd[0]);
	close(n->efd[1]);
	vcn_dev_close(&n->d);
	return r ? -1 : 0;
}

/* the first bytes of a block, printable */
static void printable(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = isprint(src[i]) ? src[i] : '.';
	dst[n] = 0;
}

/* ---------------- tests ---------------- */

TEST(bar0_cap_and_config)
{
	struct vfio_region_info ri;
	uint8_t cfg[12];
	uint32_t cap_lo = 0;
	struct nvme n;

	ASSERT_OK(nv_open(&n, bdf()));
	ASSERT_OK(vcn_region_info(&n.d, VFIO_PCI_BAR0_REGION_INDEX, &ri));
	EXPECT_EQ(ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			      VFIO_REGION_INFO_FLAG_MMAP),
		  VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_TRUE(ri.size >= 0x2000 && !(ri.size & (ri.size - 1)));
	/* vendor, device, class 01 (storage) 08 (NVM) 02 (NVMe) */
	ASSERT_OK(vcn_cfg_read(&n.d, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(cfg[0] | cfg[1] << 8, 0x1b36);
	EXPECT_EQ(cfg[2] | cfg[3] << 8, 0x0010);
	EXPECT_EQ(cfg[9] | cfg[10] << 8 | cfg[11] << 16, 0x010802);
	ASSERT_OK(nv_read_cap(&n));
	EXPECT_TRUE(CAP_CSS_NVM(n.cap));
	EXPECT_EQ(CAP_MPSMIN(n.cap), 0);
	EXPECT_TRUE(CAP_MQES(n.cap) + 1 >= ADMIN_DEPTH);
	EXPECT_TRUE(CAP_TO(n.cap) > 0);
	EXPECT_TRUE(n.vs >= 0x10000);		/* NVMe 1.0 or later */
	/* the file path and the mmap see the same registers */
	EXPECT_OK(vcn_region_rw(&n.d, VFIO_PCI_BAR0_REGION_INDEX, 0, NVME_REG_CAP,
				&cap_lo, 4));
	EXPECT_EQ(cap_lo, (uint32_t)n.cap);
}

TEST(admin_identify_controller)
{
	const char *want = env_or("NVME_SERIAL", "vcn-serial-0001");
	struct nvme n;

	ASSERT_OK(nv_bringup(&n, bdf()));
	ASSERT_OK(nv_identify_ctrl(&n));
	VCN_REPORT(!strcmp(n.sn, want), "serial '%s' == NVME_SERIAL '%s'", n.sn, want);
	EXPECT_EQ(n.vid, 0x1b36);	/* QEMU reports its PCI vendor id */
	EXPECT_TRUE(n.irqs[0] >= 1);
	printf("#   model '%s', firmware '%s'\n", n.mn, n.fr);
	EXPECT_OK(nv_shutdown(&n));
}

TEST(io_queue_read_block0)
{
	const char *marker = env_or("NVME_BLOCK0", "VCN-NVME-BLOCK0-MARKER");
	size_t len = strlen(marker);
	char got[65];
	struct nvme n;
	uint64_t pm;
	long admin;

	ASSERT_OK(nv_bringup(&n, bdf()));
	ASSERT_OK(nv_identify_ctrl(&n));
	ASSERT_OK(nv_identify_ns(&n));
	EXPECT_TRUE(len <= n.lba_size);
	ASSERT_OK(nv_create_io_queues(&n));
	admin = n.irqs[0];
	vcn_eventfd_poll(n.efd[0], 0);
	ASSERT_OK(nv_read_block(&n, 0));
	/* the I/O completion came on vector 1, not on the admin vector */
	EXPECT_TRUE(n.irqs[1] >= 1);
	EXPECT_EQ(vcn_eventfd_poll(n.efd[0], 50), 0);
	EXPECT_EQ(n.irqs[0], admin);
	pm = vcn_pagemap_pa(n.data.va);
	if (pm)
		EXPECT_EQ(n.data.pa, pm);	/* GET_PA agrees with the page tables */
	printable(got, n.data.va, len < 64 ? len : 64);
	VCN_REPORT(!memcmp(n.data.va, marker, len),
		   "block 0 (%u bytes) starts with NVME_BLOCK0 '%s' (got '%s')",
		   n.lba_size, marker, got);
	EXPECT_OK(nv_shutdown(&n));
	EXPECT_TRUE(n.irqs[0] > admin);	/* the deletes completed by interrupt */
}

/* ---------------- demo ---------------- */

static void hexdump(const uint8_t *p, size_t n)
{
	char asc[17];
	size_t i;

	for (i = 0; i < n; i += 16) {
		size_t j;

		printf("   %04zx:", i);
		for (j = 0; j < 16; j++)
			printf(" %02x", p[i + j]);
		printable(asc, p + i, 16);
		printf("  %s\n", asc);
	}
}

static int run_demo(void)
{
	const char *serial = env_or("NVME_SERIAL", "vcn-serial-0001");
	const char *marker = env_or("NVME_BLOCK0", "VCN-NVME-BLOCK0-MARKER");
	struct nvme n;
	int bad = 0;

	demo = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("A userspace NVMe driver over %s (no IOMMU: the device gets physical addresses)\n",
	       vcn_ictx_node());
	if (nv_bringup(&n, bdf()) || nv_identify_ctrl(&n))
		goto fail;
	printf("   serial %s NVME_SERIAL '%s'\n", strcmp(n.sn, serial) ? "DIFFERS from" : "matches",
	       serial);
	bad |= !!strcmp(n.sn, serial);
	if (nv_identify_ns(&n) || nv_create_io_queues(&n) || nv_read_block(&n, 0))
		goto fail;
	hexdump(n.data.va, 64);
	printf("   block 0 %s NVME_BLOCK0 '%s'\n",
	       memcmp(n.data.va, marker, strlen(marker)) ? "does NOT start with" : "starts with",
	       marker);
	bad |= !!memcmp(n.data.va, marker, strlen(marker));
	printf("   interrupts: vector 0 (admin) %ld, vector 1 (I/O) %ld\n", n.irqs[0], n.irqs[1]);
	if (nv_shutdown(&n))
		goto fail;
	printf(bad ? "demo: done, with mismatches\n" : "demo: done\n");
	return bad;
fail:
	printf("demo: failed (see the message above)\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (!bdf()) {
		printf("Bail out! no nvme device (1b36:0010; set VCN_NVME_BDF)\n");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "--demo"))
		return run_demo();
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
