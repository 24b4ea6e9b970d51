// SPDX-License-Identifier: GPL-2.0
/*
 * safety_test.c - the config space a user must not own, as vfio-pci keeps it
 * from the user (the policy table of src/pci_config.c), and the parity
 * points around it. Each group runs on its own device, chosen by a glob:
 *
 *  pcie_*     VCN_NVME_BDF: Initiate FLR through the PCI core, MPS virtual,
 *             MRRS through pcie_set_readrq, phantom functions, Link Control
 *             and ARI forwarding not writable;
 *  sriov_*    VCN_SRIOV_BDF: a PF with its VFs off: the SR-IOV capability
 *             is read-only;
 *  vf_*       VCN_VF_BDF: a VF: its IDs as the kernel knows them (the
 *             device reads 0xffff), memory decode always on;
 *  master_*   VCN_EDU_BDF: bus mastering is never saved into the state
 *             restored at close;
 *  msi_*      VCN_MSI_BDF: a device whose MSI capability offers more
 *             vectors than the platform can give (x86 without interrupt
 *             remapping: one);
 *  subpage_*  VCN_SUBPAGE_BDF: a BAR smaller than a page, starting one, is
 *             mmappable and the rest of its page is reserved while open;
 *  lockdown_* VCN_EDU_BDF, bound before: raises lockdown itself (for good:
 *             run it last), then open, bind and mmap are refused.
 */
#define _GNU_SOURCE
#include <stddef.h>

#include "harness.h"
#include "vcn_dev.h"
#include "vcn_pci.h"

#define PCI_CAP_ID_EXP		0x10
#define PCI_CAP_ID_MSIX		0x11
#define PCI_EXP_DEVCTL		0x08
#define  PCI_EXP_DEVCTL_PAYLOAD	0x00e0
#define  PCI_EXP_DEVCTL_PHANTOM	0x0200
#define  PCI_EXP_DEVCTL_READRQ	0x7000
#define  PCI_EXP_DEVCTL_BCR_FLR	0x8000
#define PCI_EXP_LNKCTL		0x10
#define PCI_EXP_DEVCTL2		0x28
#define  PCI_EXP_DEVCTL2_ARI	0x0020
#define  PCI_EXP_DEVCTL2_EETLPPB 0x8000
#define PCI_EXT_CAP_ID_SRIOV	0x10
#define PCI_SRIOV_CTRL		0x08
#define PCI_SRIOV_NUM_VF	0x10
#define PCI_COMMAND_INTX_DISABLE 0x400

static uint16_t hw16(const char *bdf, unsigned int off)
{
	uint16_t v = 0xdead;

	EXPECT_OK(vcn_sysfs_cfg(bdf, off, &v, 2, 0));
	return v;
}

static int hw_w16(const char *bdf, unsigned int off, uint16_t v)
{
	return vcn_sysfs_cfg(bdf, off, &v, 2, 1);
}

static uint32_t hw32(const char *bdf, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	EXPECT_OK(vcn_sysfs_cfg(bdf, off, &v, 4, 0));
	return v;
}

/* through the config region, as the user sees it */
static uint16_t cfg16(struct vcn_dev *d, unsigned int off)
{
	uint16_t v = 0xdead;

	EXPECT_OK(vcn_cfg_read(d, off, &v, 2));
	return v;
}

static int cfg_w16(struct vcn_dev *d, unsigned int off, uint16_t v)
{
	return vcn_cfg_write(d, off, &v, 2);
}

static unsigned int find_ecap(struct vcn_dev *d, uint16_t id)
{
	unsigned int pos = 0x100;
	int hops = 64;
	uint32_t h;

	while (pos && hops--) {
		if (vcn_cfg_read(d, pos, &h, 4) || !h || h == 0xffffffff)
			return 0;
		if ((h & 0xffff) == id)
			return pos;
		pos = h >> 20;
	}
	return 0;
}

/* ---------------- PCI Express capability (nvme) ---------------- */

/*
 * Initiate FLR written to Device Control: the PCI core resets the function
 * and restores its config state. A raw write would reset the device behind
 * the kernel's back: QEMU then clears the BARs and the command register,
 * and MSI-X, which the kernel still believes programmed.
 */
