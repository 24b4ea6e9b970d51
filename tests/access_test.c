// SPDX-License-Identifier: GPL-2.0
/*
 * access_test.c - device access on the cdev with vfio-pci semantics: region
 * info and its capability chain, config space virtualization (BAR sizing,
 * INTx-disable, kernel-owned MSI/MSI-X), BAR mmap and its revocation,
 * SET_IRQS argument rules and vector bookkeeping, ERR/REQ loopback, reset
 * and hot reset. Devices (env, else the first of each kind): VCN_EDU_BDF,
 * VCN_NVME_BDF, VCN_TESTDEV_BDF, VCN_EDU2_BDF (an edu behind a PCIe root
 * port, where a secondary bus reset is possible).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

#include "harness.h"
#include "vcn_dev.h"
#include "vcn_pci.h"

static const char *dev_bdf(const char *env, unsigned int v, unsigned int d)
{
	const char *b = getenv(env);

	return b ? b : vcn_find_bdf(v, d);
}

#define EDU	dev_bdf("VCN_EDU_BDF", 0x1234, 0x11e8)
#define NVME	dev_bdf("VCN_NVME_BDF", 0x1b36, 0x0010)
#define TESTDEV	dev_bdf("VCN_TESTDEV_BDF", 0x1b36, 0x0005)
#define E1000E	dev_bdf("VCN_PME_BDF", 0x8086, 0x10d3)

static void open_dev(struct vcn_dev *d, const char *bdf)
{
	ASSERT_TRUE(bdf);
	ASSERT_OK(vcn_dev_open(d, bdf));
}

static int region_info_raw(struct vcn_dev *d, void *buf, uint32_t argsz,
			   uint32_t index)
{
	struct vfio_region_info *ri = buf;

	ri->argsz = argsz;
	ri->index = index;
	return ioctl(d->dev, VFIO_DEVICE_GET_REGION_INFO, buf);
}

/* lines of /proc/interrupts naming @what */
static int irq_lines(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	while (f && fgets(line, sizeof(line), f))
		n += !!strstr(line, what);
	if (f)
		fclose(f);
	return n;
}

/* a dword of it, or 0xdeadbeef (which no check expects) if unreadable */
static uint32_t sysfs_cfg32(const char *bdf, unsigned int off)
{
	uint32_t v;

	return vcn_sysfs_cfg(bdf, off, &v, 4, 0) ? 0xdeadbeef : v;
}

static int sysfs_cfg_write16(const char *bdf, unsigned int off, uint16_t v)
{
	return vcn_sysfs_cfg(bdf, off, &v, 2, 1);
}

/* ---------------- region info ---------------- */

