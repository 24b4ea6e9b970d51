/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcn_dev.h - the small userspace-driver library the device tests share:
 * open a device's cdev and give it an address space, reach its regions
 * (config space, mmap'ed BARs), map memory for DMA and learn its physical
 * address, and wire its interrupts to eventfds.
 *
 * Everything here is plain upstream vfio-pci / iommufd usage: a program
 * built on it would run unchanged on an upstream 7.3 kernel with
 * CONFIG_IOMMUFD_NOIOMMU. Every helper returns -1 with errno set (and says
 * why on stderr) on failure, so a test can ASSERT_OK() it and the console
 * shows what went wrong.
 */
#ifndef VCN_DEV_H
#define VCN_DEV_H

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include "vcn_util.h"

#ifndef PCI_COMMAND
#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#endif

#define VCN_PAGE_SIZE		4096UL

/* a failure message that keeps errno, so callers can still test it */
static inline int vcn_fail(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	fputs("vcn: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(e));
	va_end(ap);
	errno = e;
	return -1;
}

/* ---------------- time ---------------- */

static inline uint64_t vcn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void vcn_sleep_us(unsigned long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* ---------------- MMIO ---------------- */

/*
 * BARs are mapped uncached; volatile makes each access one load or store of
 * exactly that width (devices such as edu decode 4 and 8 byte accesses
 * differently), and x86 keeps them in program order with other stores.
 */
static inline uint32_t vcn_rd32(volatile void *bar, size_t off)
{
	return *(volatile uint32_t *)((volatile uint8_t *)bar + off);
}

static inline void vcn_wr32(volatile void *bar, size_t off, uint32_t v)
{
	*(volatile uint32_t *)((volatile uint8_t *)bar + off) = v;
}

static inline uint64_t vcn_rd64(volatile void *bar, size_t off)
{
	return *(volatile uint64_t *)((volatile uint8_t *)bar + off);
}

static inline void vcn_wr64(volatile void *bar, size_t off, uint64_t v)
{
	*(volatile uint64_t *)((volatile uint8_t *)bar + off) = v;
}

/*
 * Full barrier: descriptors written to DMA memory must be visible before
 * the doorbell store that tells the device to fetch them, and data the
 * device wrote must be re-read after we learn it is done.
 */
static inline void vcn_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---------------- open, bind, attach ---------------- */

struct vcn_dev {
	int dev;		/* the device cdev, bound */
	int ctx;		/* the iommufd context it is bound to */
	uint32_t devid;		/* from BIND */
	uint32_t ioas;		/* the IOAS to map DMA memory in */
	uint32_t pt;		/* the page-table object ATTACH made */
	char bdf[64];
};

/*
 * The whole upstream sequence: open the cdev found through sysfs, open a
 * context, BIND, IOAS_ALLOC, ATTACH. After it the device may use any
 * mapping of d->ioas (GET_PA needs the attach: no device, no PA).
 */
static inline int vcn_dev_open(struct vcn_dev *d, const char *bdf)
{
	const char *node = bdf ? vcn_dev_node(bdf) : NULL;

	memset(d, 0, sizeof(*d));
	d->dev = d->ctx = -1;
	if (!node) {
		errno = ENODEV;
		return vcn_fail("%s: no vfio-cdev-noiommu node",
				bdf ? bdf : "(no device)");
	}
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->dev = open(node, O_RDWR | O_CLOEXEC);
	if (d->dev < 0)
		return vcn_fail("open %s", node);
	d->ctx = open(vcn_ictx_node(), O_RDWR | O_CLOEXEC);
	if (d->ctx < 0) {
		vcn_fail("open %s", vcn_ictx_node());
		goto err;
	}
	if (vcn_bind(d->dev, d->ctx, &d->devid)) {
		vcn_fail("VFIO_DEVICE_BIND_IOMMUFD %s", bdf);
		goto err;
	}
	if (vcn_ioas_alloc(d->ctx, &d->ioas)) {
		vcn_fail("IOMMU_IOAS_ALLOC");
		goto err;
	}
	if (vcn_attach(d->dev, d->ioas, &d->pt)) {
		vcn_fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT ioas %u", d->ioas);
		goto err;
	}
	return 0;
err:
	{
		int e = errno;

		close(d->dev);
		if (d->ctx >= 0)
			close(d->ctx);
		d->dev = d->ctx = -1;
		errno = e;
	}
	return -1;
}

/* closing the device unbinds it, which also drops its interrupts and DMA */
static inline void vcn_dev_close(struct vcn_dev *d)
{
	if (d->dev >= 0)
		close(d->dev);
	if (d->ctx >= 0)
		close(d->ctx);
	d->dev = d->ctx = -1;
}

/* ---------------- regions ---------------- */

static inline int vcn_region_info(struct vcn_dev *d, unsigned int index,
				  struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	if (ioctl(d->dev, VFIO_DEVICE_GET_REGION_INFO, ri))
		return vcn_fail("VFIO_DEVICE_GET_REGION_INFO index %u", index);
	return 0;
}

/*
 * Read/write inside a region through the file, at the offset region info
 * gives (vfio-pci: index << 40). Short transfers are errors: for config
 * space and registers a partial access is never what the caller meant.
 */
static inline int vcn_region_rw(struct vcn_dev *d, unsigned int index, int write,
				uint64_t off, void *buf, size_t len)
{
	struct vfio_region_info ri;
	ssize_t r;

	if (vcn_region_info(d, index, &ri))
		return -1;
	if (off + len > ri.size) {
		errno = EINVAL;
		return vcn_fail("region %u: %#llx+%zu beyond size %#llx", index,
				(unsigned long long)off, len,
				(unsigned long long)ri.size);
	}
	r = write ? pwrite(d->dev, buf, len, ri.offset + off)
		  : pread(d->dev, buf, len, ri.offset + off);
	if (r != (ssize_t)len) {
		if (r >= 0)
			errno = EIO;
		return vcn_fail("%s region %u at %#llx, %zu bytes -> %zd",
				write ? "pwrite" : "pread", index,
				(unsigned long long)off, len, r);
	}
	return 0;
}

static inline int vcn_cfg_read(struct vcn_dev *d, unsigned int off, void *buf,
			       size_t len)
{
	return vcn_region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, 0, off, buf, len);
}

static inline int vcn_cfg_write(struct vcn_dev *d, unsigned int off,
				const void *buf, size_t len)
{
	return vcn_region_rw(d, VFIO_PCI_CONFIG_REGION_INDEX, 1, off,
			     (void *)buf, len);
}

/*
 * Opening the device cleared bus mastering (as upstream), so a driver must
 * set it before any DMA or MSI write, and memory decoding before touching
 * a BAR. The read-back checks that the write reached the device.
 */
static inline int vcn_enable_bus_master(struct vcn_dev *d)
{
	uint16_t cmd;

	if (vcn_cfg_read(d, PCI_COMMAND, &cmd, 2))
		return -1;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (vcn_cfg_write(d, PCI_COMMAND, &cmd, 2) ||
	    vcn_cfg_read(d, PCI_COMMAND, &cmd, 2))
		return -1;
	if ((cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) !=
	    (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) {
		errno = EIO;
		return vcn_fail("PCI_COMMAND reads %#x after setting MEMORY|MASTER",
				cmd);
	}
	return 0;
}

/* mmap a whole BAR; *size gets its length. NULL on failure. */
static inline void *vcn_bar_mmap(struct vcn_dev *d, unsigned int index,
				 size_t *size)
{
	struct vfio_region_info ri;
	void *p;

	if (vcn_region_info(d, index, &ri))
		return NULL;
	if (!ri.size || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = EINVAL;
		vcn_fail("BAR %u: size %#llx flags %#x, not mmap-able", index,
			 (unsigned long long)ri.size, ri.flags);
		return NULL;
	}
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->dev,
		 ri.offset);
	if (p == MAP_FAILED) {
		vcn_fail("mmap BAR %u (%#llx bytes at %#llx)", index,
			 (unsigned long long)ri.size,
			 (unsigned long long)ri.offset);
		return NULL;
	}
	*size = ri.size;
	return p;
}

/* ---------------- DMA memory ---------------- */

/* IOMMU_IOAS_MAP; with fixed, *iova is the input, else the kernel picks it */
static inline int vcn_map(struct vcn_dev *d, void *va, uint64_t len,
			  uint64_t *iova, int fixed)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (fixed ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = d->ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = fixed ? *iova : 0,
	};

	if (ioctl(d->ctx, IOMMU_IOAS_MAP, &m))
		return vcn_fail("IOMMU_IOAS_MAP va %p len %#llx%s", va,
				(unsigned long long)len,
				fixed ? " (fixed iova)" : "");
	*iova = m.iova;
	return 0;
}

static inline int vcn_unmap(struct vcn_dev *d, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u), .ioas_id = d->ioas, .iova = iova, .length = len,
	};

	if (ioctl(d->ctx, IOMMU_IOAS_UNMAP, &u))
		return vcn_fail("IOMMU_IOAS_UNMAP iova %#llx len %#llx",
				(unsigned long long)iova, (unsigned long long)len);
	return 0;
}