TEST(pcie_flr_through_config_space_goes_through_the_core)
{
	const char *bdf = vcn_env_bdf("VCN_NVME_BDF");
	uint32_t bar0, cap_lo, v, hwcmd;
	volatile uint32_t *bar;
	uint8_t exp, msix;
	struct vcn_dev d;
	uint16_t ctl;
	size_t sz;
	int efd;

	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_TRUE(exp = vcn_find_cap(&d, PCI_CAP_ID_EXP));
	ASSERT_TRUE(msix = vcn_find_cap(&d, PCI_CAP_ID_MSIX));
	ASSERT_TRUE(hw32(bdf, exp + 4) & 0x10000000);	/* DEVCAP: FLR */
	ASSERT_OK(vcn_enable_bus_master(&d));
	bar = vcn_bar_mmap(&d, 0, &sz);
	ASSERT_TRUE(bar);
	ASSERT_OK(efd = vcn_eventfd());
	ASSERT_OK(vcn_msix_set(&d, 0, 1, &efd));
	cap_lo = bar[0];
	ASSERT_TRUE(vcn_nvme_enable(bar));
	bar0 = hw32(bdf, 0x10);
	hwcmd = hw16(bdf, 4);
	ASSERT_TRUE(hw16(bdf, msix + 2) & 0x8000);	/* MSI-X enabled */

	ctl = cfg16(&d, exp + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_BCR_FLR;
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL, ctl));

	EXPECT_EQ(bar[0x14 / 4], 0);		/* the controller was reset */
	EXPECT_EQ(bar[0x1c / 4] & 1, 0);
	/* and the kernel's config state was put back */
	EXPECT_EQ(hw32(bdf, 0x10), bar0);
	EXPECT_EQ(hw16(bdf, 4), hwcmd);
	EXPECT_TRUE(hw16(bdf, msix + 2) & 0x8000);
	/* the mapping was revoked and faults back in */
	EXPECT_TRUE(!vcn_read_faults(&bar[0], &v));
	EXPECT_EQ(v, cap_lo);
	EXPECT_EQ(cfg16(&d, exp + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_BCR_FLR, 0);
	EXPECT_TRUE(vcn_nvme_enable(bar));		/* it works again */
	bar[0x14 / 4] = 0;
	close(efd);
}

TEST(pcie_device_control_policy)
{
	const char *bdf = vcn_env_bdf("VCN_NVME_BDF");
	uint16_t ctl, hw, v;
	struct vcn_dev d;
	uint8_t exp;

	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_TRUE(exp = vcn_find_cap(&d, PCI_CAP_ID_EXP));
	hw = hw16(bdf, exp + PCI_EXP_DEVCTL);
	ctl = cfg16(&d, exp + PCI_EXP_DEVCTL);
	EXPECT_EQ(ctl, hw);			/* at open: the device's */

	/* Max_Payload_Size: the user reads back its own, the device keeps its */
	v = (ctl & ~PCI_EXP_DEVCTL_PAYLOAD) | (1 << 5);
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL, v));
	EXPECT_EQ(cfg16(&d, exp + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_PAYLOAD, 1 << 5);
	EXPECT_EQ(hw16(bdf, exp + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_PAYLOAD,
		  hw & PCI_EXP_DEVCTL_PAYLOAD);
	/* a byte write of the upper half leaves the virtual MPS alone */
	uint8_t hi = (ctl >> 8) & ~(PCI_EXP_DEVCTL_BCR_FLR >> 8);

	ASSERT_OK(vcn_cfg_write(&d, exp + PCI_EXP_DEVCTL + 1, &hi, 1));
	EXPECT_EQ(cfg16(&d, exp + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_PAYLOAD, 1 << 5);
	/* phantom functions: never from the user */
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL, ctl | PCI_EXP_DEVCTL_PHANTOM));
	EXPECT_EQ(hw16(bdf, exp + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_PHANTOM, 0);
	/* MRRS: accepted (pcie_set_readrq; QEMU's field is read-only) */
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL,
			  (ctl & ~PCI_EXP_DEVCTL_READRQ) | (2 << 12)));
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL, ctl));
	EXPECT_EQ(cfg16(&d, exp + PCI_EXP_DEVCTL), ctl);
	EXPECT_EQ(hw16(bdf, exp + PCI_EXP_DEVCTL), hw);

	/* Device Control 2: ARI forwarding is the kernel's, the rest passes */
	hw = hw16(bdf, exp + PCI_EXP_DEVCTL2);
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL2,
			  hw | PCI_EXP_DEVCTL2_ARI | PCI_EXP_DEVCTL2_EETLPPB));
	v = hw16(bdf, exp + PCI_EXP_DEVCTL2);
	EXPECT_TRUE(v & PCI_EXP_DEVCTL2_EETLPPB);
	EXPECT_EQ(v & PCI_EXP_DEVCTL2_ARI, hw & PCI_EXP_DEVCTL2_ARI);
	EXPECT_EQ(cfg16(&d, exp + PCI_EXP_DEVCTL2), v);
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_DEVCTL2, hw));
	EXPECT_EQ(hw16(bdf, exp + PCI_EXP_DEVCTL2), hw);

	/* Link Control: read-only (ASPM, retraining are the kernel's) */
	hw = hw16(bdf, exp + PCI_EXP_LNKCTL);
	ASSERT_OK(cfg_w16(&d, exp + PCI_EXP_LNKCTL, hw ^ 0x00c3));
	EXPECT_EQ(hw16(bdf, exp + PCI_EXP_LNKCTL), hw);
	EXPECT_EQ(cfg16(&d, exp + PCI_EXP_LNKCTL), hw);
}