TEST(region_info_edu)
{
	struct vfio_region_info ri;
	struct vcn_dev d;
	unsigned int i;

	open_dev(&d, EDU);
	ASSERT_OK(vcn_region_info(&d, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	EXPECT_EQ(ri.offset, (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40);
	EXPECT_TRUE(ri.size == 256 || ri.size == 4096);
	EXPECT_EQ(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	ASSERT_OK(vcn_region_info(&d, 0, &ri));
	EXPECT_EQ(ri.size, 1 << 20);
	EXPECT_EQ(ri.offset, 0);
	EXPECT_EQ(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			    VFIO_REGION_INFO_FLAG_MMAP);
	for (i = 1; i <= 5; i++) {	/* unimplemented BARs: size 0, no error */
		ASSERT_OK(vcn_region_info(&d, i, &ri));
		EXPECT_EQ(ri.size, 0);
		EXPECT_EQ(ri.flags, 0);
		EXPECT_EQ(ri.offset, (uint64_t)i << 40);
	}
	ASSERT_OK(vcn_region_info(&d, VFIO_PCI_ROM_REGION_INDEX, &ri));
	EXPECT_EQ(ri.size, 0);		/* edu has no ROM */
	EXPECT_ERRNO(EINVAL, region_info_raw(&d, &ri, sizeof(ri), VFIO_PCI_VGA_REGION_INDEX));
	EXPECT_ERRNO(EINVAL, region_info_raw(&d, &ri, sizeof(ri), 9));
	EXPECT_ERRNO(EINVAL, region_info_raw(&d, &ri, sizeof(ri), 0xffffffff));
	EXPECT_ERRNO(EINVAL, region_info_raw(&d, &ri,
					     offsetof(struct vfio_region_info, offset), 0));
	EXPECT_ERRNO(EFAULT, ioctl(d.dev, VFIO_DEVICE_GET_REGION_INFO, NULL));
}

TEST(region_info_msix_cap_chain)
{
	struct {
		struct vfio_region_info ri;
		struct vfio_info_cap_header cap;
	} big = {};
	struct vfio_region_info ri = {};
	struct vcn_dev d;

	open_dev(&d, NVME);
	/* argsz with no room for the chain: CAPS flag, the size it needs */
	ASSERT_OK(region_info_raw(&d, &ri, sizeof(ri), 0));
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_CAPS);
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_EQ(ri.argsz, sizeof(big));
	EXPECT_EQ(ri.cap_offset, 0);
	/* with room: the MSI-X-mappable capability, as upstream */
	ASSERT_OK(region_info_raw(&d, &big, sizeof(big), 0));
	EXPECT_EQ(big.ri.cap_offset, sizeof(struct vfio_region_info));
	EXPECT_EQ(big.cap.id, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	EXPECT_EQ(big.cap.version, 1);
	EXPECT_EQ(big.cap.next, 0);
}

/* ---------------- config space ---------------- */

TEST(config_reads_match_the_device)
{
	struct vcn_dev d;
	uint8_t b[64];
	uint32_t id;
	uint16_t w;

	open_dev(&d, EDU);
	ASSERT_OK(vcn_cfg_read(&d, 0, &id, 4));
	EXPECT_EQ(id, 0x11e81234);
	ASSERT_OK(vcn_cfg_read(&d, 0, &w, 2));
	EXPECT_EQ(w, 0x1234);
	ASSERT_OK(vcn_cfg_read(&d, 2, b, 1));
	EXPECT_EQ(b[0], 0xe8);
	/* an unaligned 64-byte read is split into aligned pieces */
	ASSERT_OK(vcn_cfg_read(&d, 1, b, 63));
	EXPECT_EQ(b[0], 0x12);
	EXPECT_EQ(b[1], 0xe8);
	/* past the end: a short read, then EINVAL */
	struct vfio_region_info ri;

	ASSERT_OK(vcn_region_info(&d, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	EXPECT_EQ(pread(d.dev, b, 8, ri.offset + ri.size - 4), 4);
	EXPECT_ERRNO(EINVAL, pread(d.dev, b, 4, ri.offset + ri.size));
	EXPECT_ERRNO(EINVAL, pread(d.dev, b, 4, (9ULL << 40)));
}

TEST(bar_sizing_is_virtual)
{
	uint32_t hw0, v, all = 0xffffffff, orig;
	struct vfio_region_info ri;
	struct vcn_dev d;

	open_dev(&d, TESTDEV);
	ASSERT_OK(vcn_region_info(&d, 0, &ri));
	ASSERT_TRUE(ri.size >= 16);
	hw0 = sysfs_cfg32(TESTDEV, 0x10);
	ASSERT_TRUE(hw0 != 0xdeadbeef);	/* else "never touched" proves nothing */
	ASSERT_OK(vcn_cfg_read(&d, 0x10, &orig, 4));
	ASSERT_OK(vcn_cfg_write(&d, 0x10, &all, 4));
	ASSERT_OK(vcn_cfg_read(&d, 0x10, &v, 4));
	/* the sizing protocol: all ones read back as ~(size - 1) | type bits */
	EXPECT_EQ(v & ~0xfu, (uint32_t)~(ri.size - 1));
	EXPECT_EQ(v & 0xf, orig & 0xf);
	/* the device itself was never touched */
	EXPECT_EQ(sysfs_cfg32(TESTDEV, 0x10), hw0);
	ASSERT_OK(vcn_cfg_write(&d, 0x10, &orig, 4));
	ASSERT_OK(vcn_cfg_read(&d, 0x10, &v, 4));
	EXPECT_EQ(v, orig);
	/* byte writes merge into the virtual register too */
	uint8_t ff = 0xff;

	ASSERT_OK(vcn_cfg_write(&d, 0x13, &ff, 1));
	ASSERT_OK(vcn_cfg_read(&d, 0x10, &v, 4));
	EXPECT_EQ(v >> 24, (uint32_t)(~(ri.size - 1) | (orig & ~(uint32_t)(ri.size - 1))) >> 24);
	ASSERT_OK(vcn_cfg_write(&d, 0x10, &orig, 4));
	/* unimplemented BARs and the absent ROM read 0 whatever is written */
	ASSERT_OK(vcn_cfg_write(&d, 0x24, &all, 4));
	ASSERT_OK(vcn_cfg_read(&d, 0x24, &v, 4));
	EXPECT_EQ(v, 0);
	ASSERT_OK(vcn_cfg_write(&d, 0x30, &all, 4));
	ASSERT_OK(vcn_cfg_read(&d, 0x30, &v, 4));
	EXPECT_EQ(v, 0);
}

TEST(intx_disable_is_virtual_and_msi_is_kernel_owned)
{
	uint16_t cmd, v, flags, hwflags;
	struct vcn_dev d;
	uint8_t cap;

	open_dev(&d, EDU);
	ASSERT_OK(vcn_cfg_read(&d, 4, &cmd, 2));
	v = cmd | 0x400;
	ASSERT_OK(vcn_cfg_write(&d, 4, &v, 2));
	ASSERT_OK(vcn_cfg_read(&d, 4, &v, 2));
	EXPECT_TRUE(v & 0x400);		/* the user reads back its own bit */
	v &= ~0x400;
	ASSERT_OK(vcn_cfg_write(&d, 4, &v, 2));
	ASSERT_OK(vcn_cfg_read(&d, 4, &v, 2));
	EXPECT_TRUE(!(v & 0x400));
	/* MSI capability: writes are dropped, the kernel owns it */
	ASSERT_OK(vcn_cfg_read(&d, 0x34, &cap, 1));
	while (cap) {
		uint8_t id;

		ASSERT_OK(vcn_cfg_read(&d, cap, &id, 1));
		if (id == 0x05)
			break;
		ASSERT_OK(vcn_cfg_read(&d, cap + 1, &cap, 1));
	}
	ASSERT_TRUE(cap);		/* edu has MSI */
	ASSERT_OK(vcn_cfg_read(&d, cap + 2, &flags, 2));
	hwflags = flags | 1;		/* try to enable MSI behind the kernel */
	ASSERT_OK(vcn_cfg_write(&d, cap + 2, &hwflags, 2));
	ASSERT_OK(vcn_cfg_read(&d, cap + 2, &hwflags, 2));
	EXPECT_EQ(hwflags, flags);
	EXPECT_EQ(sysfs_cfg32(EDU, cap) >> 16, flags);
}

/* what the PCI core believes: sysfs power_state ("D0", "D3hot", ...) */
static const char *core_power_state(const char *bdf)
{
	static char st[32];
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/power_state", bdf);
	st[0] = 0;
	f = fopen(p, "r");
	if (f) {
		if (!fgets(st, sizeof(st), f))
			st[0] = 0;
		fclose(f);
	}
	st[strcspn(st, "\n")] = 0;
	return st;
}

/* ---------------- mmap ---------------- */

TEST(mmap_rules)
{
	struct vcn_dev d;
	void *p;

	open_dev(&d, EDU);
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, d.dev, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, d.dev, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	EXPECT_TRUE(mmap(NULL, 2 << 20, PROT_READ, MAP_SHARED, d.dev, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);	/* longer than the BAR */
	EXPECT_TRUE(mmap(NULL, 8192, PROT_READ, MAP_SHARED, d.dev, (1 << 20) - 4096) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);	/* runs past its end */
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ, MAP_SHARED, d.dev, 1ULL << 40) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);	/* BAR1 does not exist */
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ, MAP_SHARED, d.dev, 7ULL << 40) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);	/* config space is not mappable */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, d.dev, (1 << 20) - 4096);
	EXPECT_TRUE(p != MAP_FAILED);	/* the last page is fine */
	/* an unbound file cannot map */
	int f2 = open(vcn_dev_node(EDU), O_RDWR);

	ASSERT_TRUE(f2 >= 0);
	EXPECT_TRUE(mmap(NULL, 4096, PROT_READ, MAP_SHARED, f2, 0) == MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
}

TEST(mmap_revoked_while_memory_decode_is_off)
{
	volatile uint32_t *bar;
	uint16_t cmd, off;
	struct vcn_dev d;
	uint32_t v = 0;
	size_t sz;
	uint8_t b[4];

	open_dev(&d, EDU);
	bar = vcn_bar_mmap(&d, 0, &sz);
	ASSERT_TRUE(bar);
	ASSERT_OK(vcn_cfg_read(&d, 4, &cmd, 2));
	ASSERT_TRUE(cmd & PCI_COMMAND_MEMORY);
	EXPECT_TRUE(!vcn_read_faults(bar, &v));
	EXPECT_EQ(v, 0x010000ed);
	off = cmd & ~PCI_COMMAND_MEMORY;
	ASSERT_OK(vcn_cfg_write(&d, 4, &off, 2));
	EXPECT_TRUE(vcn_read_faults(bar, &v));	/* SIGBUS, never a dead BAR */
	EXPECT_ERRNO(EIO, pread(d.dev, b, 4, 0));
	ASSERT_OK(vcn_cfg_write(&d, 4, &cmd, 2));
	v = 0;
	EXPECT_TRUE(!vcn_read_faults(bar, &v));	/* faults back in */
	EXPECT_EQ(v, 0x010000ed);
	EXPECT_OK(pread(d.dev, b, 4, 0));
}

TEST(pread_pwrite_and_mmap_agree)
{
	volatile uint32_t *bar;
	struct vcn_dev d;
	uint32_t v, w;
	uint64_t q;
	size_t sz;

	open_dev(&d, EDU);
	bar = vcn_bar_mmap(&d, 0, &sz);
	ASSERT_TRUE(bar);
	ASSERT_OK(vcn_region_rw(&d, 0, 0, 0, &v, 4));
	EXPECT_EQ(v, bar[0]);
	w = 0x5a5aa5a5;
	ASSERT_OK(vcn_region_rw(&d, 0, 1, 4, &w, 4));
	EXPECT_EQ(bar[1], ~w);			/* liveness: reads back inverted */
	bar[1] = 0x12345678;
	ASSERT_OK(vcn_region_rw(&d, 0, 0, 4, &v, 4));
	EXPECT_EQ(v, ~0x12345678u);
	/* the factorial unit: write n to 0x08, read n! back */
	w = 6;
	ASSERT_OK(vcn_region_rw(&d, 0, 1, 8, &w, 4));
	for (int i = 0; i < 1000 && (bar[0x20 / 4] & 1); i++)
		vcn_sleep_us(1000);
	EXPECT_EQ(bar[0x08 / 4], 720);
	/* 8-byte access is one access (edu decodes 8-byte DMA registers) */
	q = 0x1122334455667788ULL;
	ASSERT_OK(vcn_region_rw(&d, 0, 1, 0x80, &q, 8));
	q = 0;
	ASSERT_OK(vcn_region_rw(&d, 0, 0, 0x80, &q, 8));
	EXPECT_EQ(q, 0x1122334455667788ULL);
	/* beyond the BAR */
	EXPECT_ERRNO(EINVAL, pread(d.dev, &v, 4, 1 << 20));
	EXPECT_EQ(pread(d.dev, &q, 8, (1 << 20) - 4), 4);	/* short at the end */
	/* the ROM region of a device without one */
	EXPECT_ERRNO(EINVAL, pread(d.dev, &v, 4, 6ULL << 40));
	EXPECT_ERRNO(EINVAL, pwrite(d.dev, &v, 4, 6ULL << 40));
}

/* ---------------- power management ---------------- */

static int set_power_field(struct vcn_dev *d, uint8_t pm, uint16_t state)
{
	uint16_t pmcsr;

	if (vcn_cfg_read(d, pm + 4, &pmcsr, 2))
		return -1;
	pmcsr = (pmcsr & ~3) | state;
	return vcn_cfg_write(d, pm + 4, &pmcsr, 2);
}

static uint16_t power_field(struct vcn_dev *d, uint8_t pm)
{
	uint16_t pmcsr = 0xffff;

	vcn_cfg_read(d, pm + 4, &pmcsr, 2);
	return pmcsr & 3;
}

/*
 * PMCSR's PowerState goes through the PCI core, as in vfio-pci: the core's
 * sysfs power_state follows the user's writes (a write passed straight to
 * the device would leave the core believing D0), and BAR access stops in
 * D3hot and comes back in D0 with the config state intact. Close wakes a
 * device the user left asleep.
 */
TEST(power_state_goes_through_the_pci_core)
{
	const char *bdf = getenv("VCN_PM_BDF") ? getenv("VCN_PM_BDF") : NVME;
	struct vfio_region_info ri = {};
	volatile uint32_t *bar;
	uint16_t cmd, cmd2;
	struct vcn_dev d;
	uint32_t v, cap_lo;
	unsigned int i;
	uint8_t pm;
	size_t sz;

	open_dev(&d, bdf);
	pm = vcn_find_cap(&d, 0x01);
	ASSERT_TRUE(pm);
	ASSERT_OK(vcn_enable_bus_master(&d));
	ASSERT_OK(vcn_cfg_read(&d, 4, &cmd, 2));
	/* the first mappable BAR (virtio's is BAR4) */
	for (i = 0; i < 6 && !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP); i++)
		ASSERT_OK(vcn_region_info(&d, i, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	bar = vcn_bar_mmap(&d, ri.index, &sz);
	ASSERT_TRUE(bar);
	ASSERT_TRUE(!vcn_read_faults(bar, &cap_lo));
	EXPECT_EQ(power_field(&d, pm), 0);
	EXPECT_TRUE(!strcmp(core_power_state(bdf), "D0"));

	ASSERT_OK(set_power_field(&d, pm, 3));
	EXPECT_EQ(power_field(&d, pm), 3);
	EXPECT_TRUE(!strcmp(core_power_state(bdf), "D3hot"));
	EXPECT_TRUE(vcn_read_faults(bar, &v));	/* SIGBUS, not a sleeping BAR */
	EXPECT_ERRNO(EIO, pread(d.dev, &v, 4, ri.offset));

	ASSERT_OK(set_power_field(&d, pm, 0));
	EXPECT_EQ(power_field(&d, pm), 0);
	EXPECT_TRUE(!strcmp(core_power_state(bdf), "D0"));
	v = 0;
	EXPECT_TRUE(!vcn_read_faults(bar, &v));	/* faults back in */
	EXPECT_EQ(v, cap_lo);
	EXPECT_OK(vcn_region_rw(&d, ri.index, 0, 0, &v, 4));
	EXPECT_EQ(v, cap_lo);
	ASSERT_OK(vcn_cfg_read(&d, 4, &cmd2, 2));
	EXPECT_EQ(cmd2, cmd);

	/* left in D3hot at close: the next owner finds it awake */
	ASSERT_OK(set_power_field(&d, pm, 3));
	EXPECT_TRUE(!strcmp(core_power_state(bdf), "D3hot"));
	munmap((void *)bar, sz);
	vcn_dev_close(&d);
	EXPECT_TRUE(!strcmp(core_power_state(bdf), "D0"));
	open_dev(&d, bdf);
	EXPECT_EQ(power_field(&d, pm), 0);
	EXPECT_OK(vcn_region_rw(&d, ri.index, 0, 0, &v, 4));
	EXPECT_EQ(v, cap_lo);
}

#define PME_EN		0x0100
#define PME_STATUS	0x8000
#define PME_SUPPORT	0xf800

/* the device's own PMCSR, as the kernel sees it; -1 if sysfs fails */
static int hw_pmcsr(const char *bdf, uint8_t pm)
{
	uint16_t v;

	return vcn_sysfs_cfg(bdf, pm + 4, &v, 2, 0) ? -1 : v;
}

/* 1 or 0: the device's PME_En; -1 if it cannot be read */
static int hw_pme_en(const char *bdf, uint8_t pm)
{
	int v = hw_pmcsr(bdf, pm);

	return v < 0 ? -1 : !!(v & PME_EN);
}

/*
 * PME is the kernel's, as in vfio-pci: PME_Support, PME_En and PME_Status
 * read as zero through the config region, and no user write reaches them;
 * the rest of PMCSR (Data_Select) does. QEMU's e1000e lets PME_En and
 * Data_Select be written, so a user write that got through, or one that
 * was lost, shows in the device's own config space. (QEMU never sets
 * PME_Status nor advertises PME_Support: those reads would be zero anyway.)
 */
TEST(pme_bits_stay_with_the_kernel)
{
	const char *bdf = E1000E;
	uint16_t pmcsr, w, pmc;
	struct vcn_dev d;
	uint8_t pm, b;
	uint32_t dw;

	open_dev(&d, bdf);
	pm = vcn_find_cap(&d, 0x01);
	ASSERT_TRUE(pm);
	/* the device must implement PME_En, or nothing below is proven */
	ASSERT_OK(sysfs_cfg_write16(bdf, pm + 4, PME_EN));
	ASSERT_EQ(hw_pme_en(bdf, pm), 1);

	/* armed by the kernel: the user sees it clear, in every width ... */
	ASSERT_OK(vcn_cfg_read(&d, pm + 4, &pmcsr, 2));
	EXPECT_EQ(pmcsr & (PME_EN | PME_STATUS), 0);
	ASSERT_OK(vcn_cfg_read(&d, pm + 5, &b, 1));
	EXPECT_EQ(b & ((PME_EN | PME_STATUS) >> 8), 0);
	ASSERT_OK(vcn_cfg_read(&d, pm + 4, &dw, 4));
	EXPECT_EQ(dw & (PME_EN | PME_STATUS), 0);
	ASSERT_OK(vcn_cfg_read(&d, pm, &dw, 4));
	EXPECT_EQ(dw & ((uint32_t)PME_SUPPORT << 16), 0);
	/* ... and cannot clear it, by word or by PMCSR's byte 1 alone */
	w = pmcsr & ~PME_EN;
	ASSERT_OK(vcn_cfg_write(&d, pm + 4, &w, 2));
	EXPECT_EQ(hw_pme_en(bdf, pm), 1);
	b = 0;
	ASSERT_OK(vcn_cfg_write(&d, pm + 5, &b, 1));
	EXPECT_EQ(hw_pme_en(bdf, pm), 1);

	/* not armed: the user cannot arm it, by word, byte or dword */
	ASSERT_OK(sysfs_cfg_write16(bdf, pm + 4, 0));
	ASSERT_EQ(hw_pme_en(bdf, pm), 0);
	w = pmcsr | PME_EN | PME_STATUS;
	ASSERT_OK(vcn_cfg_write(&d, pm + 4, &w, 2));
	EXPECT_EQ(hw_pme_en(bdf, pm), 0);
	/* byte 1 with Data_Select 3: that reaches the device, PME does not;
	 * its low bits (3) would be a D3hot request were it taken for byte 0 */
	b = ((PME_EN | PME_STATUS) >> 8) | (3 << 1);
	ASSERT_OK(vcn_cfg_write(&d, pm + 5, &b, 1));
	EXPECT_EQ(hw_pme_en(bdf, pm), 0);
	EXPECT_EQ((hw_pmcsr(bdf, pm) >> 9) & 0xf, 3);
	ASSERT_OK(vcn_cfg_read(&d, pm + 5, &b, 1));
	EXPECT_EQ(b, 3 << 1);
	dw = pmcsr | PME_EN;
	ASSERT_OK(vcn_cfg_write(&d, pm + 4, &dw, 4));
	EXPECT_EQ(hw_pme_en(bdf, pm), 0);
	EXPECT_EQ((hw_pmcsr(bdf, pm) >> 9) & 0xf, 0);
	ASSERT_OK(vcn_cfg_read(&d, pm + 4, &w, 2));
	EXPECT_EQ(w & (PME_EN | PME_STATUS), 0);

	/* PMC: PME_Support reads as zero; the rest is the device's */
	ASSERT_OK(vcn_cfg_read(&d, pm + 2, &pmc, 2));
	EXPECT_EQ(pmc & PME_SUPPORT, 0);
	EXPECT_EQ(pmc, (sysfs_cfg32(bdf, pm) >> 16) & ~PME_SUPPORT);
	/* none of those writes changed the power state */
	EXPECT_EQ(power_field(&d, pm), 0);
	EXPECT_TRUE(!strcmp(core_power_state(bdf), "D0"));
	vcn_dev_close(&d);
	EXPECT_OK(sysfs_cfg_write16(bdf, pm + 4, 0));
}

/* ---------------- interrupts ---------------- */

static int set_irqs_raw(struct vcn_dev *d, uint32_t argsz, uint32_t flags,
			uint32_t index, uint32_t start, uint32_t count,
			const void *data, size_t dlen)
{
	uint8_t buf[256] = {};
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = argsz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	memcpy(s->data, data, dlen);
	return ioctl(d->dev, VFIO_DEVICE_SET_IRQS, s);
}

#define EVT	(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE	(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)
#define SZ(n)	(sizeof(struct vfio_irq_set) + (n) * 4)

TEST(irq_info)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vcn_dev d;

	open_dev(&d, EDU);
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 1);
	EXPECT_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			    VFIO_IRQ_INFO_AUTOMASKED);
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_MSI_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 1);
	EXPECT_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 0);
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_ERR_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 0);		/* edu is not PCIe */
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_REQ_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 1);
	ii.index = 5;
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	ii.index = 0;
	ii.argsz = 8;
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
}

