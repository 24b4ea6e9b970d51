// SPDX-License-Identifier: GPL-2.0
/*
 * wc_test.c - write-combining BAR mmaps (the write_combine parameter).
 *
 * VCN_WC_BDF: a device with a prefetchable 64-bit memory BAR 2 and RAM
 * behind it (ivshmem-plain); VCN_EDU_BDF: one whose BAR 0 is not
 * prefetchable (edu). Both bound and closed. The memory type is read from
 * the kernel's PAT list (/sys/kernel/debug/x86/pat_memtype_list): the
 * reservation the module's own mapping of a BAR makes there is the type
 * every user page of it gets at fault time.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stddef.h>

#include "harness.h"
#include "vcn_dev.h"
#include "vcn_pci.h"

#define WC_BAR		2
#define PARAM	"/sys/module/vfio_cdev_noiommu/parameters/write_combine"
#define PAT_LIST	"/sys/kernel/debug/x86/pat_memtype_list"

static int set_wc(int on)
{
	int fd = open(PARAM, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, on ? "Y" : "N", 1);
		close(fd);
	}
	return n == 1 ? 0 : -1;
}

/* a BAR's physical range from sysfs resource: 0, or -1 */
static int bar_range(const char *bdf, unsigned int bar, uint64_t *start,
		     uint64_t *end)
{
	char p[128], line[128];
	unsigned int i;
	uint64_t flags;
	int ret = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(p, "r");
	for (i = 0; f && fgets(line, sizeof(line), f); i++) {
		if (i == bar &&
		    sscanf(line, "%" SCNx64 " %" SCNx64 " %" SCNx64, start, end,
			   &flags) == 3 && *end > *start) {
			ret = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return ret;
}

/*
 * The type PAT has reserved for exactly [start, end] (inclusive end, as
 * sysfs gives it), or "none". Lines read "PAT: [mem 0x...-0x...] <type>"
 * (older kernels: "<type> @ 0x...-0x..."); the list's end is exclusive.
 */
static const char *pat_type(uint64_t start, uint64_t end)
{
	static char type[32];
	char line[256];
	FILE *f = fopen(PAT_LIST, "r");
	uint64_t s, e;

	snprintf(type, sizeof(type), "none");
	while (f && fgets(line, sizeof(line), f)) {
		char t[32];

		if (sscanf(line, "PAT: [mem 0x%" SCNx64 "-0x%" SCNx64 "] %31s",
			   &s, &e, t) != 3 &&
		    sscanf(line, "%31s @ 0x%" SCNx64 "-0x%" SCNx64, t, &s, &e) != 3)
			continue;
		if (s == start && e == end + 1) {
			snprintf(type, sizeof(type), "%s", t);
			printf("#   %s", line);	/* the kernel's own line */
		}
	}
	if (f)
		fclose(f);
	printf("#   PAT type of [%#" PRIx64 "-%#" PRIx64 "]: %s\n", start, end, type);
	return type;
}

static const char *bar_pat_type(const char *bdf, unsigned int bar)
{
	uint64_t s = 0, e = 0;

	EXPECT_OK(bar_range(bdf, bar, &s, &e));
	return pat_type(s, e);
}

static volatile uint32_t *map_bar(struct vcn_dev *d, unsigned int bar, size_t len)
{
	struct vfio_region_info ri;
	void *m;

	if (vcn_region_info(d, bar, &ri) || ri.size < len)
		return NULL;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, d->dev, ri.offset);
	return m == MAP_FAILED ? NULL : m;
}

/*
 * Data written through the mapping reads back through pread, and data
 * written with pwrite reads back through the mapping: the two kernel and
 * user views of one BAR agree. ivshmem's BAR 2 is plain RAM on the host.
 */
static void check_data(struct vcn_dev *d, volatile uint32_t *p, uint32_t seed)
{
	uint32_t buf[256], i, bad = 0;

	for (i = 0; i < 256; i++)
		p[i] = seed ^ (i * 0x9e3779b9u);
	__sync_synchronize();	/* flushes write-combining buffers too */
	ASSERT_OK(vcn_region_rw(d, WC_BAR, 0, 0, buf, sizeof(buf)));
	for (i = 0; i < 256; i++)
		bad += buf[i] != (seed ^ (i * 0x9e3779b9u));
	EXPECT_EQ(bad, 0);
	for (i = 0; i < 256; i++)
		buf[i] = ~seed + i;
	ASSERT_OK(vcn_region_rw(d, WC_BAR, 1, 4096, buf, sizeof(buf)));
	for (i = 0, bad = 0; i < 256; i++)
		bad += p[1024 + i] != ~seed + i;
	EXPECT_EQ(bad, 0);
}

TEST(wc_off_by_default_every_bar_is_uncached)
{
	const char *bdf = vcn_env_bdf("VCN_WC_BDF");
	volatile uint32_t *p;
	struct vcn_dev d;
	char v = 0;
	int fd;

	ASSERT_OK(fd = open(PARAM, O_RDONLY));
	EXPECT_EQ(read(fd, &v, 1), 1);
	EXPECT_EQ(v, 'N');
	close(fd);
	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&d));
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, 2 * VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "uncached-minus"));
	check_data(&d, p, 0x11111111);
	munmap((void *)p, 2 * VCN_PAGE_SIZE);
	vcn_dev_close(&d);
	/* closed: nothing of ours is left reserved */
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "none"));
}

