/* SPDX-License-Identifier: GPL-2.0 */
/*
 * barmap_split.h - which pages of a write-combining BAR stay uncached.
 *
 * Pure arithmetic, no kernel headers: besides the module, the host test
 * tests/barmap_split_test.c runs it over layouts no QEMU device has (an
 * MSI-X table or PBA inside a prefetchable BAR). The includer defines u64.
 */
#ifndef VCN_BARMAP_SPLIT_H
#define VCN_BARMAP_SPLIT_H

/* write-combining, table, write-combining, PBA, write-combining */
#define VCN_BARSEG_MAX	5

struct vcn_barseg {
	u64 start, end;		/* [start, end) of the BAR */
	int wc;			/* 1: write-combining; 0: uncached */
};

/*
 * Cut a BAR of @len bytes into segments: every page (of @page bytes, a
 * power of two) that holds a byte of one of the @nuc (at most 2) ranges
 * @uc_off[i] .. @uc_off[i] + @uc_len[i] is uncached, the rest
 * write-combining. Pages, because a memory type is a property of a page:
 * the MSI-X table and PBA must not share one with write-combined stores.
 * Ranges that are empty or start beyond the BAR are ignored. Returns how
 * many segments @seg now holds, in order, covering the whole BAR.
 */
static inline unsigned int vcn_barseg_split(u64 len, u64 page,
					    const u64 *uc_off, const u64 *uc_len,
					    unsigned int nuc,
					    struct vcn_barseg *seg)
{
	u64 s[2], e[2], pos = 0;
	unsigned int i, n = 0, k = 0;

	for (i = 0; i < nuc && i < 2; i++) {
		u64 end;

		if (!uc_len[i] || uc_off[i] >= len)
			continue;
		end = uc_len[i] > len - uc_off[i] ? len : uc_off[i] + uc_len[i];
		s[n] = uc_off[i] & ~(page - 1);
		e[n] = (end + page - 1) & ~(page - 1);
		if (e[n] > len || e[n] < end)	/* the BAR's last page; wrap */
			e[n] = len;
		n++;
	}
	/* two ranges: in order, and one if their pages touch */
	if (n == 2 && s[1] < s[0]) {
		u64 t = s[0];

		s[0] = s[1];
		s[1] = t;
		t = e[0];
		e[0] = e[1];
		e[1] = t;
	}
	if (n == 2 && s[1] <= e[0]) {
		if (e[1] > e[0])
			e[0] = e[1];
		n = 1;
	}
	for (i = 0; i < n; i++) {
		if (pos < s[i])
			seg[k++] = (struct vcn_barseg){ pos, s[i], 1 };
		seg[k++] = (struct vcn_barseg){ s[i], e[i], 0 };
		pos = e[i];
	}
	if (pos < len)
		seg[k++] = (struct vcn_barseg){ pos, len, 1 };
	return k;
}

#endif /* VCN_BARMAP_SPLIT_H */
