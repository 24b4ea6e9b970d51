// SPDX-License-Identifier: GPL-2.0
/*
 * irq_test.c - interrupts raised by real device events, not by loopback:
 *
 *  - a legacy INTx line shared by two edus, both bound and both using INTx
 *    (the IRQF_SHARED path, masked through PCI 2.3 INTx-disable): each
 *    interrupt reaches the eventfd of the device that raised it and no
 *    other, while the neighbour is masked, busy, idle or unbound;
 *  - an uncorrectable non-fatal AER error injected through aer_inject into
 *    a PCIe endpoint behind a root port: the AER core calls our
 *    error_detected, which signals the ERR eventfd; the device keeps
 *    working; with no ERR eventfd the error is harmless.
 *
 * Devices (env): VCN_EDU_BDF and VCN_EDU3_BDF, two edus on one INTx line
 * (the rig pins their slots so that they share it); VCN_AER_BDF, a PCIe
 * device with an AER capability below a root port whose AER service runs,
 * with /dev/aer_inject present (the suite loads aer_inject.ko). All bound
 * to vfio-cdev-noiommu. The suite runs "intx_*" alone on kernels without
 * AER injection and says it skipped the rest.
 */
#define _GNU_SOURCE
#include <sys/klog.h>

#include "harness.h"
#include "vcn_dev.h"
#include "vcn_pci.h"

#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60	/* ORs the value into IRQ_STATUS */
#define EDU_IRQ_ACK		0x64	/* clears those bits */
#define IRQ_TIMEOUT_MS		3000
#define QUIET_MS		300	/* long enough for a stray one to show */

#define PCI_ERR_UNC_COMP_ABORT	0x00008000	/* non-fatal by default */

/* the kernel's idea of the device's legacy interrupt: sysfs "irq" */
static int sysfs_irq(const char *bdf)
{
	char p[128];
	int irq = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/irq", bdf);
	f = fopen(p, "r");
	if (f) {
		if (fscanf(f, "%d", &irq) != 1)
			irq = -1;
		fclose(f);
	}
	return irq;
}

/* the /proc/interrupts line of @irq names @what */
static int irq_line_has(int irq, const char *what)
{
	char line[1024], tag[16];
	int found = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	snprintf(tag, sizeof(tag), "%d:", irq);
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " ");

		if (!strncmp(p, tag, strlen(tag)))
			found = !!strstr(p, what);
	}
	if (f)
		fclose(f);
	return found;
}

/* ---------------- INTx on a shared line ---------------- */

/*
 * The legacy interrupt both devices got. pdev->irq is the firmware's guess
 * until pci_enable_device() routes the pin through ACPI (here: ISA IRQ 10
 * at boot, GSI 21 once enabled), so each is opened once to read the line
 * it really uses. The rig must make them share: a test of sharing on two
 * lines is void, so a mismatch fails, never skips.
 */
static int shared_irq(const char *a_bdf, const char *b_bdf)
{
	struct vcn_dev a, b;
	int irq;

	ASSERT_OK(vcn_dev_open(&a, a_bdf));
	ASSERT_OK(vcn_dev_open(&b, b_bdf));
	irq = sysfs_irq(a_bdf);
	ASSERT_TRUE(irq > 0);
	ASSERT_EQ(irq, sysfs_irq(b_bdf));
	vcn_dev_close(&a);
	vcn_dev_close(&b);
	return irq;
}

struct edu {
	struct vcn_dev d;
	volatile uint8_t *bar;
	int efd;
	const char *bdf;
};

static void edu_open_intx(struct edu *e, const char *bdf)
{
	char name[96];
	size_t sz;

	e->bdf = bdf;
	ASSERT_OK(vcn_dev_open(&e->d, bdf));
	ASSERT_OK(vcn_enable_bus_master(&e->d));	/* memory decode */
	e->bar = vcn_bar_mmap(&e->d, 0, &sz);
	ASSERT_TRUE(e->bar);
	ASSERT_OK(e->efd = vcn_eventfd());
	ASSERT_OK(vcn_intx_enable(&e->d, e->efd));
	snprintf(name, sizeof(name), "vfio-intx(%s)", bdf);
	EXPECT_TRUE(irq_line_has(sysfs_irq(bdf), name));
}

static void edu_raise(struct edu *e, uint32_t bits)
{
	vcn_wr32(e->bar, EDU_IRQ_RAISE, bits);
}

