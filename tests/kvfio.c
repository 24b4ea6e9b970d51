// SPDX-License-Identifier: GPL-2.0
/*
 * kvfio.c - on a kernel with its own vfio and iommufd (configured as
 * Ubuntu's, Fedora's and RHEL's are), the kernel's vfio-pci drives one edu
 * while the module drives another, at the same time and in one process:
 * neither side may take the other's device, node or file.
 *
 * Devices (env): VCN_KVFIO_BDF, an edu bound to the kernel's vfio-pci;
 * VCN_EDU_BDF, an edu bound to vfio-cdev-noiommu (group_* tests only).
 *   group_*  guest without an IOMMU, vfio's own no-IOMMU mode on: the
 *            kernel's device through its legacy group and container
 *            (/dev/vfio/noiommu-N, VFIO_NOIOMMU_IOMMU), ours through our
 *            nodes, DMA on ours while the kernel's is open; alone, the
 *            kernel's device after our module is gone
 *   cdev_*   guest with intel-iommu: the kernel's device through its cdev
 *            and the kernel's /dev/iommu, DMA through the IOMMU
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/random.h>

#include "harness.h"
#include "vcn_dev.h"
#include "edu.h"

#define KERNEL_IOMMUFD	"/dev/iommu"
#define DMA_IOVA	0x10000000ULL	/* outside every reserved IOVA range */

/* the kernel's vfio group of @bdf, as /dev/vfio/<name> */
static int group_node(const char *bdf, char *node, size_t len)
{
	char p[128], link[256];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	/* a no-IOMMU group is /dev/vfio/noiommu-N, a real one /dev/vfio/N */
	snprintf(node, len, "/dev/vfio/noiommu-%s", strrchr(link, '/') + 1);
	if (access(node, F_OK))
		snprintf(node, len, "/dev/vfio/%s", strrchr(link, '/') + 1);
	return 0;
}

/* the device's ID register and liveness register answer through @bar */
static void expect_edu_alive(volatile uint8_t *bar, const char *who)
{
	uint32_t probe;

	EXPECT_EQ(vcn_rd32(bar, EDU_ID), EDU_ID_VALUE);
	if (getrandom(&probe, sizeof(probe), 0) != sizeof(probe))
		probe = 0x5a5aa5a5;
	vcn_wr32(bar, EDU_LIVENESS, probe);
	VCN_REPORT(vcn_rd32(bar, EDU_LIVENESS) == ~probe,
		   "%s: edu's liveness register inverts %#x", who, probe);
}

/* RAM -> edu -> RAM through DMA addresses @src and @dst of @a and @b */
static void dma_round_trip(volatile uint8_t *bar, uint8_t *a, uint64_t src,
			   uint8_t *b, uint64_t dst, const char *who)
{
	size_t i;

	if (getrandom(a, EDU_CHUNK, 0) != EDU_CHUNK)
		memset(a, 0x3c, EDU_CHUNK);
	for (i = 0; i < EDU_CHUNK; i++)
		b[i] = ~a[i];
	ASSERT_OK(edu_dma(bar, src, EDU_BUF, EDU_CHUNK, 0));
	ASSERT_OK(edu_dma(bar, EDU_BUF, dst, EDU_CHUNK, EDU_CMD_TO_RAM));
	vcn_mb();
	VCN_REPORT(!memcmp(a, b, EDU_CHUNK), "%s: %u bytes came back by DMA",
		   who, EDU_CHUNK);
}

/* ---------------- the kernel's no-IOMMU group, beside ours ---------------- */

struct kgroup {
	int container, group;
	struct vcn_dev d;	/* only .dev: the kernel's device fd */
	volatile uint8_t *bar;
	size_t bar_size;
};