TEST(set_irqs_rejects_bad_arguments)
{
	struct vcn_dev d;
	int32_t efd = vcn_eventfd(), null = open("/dev/null", O_RDONLY), bad = 1000;
	int32_t two[2] = { efd, efd };

	open_dev(&d, EDU);
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, 8, EVT, 0, 0, 1, &efd, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 5, 0, 1, &efd, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(2), EVT, 0, 0, 2, two, 8));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 0, 1, 1, &efd, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 1, 0xffffffff, 1, &efd, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT | VFIO_IRQ_SET_DATA_BOOL, 0, 0, 1, &efd, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT | 0x100, 0, 0, 1, &efd, 4));
	EXPECT_ERRNO(ENOTTY, set_irqs_raw(&d, SZ(1), VFIO_IRQ_SET_DATA_EVENTFD, 0, 0, 1, &efd, 4));
	EXPECT_ERRNO(ENOTTY, set_irqs_raw(&d, SZ(1), VFIO_IRQ_SET_DATA_EVENTFD |
				VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, 1, &efd, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(0), EVT, 0, 0, 1, &efd, 4));	/* no data */
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 0, 0, 1, &null, 4));
	EXPECT_ERRNO(EBADF, set_irqs_raw(&d, SZ(1), EVT, 0, 0, 1, &bad, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 4, 0, 1, (int32_t[]){ -2 }, 4));
	/* MSI has no mask/unmask (as upstream): ENOTTY */
	EXPECT_ERRNO(ENOTTY, set_irqs_raw(&d, SZ(0), VFIO_IRQ_SET_DATA_NONE |
				VFIO_IRQ_SET_ACTION_MASK, 1, 0, 1, NULL, 0));
	/* unmask before INTx is enabled: wrong order */
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(0), VFIO_IRQ_SET_DATA_NONE |
				VFIO_IRQ_SET_ACTION_UNMASK, 0, 0, 1, NULL, 0));
	/* DATA_NONE trigger on a disabled index: nothing to signal */
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(0), NONE, 1, 0, 1, NULL, 0));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(0), NONE, 4, 0, 1, NULL, 0));
	EXPECT_ERRNO(EFAULT, ioctl(d.dev, VFIO_DEVICE_SET_IRQS, NULL));
	/* none of it left anything behind */
	EXPECT_EQ(irq_lines("vfio-"), 0);
	/* one type at a time: MSI while INTx is on is refused */
	ASSERT_OK(vcn_intx_enable(&d, efd));
	EXPECT_EQ(irq_lines("vfio-intx"), 1);
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 1, 0, 1, &efd, 4));
	ASSERT_OK(vcn_irq_disable(&d, VFIO_PCI_INTX_IRQ_INDEX));
	EXPECT_EQ(irq_lines("vfio-"), 0);
	ASSERT_OK(vcn_msi_enable(&d, efd));
	EXPECT_EQ(irq_lines("vfio-msi"), 1);
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 0, 0, 1, &efd, 4));
	close(d.dev);	/* close releases every vector */
	d.dev = -1;
	EXPECT_EQ(irq_lines("vfio-"), 0);
}