/* the interrupt came to this device's eventfd; ack it at the device */
static void expect_fired(struct edu *e, uint32_t bits)
{
	char what[96];

	snprintf(what, sizeof(what), "INTx of %s", e->bdf);
	EXPECT_TRUE(vcn_eventfd_wait(e->efd, IRQ_TIMEOUT_MS, what) > 0);
	EXPECT_EQ(vcn_rd32(e->bar, EDU_IRQ_STATUS), bits);
	vcn_wr32(e->bar, EDU_IRQ_ACK, bits);
	EXPECT_EQ(vcn_rd32(e->bar, EDU_IRQ_STATUS), 0);
}

static void expect_quiet(struct edu *e)
{
	EXPECT_EQ(vcn_eventfd_poll(e->efd, QUIET_MS), 0);
}

/* silenced at the device: let the next one through */
static void unmask(struct edu *e)
{
	EXPECT_OK(vcn_intx_unmask(&e->d));
	expect_quiet(e);
}

TEST(intx_shared_line_each_device_gets_its_own)
{
	const char *a_bdf = vcn_env_bdf("VCN_EDU_BDF"), *b_bdf = vcn_env_bdf("VCN_EDU3_BDF");
	struct edu a, b;

	int irq = shared_irq(a_bdf, b_bdf);

	edu_open_intx(&a, a_bdf);
	edu_open_intx(&b, b_bdf);
	EXPECT_EQ(sysfs_irq(a_bdf), irq);
	expect_quiet(&a);
	expect_quiet(&b);

	/* A alone: A's eventfd, not B's */
	edu_raise(&a, 0x1);
	expect_fired(&a, 0x1);
	expect_quiet(&b);
	unmask(&a);

	/* B alone: B's eventfd, not A's */
	edu_raise(&b, 0x2);
	expect_fired(&b, 0x2);
	expect_quiet(&a);
	unmask(&b);

	/* both at once: one each */
	edu_raise(&a, 0x4);
	edu_raise(&b, 0x8);
	expect_fired(&a, 0x4);
	expect_fired(&b, 0x8);
	unmask(&a);
	unmask(&b);

	/*
	 * A automasked (fired, not yet unmasked) is masked at the device, not
	 * at the line: B's interrupts still come through, and A's pending one
	 * is delivered at its UNMASK.
	 */
	edu_raise(&a, 0x10);
	EXPECT_TRUE(vcn_eventfd_wait(a.efd, IRQ_TIMEOUT_MS, "INTx of A") > 0);
	edu_raise(&b, 0x20);
	expect_fired(&b, 0x20);
	unmask(&b);
	edu_raise(&a, 0x40);		/* A still masked: nothing new */
	expect_quiet(&a);
	vcn_wr32(a.bar, EDU_IRQ_ACK, 0x10);	/* 0x40 still asserted */
	EXPECT_OK(vcn_intx_unmask(&a.d));
	expect_fired(&a, 0x40);
	unmask(&a);
	expect_quiet(&b);

	EXPECT_OK(vcn_irq_disable(&a.d, VFIO_PCI_INTX_IRQ_INDEX));
	EXPECT_OK(vcn_irq_disable(&b.d, VFIO_PCI_INTX_IRQ_INDEX));
	EXPECT_TRUE(!irq_line_has(irq, "vfio-intx"));
}

/* @file: relative to the device's sysfs directory, or an absolute path */
static int pci_sysfs_write(const char *bdf, const char *file, const char *val)
{
	char p[128];

	if (file[0] == '/')
		snprintf(p, sizeof(p), "%s", file);
	else
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/%s", bdf, file);
	if (vcn_sysfs_write(p, val))
		return vcn_fail("write %s to %s", val, p);
	return 0;
}

/* three rounds of raise, deliver, ack, unmask on A */
static void expect_a_works(struct edu *a)
{
	uint32_t bit;

	for (bit = 0x100; bit <= 0x400; bit <<= 1) {
		edu_raise(a, bit);
		expect_fired(a, bit);
		unmask(a);
	}
}

/*
 * A's INTx on the shared line while its neighbour is bound but closed
 * (nobody requested its interrupt), then not bound to any driver.
 */