/* ---------------- SR-IOV (a PF with its VFs off) ---------------- */

TEST(sriov_capability_is_read_only)
{
	const char *bdf = vcn_env_bdf("VCN_SRIOV_BDF");
	uint16_t ctl, nvf;
	struct vcn_dev d;
	unsigned int sr;

	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_TRUE(sr = find_ecap(&d, PCI_EXT_CAP_ID_SRIOV));
	ctl = hw16(bdf, sr + PCI_SRIOV_CTRL);
	nvf = hw16(bdf, sr + PCI_SRIOV_NUM_VF);
	EXPECT_EQ(ctl & 1, 0);			/* VFs off */
	/* NumVFs is writable on the device: the user's write must not land */
	ASSERT_OK(cfg_w16(&d, sr + PCI_SRIOV_NUM_VF, 2));
	EXPECT_EQ(hw16(bdf, sr + PCI_SRIOV_NUM_VF), nvf);
	EXPECT_EQ(cfg16(&d, sr + PCI_SRIOV_NUM_VF), nvf);
	/* nor VF Enable (it would create VFs the kernel never knew of) */
	ASSERT_OK(cfg_w16(&d, sr + PCI_SRIOV_CTRL, ctl | 0x9));
	EXPECT_EQ(hw16(bdf, sr + PCI_SRIOV_CTRL), ctl);
	/* a dword write over the capability is dropped just the same */
	uint32_t all[4] = { ~0u, ~0u, ~0u, ~0u };

	ASSERT_OK(vcn_cfg_write(&d, sr + 8, all, sizeof(all)));
	EXPECT_EQ(hw16(bdf, sr + PCI_SRIOV_CTRL), ctl);
	EXPECT_EQ(hw16(bdf, sr + PCI_SRIOV_NUM_VF), nvf);
}

/* ---------------- a VF ---------------- */