TEST(msix_vectors_come_and_go_while_enabled)
{
	struct vcn_dev d;
	int32_t fds[4], minus1 = -1;
	uint8_t yes[4] = { 0, 1, 0, 0 };
	int i;

	open_dev(&d, NVME);
	for (i = 0; i < 4; i++)
		fds[i] = vcn_eventfd();
	ASSERT_OK(vcn_msix_set(&d, 0, 4, fds));
	EXPECT_EQ(irq_lines("vfio-msix"), 4);
	ASSERT_OK(vcn_msix_set(&d, 2, 1, &minus1));	/* remove vector 2 */
	EXPECT_EQ(irq_lines("vfio-msix"), 3);
	ASSERT_OK(vcn_msix_set(&d, 2, 1, &fds[2]));	/* and add it back */
	EXPECT_EQ(irq_lines("vfio-msix"), 4);
	/* beyond the vectors allocated at enable: NORESIZE */
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(1), EVT, 2, 4, 1, &fds[0], 4));
	/* loopback: DATA_BOOL fires exactly the chosen vector */
	ASSERT_OK(set_irqs_raw(&d, sizeof(struct vfio_irq_set) + 4,
			       VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
			       2, 0, 4, yes, 4));
	EXPECT_EQ(vcn_eventfd_poll(fds[1], 1000), 1);
	EXPECT_TRUE(vcn_eventfd_poll(fds[0], 50) <= 0);
	EXPECT_TRUE(vcn_eventfd_poll(fds[3], 50) <= 0);
	ASSERT_OK(set_irqs_raw(&d, SZ(0), NONE, 2, 3, 1, NULL, 0));
	EXPECT_EQ(vcn_eventfd_poll(fds[3], 1000), 1);
	ASSERT_OK(vcn_irq_disable(&d, VFIO_PCI_MSIX_IRQ_INDEX));
	EXPECT_EQ(irq_lines("vfio-msix"), 0);
	/* a failing eventfd in a block leaves none of the block set */
	int32_t mixed[3] = { fds[0], 1000, fds[2] };

	EXPECT_ERRNO(EBADF, vcn_msix_set(&d, 0, 3, mixed));
	EXPECT_EQ(irq_lines("vfio-msix"), 0);
}

