/* SPDX-License-Identifier: GPL-2.0 */
/*
 * edu.h - QEMU's edu device (1234:11e8) as the test programs drive it: its
 * registers and one DMA, on a mapped BAR 0. The device-side bounds are
 * edu's traps (see rig notes): its DMA buffer is 4 KiB at device address
 * 0x40000, and QEMU 7.2 aborts on any DMA touching its last byte.
 */
#ifndef VCN_EDU_H
#define VCN_EDU_H

#include <stdint.h>
#include <stdio.h>

#include "vcn_dev.h"

#define EDU_ID			0x00
#define EDU_ID_VALUE		0x010000edu
#define EDU_LIVENESS		0x04	/* reads back ~(last write) */
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60	/* ORs the value into IRQ_STATUS */
#define EDU_IRQ_ACK		0x64	/* clears those bits */
#define EDU_DMA_SRC		0x80	/* 64-bit registers from here on */
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_CMD_START		0x1	/* reads 1 while the DMA runs */
#define EDU_CMD_TO_RAM		0x2	/* 0: RAM -> device, 1: device -> RAM */
#define EDU_CMD_IRQ		0x4	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100

#define EDU_BUF			0x40000ULL
#define EDU_BUF_END		0x40fffULL	/* first byte a DMA must not touch */
#define EDU_CHUNK		2048U

#define EDU_DMA_TIMEOUT_MS	5000	/* a DMA takes ~100 ms of guest time */

static inline int edu_wait_idle(volatile uint8_t *bar)
{
	uint64_t end = vcn_now_ms() + EDU_DMA_TIMEOUT_MS;

	while (vcn_rd64(bar, EDU_DMA_CMD) & EDU_CMD_START) {
		if (vcn_now_ms() > end) {
			fprintf(stderr, "edu: DMA still running after %d ms (cmd %#llx)\n",
				EDU_DMA_TIMEOUT_MS,
				(unsigned long long)vcn_rd64(bar, EDU_DMA_CMD));
			return -1;
		}
		vcn_sleep_us(1000);
	}
	vcn_mb();
	return 0;
}

/*
 * Program one DMA. The device side of the transfer must stay inside
 * 0x40000..0x40ffe (QEMU 7.2 aborts otherwise), checked here so a bug in
 * a test cannot take the whole guest down. Without EDU_CMD_IRQ it also
 * waits for completion; with it the caller waits for the interrupt.
 */
static inline int edu_dma(volatile uint8_t *bar, uint64_t src, uint64_t dst,
			  uint32_t cnt, uint32_t cmd)
{
	uint64_t dev = (cmd & EDU_CMD_TO_RAM) ? src : dst;

	if (!cnt || cnt > EDU_CHUNK || dev < EDU_BUF || dev + cnt > EDU_BUF_END) {
		fprintf(stderr, "edu: refusing DMA of %u bytes at device %#llx\n",
			cnt, (unsigned long long)dev);
		return -1;
	}
	if (edu_wait_idle(bar))
		return -1;
	vcn_mb();	/* the source bytes are in memory before the device reads */
	vcn_wr64(bar, EDU_DMA_SRC, src);
	vcn_wr64(bar, EDU_DMA_DST, dst);
	vcn_wr64(bar, EDU_DMA_CNT, cnt);
	vcn_wr64(bar, EDU_DMA_CMD, cmd | EDU_CMD_START);
	if (cmd & EDU_CMD_IRQ)
		return 0;
	return edu_wait_idle(bar);
}

#endif /* VCN_EDU_H */