TEST(wc_on_prefetchable_bar_only)
{
	const char *bdf = vcn_env_bdf("VCN_WC_BDF"), *edu = vcn_env_bdf("VCN_EDU_BDF");
	volatile uint32_t *p, *e;
	struct vcn_dev d, ed;
	uint32_t v;

	ASSERT_OK(set_wc(1));
	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&d));
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, 2 * VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "write-combining"));
	check_data(&d, p, 0x22222222);
	/* a non-prefetchable BAR stays uncached whatever the parameter says */
	ASSERT_OK(vcn_dev_open(&ed, edu));
	ASSERT_OK(vcn_enable_bus_master(&ed));
	ASSERT_TRUE(e = map_bar(&ed, 0, VCN_PAGE_SIZE));
	EXPECT_EQ(e[0], 0x010000ed);
	EXPECT_TRUE(!strcmp(bar_pat_type(edu, 0), "uncached-minus"));
	munmap((void *)e, VCN_PAGE_SIZE);
	munmap((void *)p, 2 * VCN_PAGE_SIZE);
	vcn_dev_close(&ed);
	vcn_dev_close(&d);
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "none"));
	/* a pread before any mmap claims the BAR with the type of the moment */
	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&d));
	EXPECT_OK(vcn_region_rw(&d, WC_BAR, 0, 0, &v, 4));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "write-combining"));
	vcn_dev_close(&d);
	ASSERT_OK(set_wc(0));
}

/*
 * The parameter applies to mappings made after the change, but a BAR that
 * is mapped keeps its type: one physical range never gets two.
 */
TEST(wc_runtime_change_applies_to_the_next_mapping)
{
	const char *bdf = vcn_env_bdf("VCN_WC_BDF");
	volatile uint32_t *p, *q;
	struct vcn_dev d;

	ASSERT_OK(set_wc(0));
	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&d));
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "uncached-minus"));
	ASSERT_OK(set_wc(1));
	/* a second mapping while the first lives: still uncached */
	ASSERT_TRUE(q = map_bar(&d, WC_BAR, 2 * VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "uncached-minus"));
	check_data(&d, q, 0x33333333);
	EXPECT_EQ(p[0], q[0]);
	munmap((void *)p, VCN_PAGE_SIZE);
	/* q still maps it */
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "uncached-minus"));
	munmap((void *)p, VCN_PAGE_SIZE);
	munmap((void *)q, 2 * VCN_PAGE_SIZE);
	/* nothing maps it now: the next mapping takes the new type */
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, 2 * VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "write-combining"));
	check_data(&d, p, 0x44444444);
	munmap((void *)p, 2 * VCN_PAGE_SIZE);
	ASSERT_OK(set_wc(0));
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, 2 * VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "uncached-minus"));
	check_data(&d, p, 0x55555555);
	munmap((void *)p, 2 * VCN_PAGE_SIZE);
	vcn_dev_close(&d);
}

/* revocation works as for an uncached mapping: decode off, SIGBUS; on, back */
TEST(wc_mapping_is_revoked_with_memory_decode)
{
	const char *bdf = vcn_env_bdf("VCN_WC_BDF");
	volatile uint32_t *p;
	struct vcn_dev d;
	uint16_t cmd, off;
	uint32_t v;

	ASSERT_OK(set_wc(1));
	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&d));
	ASSERT_TRUE(p = map_bar(&d, WC_BAR, VCN_PAGE_SIZE));
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "write-combining"));
	p[3] = 0xabcd1234;
	__sync_synchronize();
	ASSERT_OK(vcn_cfg_read(&d, 4, &cmd, 2));
	off = cmd & ~PCI_COMMAND_MEMORY;
	ASSERT_OK(vcn_cfg_write(&d, 4, &off, 2));
	EXPECT_TRUE(vcn_read_faults(&p[3], &v));	/* SIGBUS */
	EXPECT_ERRNO(EIO, vcn_region_rw(&d, WC_BAR, 0, 12, &v, 4));
	ASSERT_OK(vcn_cfg_write(&d, 4, &cmd, 2));
	v = 0;
	EXPECT_TRUE(!vcn_read_faults(&p[3], &v));	/* faults back in */
	EXPECT_EQ(v, 0xabcd1234);
	EXPECT_TRUE(!strcmp(bar_pat_type(bdf, WC_BAR), "write-combining"));
	munmap((void *)p, VCN_PAGE_SIZE);
	vcn_dev_close(&d);
	ASSERT_OK(set_wc(0));
}

int main(int argc, char **argv)
{
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
