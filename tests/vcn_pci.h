/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcn_pci.h - PCI helpers the device tests share beyond the uAPI: the
 * device's own config space through sysfs (what the hardware holds, next
 * to what the config region shows), a capability walk through the config
 * region, SIGBUS-safe reads of a mapped BAR, and an NVMe controller enable
 * that does no DMA.
 */
#ifndef VCN_PCI_H
#define VCN_PCI_H

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "vcn_dev.h"

/* the device's own config space, through sysfs (root): 0, or -1 */
static inline int vcn_sysfs_cfg(const char *bdf, unsigned int off, void *buf,
				size_t len, int write)
{
	char p[128];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(p, write ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return -1;
	n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* the config offset of capability @id, 0 if the device has none */
static inline uint8_t vcn_find_cap(struct vcn_dev *d, uint8_t id)
{
	uint8_t cap = 0, cid;
	int hops = 48;		/* a looping list must not hang the test */

	if (vcn_cfg_read(d, 0x34, &cap, 1))
		return 0;
	while (cap && hops--) {
		if (vcn_cfg_read(d, cap, &cid, 1))
			return 0;
		if (cid == id)
			return cap;
		if (vcn_cfg_read(d, cap + 1, &cap, 1))
			return 0;
	}
	return 0;
}

static sigjmp_buf vcn_bus_jmp;

static inline void vcn_on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(vcn_bus_jmp, 1);
}

/* 1 if reading *p raised SIGBUS, 0 with *val read */
static inline int vcn_read_faults(volatile uint32_t *p, uint32_t *val)
{
	struct sigaction sa = { .sa_handler = vcn_on_sigbus }, old;
	int faulted = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(vcn_bus_jmp, 1))
		faulted = 1;
	else
		*val = *p;
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/*
 * Enable the NVMe controller with admin queues at dummy addresses (no
 * command is ever submitted, so no DMA happens); 1 once CSTS.RDY is set.
 */
static inline int vcn_nvme_enable(volatile uint32_t *bar)
{
	int i;

	bar[0x24 / 4] = 0x003f003f;		/* AQA: 64-entry queues */
	bar[0x28 / 4] = 0x1000;			/* ASQ */
	bar[0x2c / 4] = 0;
	bar[0x30 / 4] = 0x2000;			/* ACQ */
	bar[0x34 / 4] = 0;
	bar[0x14 / 4] = (4 << 20) | (6 << 16) | 1;	/* CC: IOCQES, IOSQES, EN */
	for (i = 0; i < 2000 && !(bar[0x1c / 4] & 1); i++)
		vcn_sleep_us(1000);
	return bar[0x1c / 4] & 1;
}

#endif /* VCN_PCI_H */