static unsigned int sysfs_hex(const char *bdf, const char *file)
{
	char p[128];
	unsigned int v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/%s", bdf, file);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%x", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

TEST(vf_ids_and_memory_decode)
{
	const char *bdf = vcn_env_bdf("VCN_VF_BDF");
	volatile uint32_t *bar;
	uint16_t cmd, id[2];
	struct vcn_dev d;
	uint32_t v;
	size_t sz;

	ASSERT_OK(vcn_dev_open(&d, bdf));
	/* the device itself reads 0xffff there, as the SR-IOV spec says */
	EXPECT_EQ(hw32(bdf, 0), 0xffffffff);
	ASSERT_OK(vcn_cfg_read(&d, 0, id, 4));
	EXPECT_EQ(id[0], sysfs_hex(bdf, "vendor"));
	EXPECT_EQ(id[1], sysfs_hex(bdf, "device"));
	EXPECT_NE(id[0], 0xffff);
	/* a VF's decode is on: it reads as on, and stays on */
	cmd = cfg16(&d, 4);
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
	bar = vcn_bar_mmap(&d, 0, &sz);
	ASSERT_TRUE(bar);
	ASSERT_OK(cfg_w16(&d, 4, cmd & ~PCI_COMMAND_MEMORY));
	EXPECT_EQ(cfg16(&d, 4) & PCI_COMMAND_MEMORY, 0);	/* its own bit */
	EXPECT_TRUE(!vcn_read_faults(&bar[0x1c / 4], &v));
	EXPECT_EQ(v & 2, 2);	/* CSTS.CFS: an offline VF, but it answers */
	EXPECT_OK(vcn_region_rw(&d, 0, 0, 0x1c, &v, 4));
	EXPECT_EQ(v & 2, 2);
	ASSERT_OK(cfg_w16(&d, 4, cmd));
	EXPECT_TRUE(cfg16(&d, 4) & PCI_COMMAND_MEMORY);
	/* IDs are read-only */
	v = 0x12345678;
	ASSERT_OK(vcn_cfg_write(&d, 0, &v, 4));
	ASSERT_OK(vcn_cfg_read(&d, 0, id, 4));
	EXPECT_EQ(id[0], sysfs_hex(bdf, "vendor"));
}

/* ---------------- bus master and the state saved at open ---------------- */

TEST(master_bus_mastering_is_not_restored_at_close)
{
	const char *bdf = vcn_env_bdf("VCN_EDU_BDF");
	struct vcn_dev d;
	uint16_t cmd = hw16(bdf, 4);

	/* someone (root, through sysfs) left it on before the open */
	ASSERT_OK(hw_w16(bdf, 4, cmd | PCI_COMMAND_MASTER));
	ASSERT_TRUE(hw16(bdf, 4) & PCI_COMMAND_MASTER);
	ASSERT_OK(vcn_dev_open(&d, bdf));
	EXPECT_EQ(cfg16(&d, 4) & PCI_COMMAND_MASTER, 0);	/* off at open */
	ASSERT_OK(vcn_enable_bus_master(&d));
	vcn_dev_close(&d);
	/* close restored the state saved at open: without bus mastering */
	EXPECT_EQ(hw16(bdf, 4) & PCI_COMMAND_MASTER, 0);
	ASSERT_OK(hw_w16(bdf, 4, cmd & ~PCI_COMMAND_MASTER));
}

/* ---------------- MSI: more vectors than the platform gives ---------------- */

/* SET_IRQS of @count MSI eventfds from 0: the ioctl's own return value */
static int set_msi_raw(struct vcn_dev *d, unsigned int count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, sz);
	int r;

	if (!s)
		return -1;
	s->argsz = sz;
	s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	s->index = VFIO_PCI_MSI_IRQ_INDEX;
	s->count = count;
	memcpy(s->data, fds, count * sizeof(int32_t));
	r = ioctl(d->dev, VFIO_DEVICE_SET_IRQS, s);
	free(s);
	return r;
}

TEST(msi_more_vectors_than_the_platform_gives)
{
	const char *bdf = vcn_env_bdf("VCN_MSI_BDF");
	struct vfio_irq_info info;
	int efds[4], i, ret;
	struct vcn_dev d;

	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_MSI_IRQ_INDEX, &info));
	ASSERT_TRUE(info.count >= 4);		/* the capability offers them */
	for (i = 0; i < 4; i++)
		ASSERT_OK(efds[i] = vcn_eventfd());
	/* beyond what the capability offers: EINVAL, as upstream */
	EXPECT_ERRNO(EINVAL, vcn_irq_set_eventfds(&d, VFIO_PCI_MSI_IRQ_INDEX,
						  info.count, 1, efds));
	/*
	 * Within it, but more than x86 gives without interrupt remapping
	 * (one MSI vector): upstream's SET_IRQS returns the number it could
	 * have, positive, and enables nothing.
	 */
	ret = set_msi_raw(&d, 4, efds);
	EXPECT_EQ(ret, 1);
	/* nothing is left enabled: one vector works after it */
	EXPECT_OK(vcn_irq_set_eventfds(&d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, efds));
	EXPECT_OK(vcn_irq_disable(&d, VFIO_PCI_MSI_IRQ_INDEX));
	for (i = 0; i < 4; i++)
		close(efds[i]);
}