TEST(intx_shared_line_with_an_idle_or_unbound_neighbour)
{
	const char *a_bdf = vcn_env_bdf("VCN_EDU_BDF"), *b_bdf = vcn_env_bdf("VCN_EDU3_BDF");
	struct edu a;

	int irq = shared_irq(a_bdf, b_bdf);

	ASSERT_TRUE(!strcmp(vcn_driver_of(b_bdf), "vfio-cdev-noiommu"));
	edu_open_intx(&a, a_bdf);
	EXPECT_TRUE(!irq_line_has(irq, b_bdf));
	expect_a_works(&a);

	ASSERT_OK(pci_sysfs_write(b_bdf, "driver/unbind", b_bdf));
	EXPECT_TRUE(!strcmp(vcn_driver_of(b_bdf), "none"));
	expect_a_works(&a);
	EXPECT_OK(vcn_irq_disable(&a.d, VFIO_PCI_INTX_IRQ_INDEX));
	/* B back on our driver for whoever comes next */
	EXPECT_OK(pci_sysfs_write(b_bdf, "/sys/bus/pci/drivers_probe", b_bdf));
	EXPECT_TRUE(!strcmp(vcn_driver_of(b_bdf), "vfio-cdev-noiommu"));
}

/* the interrupts /proc/interrupts counts on @irq, summed over the CPUs */
static unsigned long irq_count(int irq)
{
	char line[1024], tag[16];
	unsigned long sum = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	snprintf(tag, sizeof(tag), "%d:", irq);
	while (f && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " "), *end;

		if (strncmp(p, tag, strlen(tag)))
			continue;
		p += strlen(tag);
		for (;;) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
	}
	if (f)
		fclose(f);
	return sum;
}

/* the device's own command or status register, through sysfs */
static uint16_t hw_cfg16(const char *bdf, unsigned int off)
{
	uint16_t v;

	return vcn_sysfs_cfg(bdf, off, &v, 2, 0) ? 0xffff : v;
}

/*
 * A polling driver that never asks for INTx silences its device with the
 * INTx-disable bit: with INTx not in use the bit must reach the device, or
 * an assertion on the shared line goes to the neighbour's handler, which
 * does not claim it, over and over until the kernel disables the line for
 * both ("nobody cared").
 */
TEST(intx_disable_reaches_the_device_when_intx_is_unused)
{
	const char *a_bdf = vcn_env_bdf("VCN_EDU_BDF"), *b_bdf = vcn_env_bdf("VCN_EDU3_BDF");
	unsigned long before;
	struct vcn_dev a;
	struct edu b;
	uint16_t cmd;
	size_t sz;
	volatile uint8_t *abar;

	int irq = shared_irq(a_bdf, b_bdf);

	edu_open_intx(&b, b_bdf);
	ASSERT_OK(vcn_dev_open(&a, a_bdf));	/* A: no SET_IRQS at all */
	ASSERT_OK(vcn_enable_bus_master(&a));
	abar = vcn_bar_mmap(&a, 0, &sz);
	ASSERT_TRUE(abar);
	ASSERT_OK(vcn_cfg_read(&a, PCI_COMMAND, &cmd, 2));
	cmd |= 0x400;
	ASSERT_OK(vcn_cfg_write(&a, PCI_COMMAND, &cmd, 2));
	EXPECT_TRUE(hw_cfg16(a_bdf, PCI_COMMAND) & 0x400);	/* on the device */

	before = irq_count(irq);
	vcn_wr32(abar, EDU_IRQ_RAISE, 0x1);
	vcn_sleep_us(QUIET_MS * 1000);
	EXPECT_TRUE(hw_cfg16(a_bdf, 0x06) & 0x08);	/* A wants to interrupt */
	EXPECT_EQ(irq_count(irq) - before, 0);		/* but the line is quiet */
	expect_quiet(&b);
	vcn_wr32(abar, EDU_IRQ_ACK, 0x1);

	/* cleared again, with nothing pending: back on the device too */
	cmd &= ~0x400;
	ASSERT_OK(vcn_cfg_write(&a, PCI_COMMAND, &cmd, 2));
	EXPECT_EQ(hw_cfg16(a_bdf, PCI_COMMAND) & 0x400, 0);
	/* the shared line still works for B */
	edu_raise(&b, 0x2);
	expect_fired(&b, 0x2);
	unmask(&b);
	EXPECT_OK(vcn_irq_disable(&b.d, VFIO_PCI_INTX_IRQ_INDEX));
	vcn_dev_close(&a);
}

/* ---------------- AER ---------------- */

/* drivers/pci/pcie/aer_inject.c's write format */
struct aer_error_inj {
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
	uint32_t uncor_status;
	uint32_t cor_status;
	uint32_t header_log0;
	uint32_t header_log1;
	uint32_t header_log2;
	uint32_t header_log3;
	uint32_t domain;
};