/*
 * IOMMU_IOAS_NOIOMMU_GET_PA: *pa is the physical address of iova; *len is
 * in: the most bytes we care about, out: how many of them are physically
 * contiguous from there. A device may only be given a range within one run.
 */
static inline int vcn_get_pa(struct vcn_dev *d, uint64_t iova, uint64_t *len,
			     uint64_t *pa)
{
	struct iommu_ioas_noiommu_get_pa g = {
		.size = sizeof(g), .ioas_id = d->ioas, .iova = iova, .length = *len,
	};

	if (ioctl(d->ctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g))
		return vcn_fail("IOMMU_IOAS_NOIOMMU_GET_PA iova %#llx len %#llx",
				(unsigned long long)iova,
				(unsigned long long)*len);
	if (!g.length || g.length > *len) {
		errno = ERANGE;
		return vcn_fail("GET_PA iova %#llx: length %#llx for a query of %#llx",
				(unsigned long long)iova,
				(unsigned long long)g.length,
				(unsigned long long)*len);
	}
	*len = g.length;
	*pa = g.out_phys;
	return 0;
}

/* a buffer the device can reach: user memory, its IOVA and physical address */
struct vcn_dma {
	uint8_t *va;
	uint64_t len;
	uint64_t iova;
	uint64_t pa;		/* of the first byte */
	uint64_t contig;	/* bytes physically contiguous from pa */
	int huge;		/* backed by 2 MiB hugetlb pages */
};