/* ---------------- a BAR smaller than a page ---------------- */

static int iomem_has(const char *what)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/iomem", "r");

	while (f && fgets(line, sizeof(line), f))
		n += !!strstr(line, what);
	if (f)
		fclose(f);
	return n;
}

TEST(subpage_bar_is_mmappable_with_its_page_reserved)
{
	const char *bdf = vcn_env_bdf("VCN_SUBPAGE_BDF");
	struct vfio_region_info ri;
	volatile uint8_t *p;
	struct vcn_dev d;
	uint8_t b;
	void *m;

	EXPECT_EQ(iomem_has("vfio-cdev-noiommu sub-page reserved"), 0);
	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&d));	/* memory decode */
	ASSERT_OK(vcn_region_info(&d, 0, &ri));
	ASSERT_TRUE(ri.size && ri.size < VCN_PAGE_SIZE);
	ASSERT_TRUE(!(hw32(bdf, 0x10) & (VCN_PAGE_SIZE - 1) & ~0xfu));
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_EQ(iomem_has("vfio-cdev-noiommu sub-page reserved"), 1);
	/* one page: the BAR and the reserved rest; not more */
	m = mmap(NULL, 2 * VCN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 d.dev, ri.offset);
	EXPECT_TRUE(m == MAP_FAILED && errno == EINVAL);
	m = mmap(NULL, VCN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 d.dev, ri.offset);
	ASSERT_TRUE(m != MAP_FAILED);
	p = m;
	/* the mapping and pread see the same register */
	ASSERT_OK(vcn_region_rw(&d, 0, 0, 0, &b, 1));
	EXPECT_EQ(p[0], b);
	munmap(m, VCN_PAGE_SIZE);
	vcn_dev_close(&d);
	EXPECT_EQ(iomem_has("vfio-cdev-noiommu sub-page reserved"), 0);
}

/* ---------------- lockdown raised after the bind ---------------- */

static int lockdown_raise(void)
{
	int fd = open("/sys/kernel/security/lockdown", O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, "integrity", 9);
		close(fd);
	}
	return n == 9 ? 0 : -1;
}

TEST(lockdown_raised_after_bind_refuses_open_bind_and_mmap)
{
	const char *bdf = vcn_env_bdf("VCN_EDU_BDF");
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	const char *node = vcn_dev_node(bdf);
	struct vfio_region_info ri;
	struct vcn_dev d;
	int unbound;

	ASSERT_TRUE(node);
	ASSERT_OK(vcn_dev_open(&d, bdf));		/* bound before */
	ASSERT_OK(unbound = open(node, O_RDWR));	/* opened before */
	ASSERT_OK(vcn_region_info(&d, 0, &ri));
	ASSERT_OK(lockdown_raise());

	EXPECT_ERRNO(EPERM, open(node, O_RDWR));
	ASSERT_OK(bind.iommufd = open(vcn_ictx_node(), O_RDWR));
	EXPECT_ERRNO(EPERM, ioctl(unbound, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	EXPECT_TRUE(mmap(NULL, VCN_PAGE_SIZE, PROT_READ, MAP_SHARED, d.dev,
			 ri.offset) == MAP_FAILED && errno == EPERM);
	/* what was granted before stays: the file is still bound */
	EXPECT_OK(ioctl(d.dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_ERRNO(EPERM, open(node, O_RDWR));	/* again: logged once */
	close(bind.iommufd);
	close(unbound);
}

int main(int argc, char **argv)
{
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