TEST(err_and_req_eventfds)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vcn_dev d;
	int32_t efd = vcn_eventfd(), m1 = -1;
	uint8_t one = 1;

	open_dev(&d, NVME);
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_ERR_IRQ_INDEX, &ii));
	EXPECT_EQ(ii.count, 1);		/* nvme is PCIe: AER can report */
	ASSERT_OK(set_irqs_raw(&d, SZ(1), EVT, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &efd, 4));
	ASSERT_OK(set_irqs_raw(&d, sizeof(struct vfio_irq_set) + 1,
			       VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
			       VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &one, 1));
	EXPECT_EQ(vcn_eventfd_poll(efd, 1000), 1);
	ASSERT_OK(set_irqs_raw(&d, SZ(1), EVT, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &m1, 4));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(0), NONE, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, NULL, 0));
	ASSERT_OK(set_irqs_raw(&d, SZ(1), EVT, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd, 4));
	ASSERT_OK(set_irqs_raw(&d, SZ(0), NONE, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(vcn_eventfd_poll(efd, 1000), 1);
	ASSERT_OK(set_irqs_raw(&d, SZ(0), NONE, VFIO_PCI_REQ_IRQ_INDEX, 0, 0, NULL, 0));
	EXPECT_ERRNO(EINVAL, set_irqs_raw(&d, SZ(0), NONE, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
}

/* ---------------- reset ---------------- */

TEST(reset_only_where_it_works)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vcn_dev d;

	open_dev(&d, EDU);
	ASSERT_OK(ioctl(d.dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(!(info.flags & VFIO_DEVICE_FLAGS_RESET));
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_RESET));
	vcn_dev_close(&d);
	open_dev(&d, NVME);
	ASSERT_OK(ioctl(d.dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_RESET);	/* FLR */
}

TEST(nvme_reset_revokes_mmaps_and_the_controller_comes_back)
{
	volatile uint32_t *bar;
	struct vcn_dev d;
	uint32_t cap_lo, v;
	uint16_t cmd;
	size_t sz;
	int i;

	open_dev(&d, NVME);
	ASSERT_OK(vcn_enable_bus_master(&d));
	bar = vcn_bar_mmap(&d, 0, &sz);
	ASSERT_TRUE(bar);
	cap_lo = bar[0];
	EXPECT_NE(cap_lo, 0xffffffff);
	ASSERT_TRUE(vcn_nvme_enable(bar));
	ASSERT_OK(ioctl(d.dev, VFIO_DEVICE_RESET));
	/* the mapping was zapped and faults back in (decode is restored) */
	EXPECT_TRUE(!vcn_read_faults(&bar[0], &v));
	EXPECT_EQ(v, cap_lo);
	EXPECT_EQ(bar[0x14 / 4], 0);		/* the FLR disabled the controller */
	EXPECT_EQ(bar[0x1c / 4] & 1, 0);
	/* the saved config state came back: memory decode and bus master */
	ASSERT_OK(vcn_cfg_read(&d, 4, &cmd, 2));
	EXPECT_EQ(cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* and the controller works again */
	EXPECT_TRUE(vcn_nvme_enable(bar));
	bar[0x14 / 4] = 0;
	for (i = 0; i < 2000 && (bar[0x1c / 4] & 1); i++)
		vcn_sleep_us(1000);
	EXPECT_EQ(bar[0x1c / 4] & 1, 0);
}

static int hot_reset_info(struct vcn_dev *d, void *buf, uint32_t argsz)
{
	struct vfio_pci_hot_reset_info *h = buf;

	h->argsz = argsz;
	return ioctl(d->dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, h);
}

TEST(hot_reset_on_the_root_bus_is_enodev)
{
	uint8_t buf[256] = {};
	struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };
	struct vcn_dev d;

	open_dev(&d, EDU);
	EXPECT_ERRNO(ENODEV, hot_reset_info(&d, buf, sizeof(buf)));
	EXPECT_ERRNO(ENODEV, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.count = 1;			/* group fds: there are no groups */
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.count = 0;
	hr.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.flags = 0;
	hr.argsz = 4;
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
}

/*
 * Two functions behind one root port (edu 0.0, pci-testdev 0.1): a bus reset
 * hits both, so it is allowed only when the caller owns both.
 */
TEST(hot_reset_needs_every_affected_function)
{
	const char *edu2 = getenv("VCN_EDU2_BDF"), *td2 = getenv("VCN_TESTDEV2_BDF");
	struct {
		struct vfio_pci_hot_reset_info h;
		struct vfio_pci_dependent_device dev[4];
	} info = {};
	struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };
	char path[128];
	struct vcn_dev d;
	int t, i;

	ASSERT_TRUE(edu2 && td2);
	open_dev(&d, edu2);
	/* the other function unbound: not ours at all, EBUSY */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", td2);
	if (strcmp(vcn_driver_of(td2), "none"))
		ASSERT_OK(vcn_sysfs_write(path, td2));
	ASSERT_OK(hot_reset_info(&d, &info, sizeof(info)));
	EXPECT_EQ(info.h.count, 2);
	EXPECT_EQ(info.h.flags, VFIO_PCI_HOT_RESET_FLAG_DEV_ID);	/* not all owned */
	EXPECT_ERRNO(EBUSY, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	/* bound to us but not opened by the caller: EINVAL */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", td2);
	ASSERT_OK(vcn_sysfs_write(path, "vfio-cdev-noiommu"));
	ASSERT_OK(vcn_sysfs_write("/sys/bus/pci/drivers_probe", td2));
	ASSERT_TRUE(!strcmp(vcn_driver_of(td2), "vfio-cdev-noiommu"));
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	/* opened through another context: still not the caller's */
	t = open(vcn_dev_node(td2), O_RDWR);
	ASSERT_TRUE(t >= 0);
	int other = open(vcn_ictx_node(), O_RDWR);

	ASSERT_OK(vcn_bind(t, other, NULL));
	EXPECT_ERRNO(EINVAL, ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	close(t);
	close(other);
	/* opened through the caller's context: allowed, both listed */
	uint32_t tdid;

	t = open(vcn_dev_node(td2), O_RDWR);
	ASSERT_OK(vcn_bind(t, d.ctx, &tdid));
	ASSERT_OK(hot_reset_info(&d, &info, sizeof(info)));
	EXPECT_EQ(info.h.flags, VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
				VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED);
	for (i = 0; i < 2; i++)
		EXPECT_TRUE(info.dev[i].group_id == d.devid ||
			    info.dev[i].group_id == tdid);
	EXPECT_NE(info.dev[0].group_id, info.dev[1].group_id);
	EXPECT_OK(ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	close(t);
}

TEST(hot_reset_behind_a_root_port)
{
	const char *bdf = getenv("VCN_EDU2_BDF");
	struct {
		struct vfio_pci_hot_reset_info h;
		struct vfio_pci_dependent_device dev[4];
	} info = {};
	struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };
	volatile uint32_t *bar;
	struct vcn_dev d;
	uint32_t v;
	size_t sz;

	const char *td2 = getenv("VCN_TESTDEV2_BDF");
	int t;

	ASSERT_TRUE(bdf && td2);
	open_dev(&d, bdf);
	/* too small: ENOSPC and the count it needs */
	EXPECT_ERRNO(ENOSPC, hot_reset_info(&d, &info, sizeof(info.h)));
	EXPECT_EQ(info.h.count, 2);
	/* the other function is ours too, opened in the same context */
	t = open(vcn_dev_node(td2), O_RDWR);
	ASSERT_TRUE(t >= 0);
	ASSERT_OK(vcn_bind(t, d.ctx, NULL));
	ASSERT_OK(hot_reset_info(&d, &info, sizeof(info)));
	EXPECT_EQ(info.h.count, 2);
	EXPECT_EQ(info.h.flags, VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
				VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED);
	EXPECT_EQ(info.dev[0].group_id, d.devid);	/* the devid, 7.3 layout */
	unsigned int bus, dv, fn;

	ASSERT_TRUE(sscanf(bdf, "%*x:%x:%x.%x", &bus, &dv, &fn) == 3);
	EXPECT_EQ(info.dev[0].bus, bus);
	EXPECT_EQ(info.dev[0].devfn, (dv << 3) | fn);
	bar = vcn_bar_mmap(&d, 0, &sz);
	ASSERT_TRUE(bar);
	bar[1] = 0x1111;
	EXPECT_EQ(bar[1], ~0x1111u);
	ASSERT_OK(ioctl(d.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	EXPECT_TRUE(!vcn_read_faults(&bar[0], &v));		/* works after it */
	EXPECT_EQ(v, 0x010000ed);
}

int main(int argc, char **argv)
{
	if (!EDU) {
		printf("Bail out! no edu device\n");
		return 1;
	}
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