#define VCN_DMA_HUGE	1	/* MAP_HUGETLB (2 MiB); fail if unavailable */

/*
 * Anonymous memory, populated so the pin does not have to fault it in,
 * mapped at a kernel-chosen IOVA and looked up. Page-aligned by mmap, so
 * a buffer of up to 4 KiB is one page and always fully contiguous; larger
 * ones may not be, and the caller decides (b->contig says).
 */
static inline int vcn_dma_alloc(struct vcn_dev *d, uint64_t len, int flags,
				struct vcn_dma *b)
{
	int mf = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	uint64_t l;

	memset(b, 0, sizeof(*b));
	if (flags & VCN_DMA_HUGE)
		mf |= MAP_HUGETLB;	/* default hugepage size: 2 MiB on x86 */
	b->va = mmap(NULL, len, PROT_READ | PROT_WRITE, mf, -1, 0);
	if (b->va == MAP_FAILED) {
		b->va = NULL;
		return vcn_fail("mmap %#llx bytes%s", (unsigned long long)len,
				flags & VCN_DMA_HUGE ? " MAP_HUGETLB" : "");
	}
	b->len = len;
	b->huge = !!(flags & VCN_DMA_HUGE);
	if (vcn_map(d, b->va, len, &b->iova, 0))
		goto err;
	l = len;
	if (vcn_get_pa(d, b->iova, &l, &b->pa))
		goto err_unmap;
	b->contig = l;
	return 0;
err_unmap:
	vcn_unmap(d, b->iova, len);
err:
	{
		int e = errno;

		munmap(b->va, len);
		b->va = NULL;
		errno = e;
	}
	return -1;
}

/* unmap first: the pages stay pinned for the device until then */
static inline int vcn_dma_free(struct vcn_dev *d, struct vcn_dma *b)
{
	int r = 0;

	if (!b->va)
		return 0;
	r = vcn_unmap(d, b->iova, b->len);
	munmap(b->va, b->len);
	b->va = NULL;
	return r;
}

/*
 * The physical address /proc/self/pagemap reports, for cross-checking
 * GET_PA in tests only: a real driver must not use it (it needs
 * CAP_SYS_ADMIN and says nothing about pinning). 0 when unavailable.
 */