/* the legacy sequence a DPDK-style driver runs on vfio's no-IOMMU mode */
static void kgroup_open(struct kgroup *k, const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char node[128];
	uint16_t vendor = 0;

	memset(&k->d, 0, sizeof(k->d));
	ASSERT_OK(group_node(bdf, node, sizeof(node)));
	VCN_REPORT(!strncmp(node, "/dev/vfio/noiommu-", 18),
		   "%s's group is a no-IOMMU group: %s", bdf, node);
	ASSERT_TRUE((k->container = open("/dev/vfio/vfio", O_RDWR)) >= 0);
	EXPECT_EQ(ioctl(k->container, VFIO_GET_API_VERSION), VFIO_API_VERSION);
	EXPECT_EQ(ioctl(k->container, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 1);
	ASSERT_TRUE((k->group = open(node, O_RDWR)) >= 0);
	ASSERT_OK(ioctl(k->group, VFIO_GROUP_GET_STATUS, &st));
	EXPECT_TRUE(st.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT_OK(ioctl(k->group, VFIO_GROUP_SET_CONTAINER, &k->container));
	ASSERT_OK(ioctl(k->container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU));
	k->d.dev = ioctl(k->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	ASSERT_TRUE(k->d.dev >= 0);
	k->d.ctx = -1;
	ASSERT_OK(ioctl(k->d.dev, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_OK(vcn_cfg_read(&k->d, 0 /* PCI_VENDOR_ID */, &vendor, 2));
	EXPECT_EQ(vendor, 0x1234);
	k->bar = vcn_bar_mmap(&k->d, VFIO_PCI_BAR0_REGION_INDEX, &k->bar_size);
	ASSERT_TRUE(k->bar != NULL);
	expect_edu_alive(k->bar, "the kernel's vfio-pci");
}

static void kgroup_close(struct kgroup *k)
{
	munmap((void *)k->bar, k->bar_size);
	close(k->d.dev);
	close(k->group);
	close(k->container);
}

/* the kernel's device alone: after our module is gone, it goes on */
TEST(group_noiommu_alone)
{
	const char *kbdf = vcn_env_bdf("VCN_KVFIO_BDF");
	struct kgroup k;

	kgroup_open(&k, kbdf);
	kgroup_close(&k);
}

TEST(group_noiommu_and_ours_at_once)
{
	const char *kbdf = vcn_env_bdf("VCN_KVFIO_BDF"), *ours = vcn_env_bdf("VCN_EDU_BDF");
	struct vcn_dma a, b;
	struct kgroup k;
	struct vcn_dev d;
	volatile uint8_t *bar;
	size_t bar_size;

	kgroup_open(&k, kbdf);
	/* ours, while the kernel's device is open and live */
	ASSERT_OK(vcn_dev_open(&d, ours));
	bar = vcn_bar_mmap(&d, VFIO_PCI_BAR0_REGION_INDEX, &bar_size);
	ASSERT_TRUE(bar != NULL);
	expect_edu_alive(bar, "vfio-cdev-noiommu");
	ASSERT_OK(vcn_enable_bus_master(&d));
	ASSERT_OK(vcn_dma_alloc(&d, 4096, 0, &a));
	ASSERT_OK(vcn_dma_alloc(&d, 4096, 0, &b));
	dma_round_trip(bar, a.va, a.pa, b.va, b.pa, "ours beside the kernel's");
	/* and the kernel's still answers */
	expect_edu_alive(k.bar, "the kernel's vfio-pci, after our DMA");
	vcn_dma_free(&d, &a);
	vcn_dma_free(&d, &b);
	munmap((void *)bar, bar_size);
	vcn_dev_close(&d);
	kgroup_close(&k);
}

/* a program must not mix them up: each side rejects the other's files */
TEST(group_files_do_not_cross)
{
	const char *ours = vcn_env_bdf("VCN_EDU_BDF");
	struct iommu_ioas_noiommu_get_pa g = { .size = sizeof(g) };
	int kctx, dev;

	ASSERT_TRUE((kctx = open(KERNEL_IOMMUFD, O_RDWR)) >= 0);
	ASSERT_TRUE((dev = open(vcn_dev_node(ours), O_RDWR)) >= 0);
	/* our device bound to the kernel's iommufd: not a context of ours */
	EXPECT_ERRNO(EBADFD, vcn_bind(dev, kctx, NULL));
	/* the kernel's iommufd has no GET_PA: it is not the node to open */
	EXPECT_ERRNO(ENOTTY, ioctl(kctx, IOMMU_IOAS_NOIOMMU_GET_PA, &g));
	close(dev);
	close(kctx);
}

/* ---------------- the kernel's cdev and iommufd, through the IOMMU ---------------- */

TEST(cdev_iommufd_dma_through_the_iommu)
{
	const char *kbdf = vcn_env_bdf("VCN_KVFIO_BDF");
	const char *node;
	volatile uint8_t *bar;
	size_t bar_size;
	struct vcn_dev d = { .dev = -1, .ctx = -1 };
	uint64_t iova = DMA_IOVA;
	uint8_t *buf;

	node = vcn_dev_node(kbdf);
	ASSERT_TRUE(node && !strncmp(node, "/dev/vfio/devices/vfio", 22));
	ASSERT_TRUE((d.dev = open(node, O_RDWR)) >= 0);
	ASSERT_TRUE((d.ctx = open(KERNEL_IOMMUFD, O_RDWR)) >= 0);
	ASSERT_OK(vcn_bind(d.dev, d.ctx, &d.devid));
	ASSERT_OK(vcn_ioas_alloc(d.ctx, &d.ioas));
	ASSERT_OK(vcn_attach(d.dev, d.ioas, &d.pt));
	bar = vcn_bar_mmap(&d, VFIO_PCI_BAR0_REGION_INDEX, &bar_size);
	ASSERT_TRUE(bar != NULL);
	expect_edu_alive(bar, "the kernel's vfio-pci cdev");
	ASSERT_OK(vcn_enable_bus_master(&d));
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_TRUE(buf != MAP_FAILED);
	ASSERT_OK(vcn_map(&d, buf, 8192, &iova, 1));
	EXPECT_EQ(iova, DMA_IOVA);
	/* the device sees IOVAs: the IOMMU translates them */
	dma_round_trip(bar, buf, DMA_IOVA, buf + 4096, DMA_IOVA + 4096,
		       "the kernel's vfio-pci through intel-iommu");
	EXPECT_OK(vcn_unmap(&d, DMA_IOVA, 8192));
	munmap(buf, 8192);
	munmap((void *)bar, bar_size);
	vcn_dev_close(&d);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