static int aer_inject(const char *bdf, uint32_t uncor)
{
	struct aer_error_inj e = { .uncor_status = uncor };
	unsigned int dom, bus, dev, fn;
	int fd, r;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
		errno = EINVAL;
		return vcn_fail("bad BDF %s", bdf);
	}
	e.domain = dom;
	e.bus = bus;
	e.dev = dev;
	e.fn = fn;
	fd = open("/dev/aer_inject", O_WRONLY);
	if (fd < 0)
		return vcn_fail("open /dev/aer_inject");
	r = write(fd, &e, sizeof(e)) == sizeof(e) ? 0 : -1;
	if (r)
		vcn_fail("write /dev/aer_inject for %s", bdf);
	close(fd);
	return r;
}

/* lines of the kernel log holding both @a and @b */
static int klog_count(const char *a, const char *b)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), n = 0;
	char *buf, *line, *save;

	if (len <= 0)
		return -1;
	buf = calloc(1, len + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	for (line = strtok_r(len > 0 ? buf : NULL, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		n += strstr(line, a) && strstr(line, b);
	free(buf);
	return n;
}

#define RECOVERED	"AER: device recovery successful"

/* recovery is logged after error_detected ran: wait for the n-th line */
static int wait_recovered(int n)
{
	int i;

	for (i = 0; i < 100 && klog_count(RECOVERED, "") < n; i++)
		vcn_sleep_us(50000);
	return klog_count(RECOVERED, "");
}

static void aer_log_counts(const char *bdf, int c[3])
{
	/* "Uncorrected" until 6.x, then "Uncorrectable" */
	c[0] = klog_count(bdf, "PCIe Bus Error: severity=Uncorrect");
	c[1] = klog_count(bdf, "CmpltAbrt");
	c[2] = klog_count(RECOVERED, "");
}

/* after an error: config space and the BARs' region info still answer */
static void expect_device_usable(struct vcn_dev *d, uint32_t id)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t v = 0;

	EXPECT_OK(vcn_cfg_read(d, 0, &v, 4));
	EXPECT_EQ(v, id);
	EXPECT_OK(ioctl(d->dev, VFIO_DEVICE_GET_INFO, &info));
}

TEST(aer_error_signals_the_err_eventfd)
{
	const char *bdf = vcn_env_bdf("VCN_AER_BDF");
	int before[3], after[3], efd, m1 = -1, i;
	struct vfio_irq_info ii;
	struct vcn_dev d;
	uint32_t id;

	ASSERT_OK(vcn_dev_open(&d, bdf));
	ASSERT_OK(vcn_cfg_read(&d, 0, &id, 4));
	ASSERT_OK(vcn_irq_info(&d, VFIO_PCI_ERR_IRQ_INDEX, &ii));
	ASSERT_EQ(ii.count, 1);
	ASSERT_OK(efd = vcn_eventfd());
	ASSERT_OK(vcn_irq_set_eventfds(&d, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &efd));
	EXPECT_EQ(vcn_eventfd_poll(efd, 100), 0);

	aer_log_counts(bdf, before);
	ASSERT_OK(aer_inject(bdf, PCI_ERR_UNC_COMP_ABORT));
	EXPECT_EQ(vcn_eventfd_wait(efd, 5000, "ERR eventfd after an AER error"), 1);
	/* the AER core logged it for this device, and recovered */
	EXPECT_EQ(wait_recovered(before[2] + 1), before[2] + 1);
	aer_log_counts(bdf, after);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(after[i], before[i] + 1);
	expect_device_usable(&d, id);

	/* no ERR eventfd: the same error is logged, handled, harmless */
	ASSERT_OK(vcn_irq_set_eventfds(&d, VFIO_PCI_ERR_IRQ_INDEX, 0, 1, &m1));
	ASSERT_OK(aer_inject(bdf, PCI_ERR_UNC_COMP_ABORT));
	EXPECT_EQ(wait_recovered(after[2] + 1), after[2] + 1);
	aer_log_counts(bdf, before);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(before[i], after[i] + 1);
	EXPECT_EQ(vcn_eventfd_poll(efd, QUIET_MS), 0);
	expect_device_usable(&d, id);

	/* closed (bound, nobody listening): still harmless */
	vcn_dev_close(&d);
	ASSERT_OK(aer_inject(bdf, PCI_ERR_UNC_COMP_ABORT));
	EXPECT_EQ(wait_recovered(before[2] + 1), before[2] + 1);
	EXPECT_EQ(klog_count(bdf, "CmpltAbrt"), before[1] + 1);
	EXPECT_TRUE(!strcmp(vcn_driver_of(bdf), "vfio-cdev-noiommu"));
	ASSERT_OK(vcn_dev_open(&d, bdf));
	expect_device_usable(&d, id);
}

int main(int argc, char **argv)
{
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