static inline uint64_t vcn_pagemap_pa(const void *va)
{
	uint64_t ent = 0, off = (uintptr_t)va / VCN_PAGE_SIZE * 8;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = pread(fd, &ent, sizeof(ent), off);
	close(fd);
	if (r != sizeof(ent) || !(ent & (1ULL << 63)))
		return 0;
	ent &= (1ULL << 55) - 1;	/* PFN; reads as 0 without CAP_SYS_ADMIN */
	if (!ent)
		return 0;
	return ent * VCN_PAGE_SIZE + (uintptr_t)va % VCN_PAGE_SIZE;
}

/* ---------------- interrupts ---------------- */

static inline int vcn_irq_info(struct vcn_dev *d, unsigned int index,
			       struct vfio_irq_info *ii)
{
	memset(ii, 0, sizeof(*ii));
	ii->argsz = sizeof(*ii);
	ii->index = index;
	if (ioctl(d->dev, VFIO_DEVICE_GET_IRQ_INFO, ii))
		return vcn_fail("VFIO_DEVICE_GET_IRQ_INFO index %u", index);
	return 0;
}

/* non-blocking, so draining a counter never hangs */
static inline int vcn_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return vcn_fail("eventfd");
	return fd;
}

/*
 * VFIO_DEVICE_SET_IRQS with DATA_EVENTFD|ACTION_TRIGGER: vectors
 * start..start+count-1 of an index signal fds[] (-1: no eventfd for that
 * vector, but it is still allocated, so it can be given one later without
 * resizing the index, which upstream refuses for MSI/MSI-X without
 * dynamic allocation).
 */
static inline int vcn_irq_set_eventfds(struct vcn_dev *d, unsigned int index,
				       unsigned int start, unsigned int count,
				       const int32_t *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, sz);
	int r;

	if (!s)
		return vcn_fail("calloc");
	s->argsz = sz;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, fds, count * sizeof(int32_t));
	r = ioctl(d->dev, VFIO_DEVICE_SET_IRQS, s);
	free(s);
	if (r)
		return vcn_fail("VFIO_DEVICE_SET_IRQS index %u start %u count %u",
				index, start, count);
	return 0;
}

/* DATA_NONE|ACTION_TRIGGER with count 0: switch the whole index off */
static inline int vcn_irq_disable(struct vcn_dev *d, unsigned int index)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	if (ioctl(d->dev, VFIO_DEVICE_SET_IRQS, &s))
		return vcn_fail("VFIO_DEVICE_SET_IRQS disable index %u", index);
	return 0;
}

static inline int vcn_msi_enable(struct vcn_dev *d, int efd)
{
	int32_t fd = efd;

	return vcn_irq_set_eventfds(d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd);
}

static inline int vcn_msix_set(struct vcn_dev *d, unsigned int start,
			       unsigned int count, const int32_t *fds)
{
	return vcn_irq_set_eventfds(d, VFIO_PCI_MSIX_IRQ_INDEX, start, count, fds);
}

static inline int vcn_intx_enable(struct vcn_dev *d, int efd)
{
	int32_t fd = efd;

	return vcn_irq_set_eventfds(d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd);
}

/*
 * INTx is level triggered and shared, so the kernel masks it when it
 * fires (automask); the driver silences the device first, then unmasks.
 */
static inline int vcn_intx_unmask(struct vcn_dev *d)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};

	if (ioctl(d->dev, VFIO_DEVICE_SET_IRQS, &s))
		return vcn_fail("VFIO_DEVICE_SET_IRQS INTx unmask");
	return 0;
}

/*
 * Quiet poll: the eventfd's count (reset to 0) if it fires within
 * timeout_ms, 0 if not, -1 on error. For "must not fire" checks, where a
 * timeout is the expected answer.
 */
static inline long vcn_eventfd_poll(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n;
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return vcn_fail("poll eventfd %d", efd);
	if (!r)
		return 0;
	if (read(efd, &n, sizeof(n)) != sizeof(n)) {
		if (errno == EAGAIN)	/* raced with another reader */
			return 0;
		return vcn_fail("read eventfd %d", efd);
	}
	return (long)n;
}

/* an interrupt that must come: its count, or -1/ETIMEDOUT after timeout_ms */
static inline long vcn_eventfd_wait(int efd, int timeout_ms, const char *what)
{
	long n = vcn_eventfd_poll(efd, timeout_ms);

	if (n == 0) {
		errno = ETIMEDOUT;
		return vcn_fail("%s: no interrupt within %d ms", what, timeout_ms);
	}
	return n;
}

#endif /* VCN_DEV_H */
