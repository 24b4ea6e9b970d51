// SPDX-License-Identifier: GPL-2.0
/*
 * barmap_split_test.c - host unit test of src/barmap_split.h: which pages of
 * a write-combining BAR stay uncached. No QEMU device puts its MSI-X table
 * or PBA in a prefetchable BAR, so the in-guest test cannot reach this rule;
 * here it runs over such layouts, with the module's own function.
 */
#include <stdint.h>
#include <stdio.h>

#include "harness.h"

typedef uint64_t u64;
#include "../src/barmap_split.h"

#define PG 4096ull

struct layout {
	u64 len, off[2], size[2];
	unsigned int nseg;	/* expected */
	struct vcn_barseg seg[VCN_BARSEG_MAX];
};

static const struct layout layouts[] = {
	/* nothing of MSI-X in the BAR: all write-combining */
	{ 1 << 20, { 0, 0 }, { 0, 0 }, 1, { { 0, 1 << 20, 1 } } },
	/* table and PBA in the first page */
	{ 1 << 20, { 0, 0x800 }, { 0x400, 8 }, 2,
	  { { 0, PG, 0 }, { PG, 1 << 20, 1 } } },
	/* apart: five segments */
	{ 1 << 20, { 0x3000, 0x10000 }, { 0x100, 8 }, 5,
	  { { 0, 0x3000, 1 }, { 0x3000, 0x4000, 0 }, { 0x4000, 0x10000, 1 },
	    { 0x10000, 0x11000, 0 }, { 0x11000, 1 << 20, 1 } } },
	/* PBA below the table */
	{ 1 << 20, { 0x20000, 0x1000 }, { 0x800, 16 }, 5,
	  { { 0, 0x1000, 1 }, { 0x1000, 0x2000, 0 }, { 0x2000, 0x20000, 1 },
	    { 0x20000, 0x21000, 0 }, { 0x21000, 1 << 20, 1 } } },
	/* a table across a page boundary takes both pages */
	{ 1 << 16, { 0xff0, 0 }, { 0x20, 0 }, 2,
	  { { 0, 0x2000, 0 }, { 0x2000, 1 << 16, 1 } } },
	/* pages that touch merge */
	{ 1 << 16, { 0x1000, 0x2000 }, { 0x800, 8 }, 3,
	  { { 0, 0x1000, 1 }, { 0x1000, 0x3000, 0 }, { 0x3000, 1 << 16, 1 } } },
	/* at the very end of the BAR: no write-combining tail */
	{ 1 << 16, { (1 << 16) - 16, 0 }, { 16, 0 }, 2,
	  { { 0, (1 << 16) - PG, 1 }, { (1 << 16) - PG, 1 << 16, 0 } } },
	/* a BAR smaller than a page with the table in it */
	{ 256, { 0, 0x80 }, { 0x40, 8 }, 1, { { 0, 256, 0 } } },
	/* a table claiming more than the BAR holds, and one beyond it */
	{ 1 << 16, { 0xf000, 1 << 20 }, { 1 << 20, 8 }, 2,
	  { { 0, 0xf000, 1 }, { 0xf000, 1 << 16, 0 } } },
};

static int same(const struct vcn_barseg *a, const struct vcn_barseg *b)
{
	return a->start == b->start && a->end == b->end && a->wc == b->wc;
}

TEST(split_matches_each_layout)
{
	unsigned int i, j;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		const struct layout *l = &layouts[i];
		struct vcn_barseg seg[VCN_BARSEG_MAX];
		unsigned int n = vcn_barseg_split(l->len, PG, l->off, l->size, 2, seg);

		EXPECT_EQ(n, l->nseg);
		for (j = 0; j < n && j < l->nseg; j++)
			EXPECT_TRUE(same(&seg[j], &l->seg[j]));
	}
}

/*
 * Over many layouts: the segments tile the BAR, alternate in type, and no
 * byte of the table or PBA lies in a write-combining one, nor any other
 * byte of their pages.
 */
TEST(split_invariants_over_many_layouts)
{
	unsigned int bad = 0, runs = 0;
	u64 t, p, ts, len = 1 << 17;

	for (t = 0; t < len + PG; t += 0x700) {
		for (p = 0; p < len + PG; p += 0x1300) {
			for (ts = 8; ts <= 0x2000; ts *= 4) {
				u64 off[2] = { t, p }, size[2] = { ts, 8 };
				struct vcn_barseg seg[VCN_BARSEG_MAX];
				unsigned int n, k, r;
				u64 pos = 0;

				n = vcn_barseg_split(len, PG, off, size, 2, seg);
				runs++;
				bad += n < 1 || n > VCN_BARSEG_MAX;
				for (k = 0; k < n; k++) {
					bad += seg[k].start != pos ||
					       seg[k].end <= seg[k].start;
					bad += k && seg[k].wc == seg[k - 1].wc;
					for (r = 0; r < 2; r++) {
						u64 lo = off[r] & ~(PG - 1);
						u64 hi = off[r] + size[r];

						if (off[r] >= len || !seg[k].wc)
							continue;
						/* a WC segment must miss [lo, hi) */
						bad += seg[k].start < hi && seg[k].end > lo;
					}
					pos = seg[k].end;
				}
				bad += pos != len;
			}
		}
	}
	printf("#   %u layouts checked\n", runs);
	EXPECT_EQ(bad, 0);
}

int main(int argc, char **argv)
{
	return vcn_run_tests(argc, argv) ? 1 : 0;
}
