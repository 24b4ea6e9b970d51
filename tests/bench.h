/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - the measuring core of the benchmarks (tests/bench.c,
 * tests/peer_bench.c): an operation repeated in timed batches of ~CALIB_NS,
 * ROUNDS rounds of ~ROUND_NS each, interleaved across the set being
 * compared; the best round's time per operation counts.
 */
#ifndef VCN_BENCH_H
#define VCN_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "vcn_dev.h"

#define RING		4096		/* random IOVAs cycled through */
#define ROUND_NS	300000000ULL	/* one round of one measurement */
#define ROUNDS		3

/* one round; a smoke run (make check) shortens it */
static uint64_t round_ns = ROUND_NS;
#define CALIB_NS	(round_ns / 30)	/* one timed batch */

struct bench {
	const char *name;
	/* @n operations; 0, or -1 when one failed (it said why) */
	int (*run)(struct bench *b, unsigned long n);
	/* untimed, before every timed run: put the state it needs in place */
	int (*prep)(struct bench *b);
	struct vcn_dev *d;
	uint32_t ioas;
	const uint64_t *iovas;	/* RING entries, cycled */
	uint64_t iova, len;
	uint8_t *va;
	int fd;
	uint32_t gflags;	/* GET_PA flags, for the error paths */
	int err;		/* the errno an error-path op expects */
	unsigned long batch;	/* operations per timed run */
	unsigned long iters[ROUNDS];
	double ns[ROUNDS];
	double best;		/* ns per operation, best round */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int timed(struct bench *b, unsigned long n, uint64_t *ns)
{
	uint64_t t;

	if (b->prep && b->prep(b))
		return -1;
	t = now_ns();
	if (b->run(b, n))
		return -1;
	*ns = now_ns() - t;
	if (!*ns)
		*ns = 1;
	return 0;
}

/* a batch of ~CALIB_NS: double the count until one takes that long */
static int calibrate(struct bench *b)
{
	unsigned long n = 1;
	uint64_t ns;

	for (;;) {
		if (timed(b, n, &ns))
			return -1;
		if (ns >= CALIB_NS || n >= (1UL << 30))
			break;
		n *= 2;
	}
	b->batch = n;
	return 0;
}

/* one round: batches until ROUND_NS of them have been timed */
static int round_of(struct bench *b, int r)
{
	uint64_t total = 0, ns;
	unsigned long n = 0;

	while (total < round_ns) {
		if (timed(b, b->batch, &ns))
			return -1;
		total += ns;
		n += b->batch;
	}
	b->ns[r] = (double)total / n;
	b->iters[r] = n;
	return 0;
}

/*
 * Measure a set of benchmarks that will be compared with each other:
 * round r of every one runs before round r + 1 of any, so a slow spell of
 * the host (another guest on the same cores) tends to hit them alike.
 */
static int measure(struct bench **set, int k)
{
	int i, r;

	for (i = 0; i < k; i++)
		if (calibrate(set[i]))
			goto fail;
	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < k; i++)
			if (round_of(set[i], r))
				goto fail;
	for (i = 0; i < k; i++) {
		struct bench *b = set[i];

		b->best = b->ns[0];
		for (r = 1; r < ROUNDS; r++)
			if (b->ns[r] < b->best)
				b->best = b->ns[r];
		printf("# %-26s %8.0f ns/op best of (%.0f %.0f %.0f), %lu %lu %lu iterations\n",
		       b->name, b->best, b->ns[0], b->ns[1], b->ns[2],
		       b->iters[0], b->iters[1], b->iters[2]);
	}
	return 0;
fail:
	printf("# %s: measurement failed\n", set[i]->name);
	return -1;
}

#endif /* VCN_BENCH_H */
