// SPDX-License-Identifier: GPL-2.0
/*
 * pages.c - pinning the user memory behind one IOAS_MAP, and remembering
 * where it is physically.
 *
 * Pages are pinned FOLL_LONGTERM (they are migrated out of movable zones
 * first and cannot move while pinned: the device may DMA to them at any
 * time), charged to the mapping user's RLIMIT_MEMLOCK unless it has
 * CAP_IPC_LOCK, and shown in the process's VmPin, as upstream iommufd does.
 *
 * The physical layout of a segment (up to 2^24 pages, 64 GiB; larger
 * mappings have several) is kept in whichever of two forms is smaller:
 *
 * - a run list: maximal runs of consecutive page frames, one u64 per run,
 *   the frame number in the low 40 bits (52-bit physical addresses) and the
 *   run's first page index in the high 24. A run's length is where the next
 *   run starts. 8 bytes per run: 8 bytes for a 2 MiB hugepage. Finding the
 *   run of an offset is a binary search.
 * - flat: the frame of every page as a u32 (only when every frame fits),
 *   plus the list of the segment's long runs (VCN_LONG_RUN pages or more),
 *   one u64 each: first page index in the high 24 bits, end in the low 40.
 *   A frame is one load; the end of its run is a binary search in the long
 *   runs, or, for a page of a short run, a scan of fewer than VCN_LONG_RUN
 *   frames. So a query stays O(log runs) and exact however a fragmented
 *   segment mixes in long runs. 4 bytes per page plus 8 per long run.
 *
 * Pinning builds the run list; a segment whose run list would be bigger
 * than its flat form is then converted. The worst case, a layout where both
 * forms cost the same, is 4 + 4 / VCN_LONG_RUN bytes per 4 KiB page.
 *
 * A table never changes once built, and is freed by its owner only after
 * an RCU grace period (vcn_pages_unpin() and vcn_pages_free() are separate
 * for that), so lookups may run under rcu_read_lock() alone.
 *
 * Locks: none; the owner (io_pagetable.c) publishes and retires tables.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "vcn.h"

#define VCN_PFN_BITS	40
#define VCN_PFN_MASK	((1ULL << VCN_PFN_BITS) - 1)
#define VCN_SEG_SHIFT	(64 - VCN_PFN_BITS)
#define VCN_SEG_PAGES	BIT(VCN_SEG_SHIFT)
#define VCN_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))
/* flat segments: runs this long are listed; a scan covers shorter ones */
#define VCN_LONG_RUN	16

/*
 * The widest physical address the architecture can have: the frame field
 * must hold every frame of it. x86-64 says so at build time (52 bits, with
 * 5-level paging or not); elsewhere assume phys_addr_t is filled, which
 * fails the check below on 64-bit: a port must state its limit here.
 */
#ifdef __PHYSICAL_MASK_SHIFT
#define VCN_MAX_PA_BITS	__PHYSICAL_MASK_SHIFT
#else
#define VCN_MAX_PA_BITS	(8 * sizeof(phys_addr_t))
#endif
static_assert(VCN_MAX_PA_BITS - PAGE_SHIFT <= VCN_PFN_BITS,
	      "a page frame number does not fit the run list's frame field");

static u64 vcn_run_pfn(u64 run)
{
	return run & VCN_PFN_MASK;
}

static unsigned long vcn_run_start(u64 run)
{
	return run >> VCN_PFN_BITS;
}

static unsigned long vcn_seg_npages(struct vcn_pages *p, unsigned int s)
{
	return min_t(unsigned long, p->npages - (unsigned long)s * VCN_SEG_PAGES,
		     VCN_SEG_PAGES);
}

/* pages [run i start, end of run i) given @filled pages of the segment */
static unsigned long vcn_run_end(struct vcn_seg *seg, u32 i, unsigned long filled)
{
	return i + 1 < seg->nruns ? vcn_run_start(seg->runs[i + 1]) : filled;
}

/* a flat segment: unpin each stretch of consecutive frames at once */
static void vcn_flat_unpin(struct vcn_seg *seg, unsigned long n, bool dirty)
{
	unsigned long i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && seg->pfns[j] == seg->pfns[j - 1] + 1; j++)
			;
		vcn_unpin_page_range(pfn_to_page(seg->pfns[i]), j - i, dirty);
		cond_resched();	/* up to 2^24 stretches in one segment */
	}
}

static void vcn_seg_unpin(struct vcn_seg *seg, unsigned long filled, bool dirty)
{
	u32 i;

	if (seg->pfns) {
		vcn_flat_unpin(seg, filled, dirty);
		return;
	}
	for (i = 0; i < seg->nruns; i++) {
		unsigned long start = vcn_run_start(seg->runs[i]);

		vcn_unpin_page_range(pfn_to_page(vcn_run_pfn(seg->runs[i])),
				     vcn_run_end(seg, i, filled) - start, dirty);
		cond_resched();
	}
}

/*
 * Charge RLIMIT_MEMLOCK as iommufd does: the user's locked_vm, unless the
 * caller has CAP_IPC_LOCK. Holding the user needs free_uid(), which v5.10
 * does not export: there the process's locked_vm is charged instead, as
 * vfio's type1 charges it (the same limit, counted per process).
 */
#ifdef VCN_HAVE_EXPORT_FREE_UID
static int vcn_charge(struct vcn_pages *p)
{
	unsigned long limit, cur, new;

	if (capable(CAP_IPC_LOCK))
		return 0;
	p->user = get_current_user();
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&p->user->locked_vm);
	do {
		new = cur + p->npages;
		if (new > limit || new < cur) {
			free_uid(p->user);
			p->user = NULL;
			return -ENOMEM;
		}
	} while (!atomic_long_try_cmpxchg(&p->user->locked_vm, &cur, new));
	return 0;
}

static void vcn_uncharge(struct vcn_pages *p)
{
	if (!p->user)
		return;
	atomic_long_sub(p->npages, &p->user->locked_vm);
	free_uid(p->user);
	p->user = NULL;
}
#else
static int vcn_charge(struct vcn_pages *p)
{
	int ret;

	if (capable(CAP_IPC_LOCK))
		return 0;
	ret = account_locked_vm(current->mm, p->npages, true);
	if (ret)
		return ret;
	p->charged_mm = current->mm;
	mmgrab(p->charged_mm);
	return 0;
}

static void vcn_uncharge(struct vcn_pages *p)
{
	if (!p->charged_mm)
		return;
	account_locked_vm(p->charged_mm, p->npages, false);
	mmdrop(p->charged_mm);
	p->charged_mm = NULL;
}
#endif

/*
 * Run arrays are sized exactly: kmalloc up to a page, vmalloc beyond (where
 * kvmalloc's kmalloc attempt would round up to a power of two, doubling
 * the table in the worst case).
 */
static void *vcn_table_alloc(size_t bytes)
{
	if (bytes <= PAGE_SIZE)
		return kmalloc(bytes, GFP_KERNEL_ACCOUNT);
	return __vmalloc(bytes, GFP_KERNEL_ACCOUNT);
}

static u64 *vcn_runs_alloc(unsigned long n)
{
	return vcn_table_alloc(array_size(n, sizeof(u64)));
}

static void vcn_seg_free(struct vcn_seg *seg)
{
	kvfree(seg->runs);
	kvfree(seg->pfns);
}

/* bytes vcn_table_alloc(@bytes) will occupy */
static size_t vcn_table_size(size_t bytes)
{
	return bytes <= PAGE_SIZE ? vcn_kmalloc_size_roundup(bytes) : PAGE_ALIGN(bytes);
}

/* bytes an allocation of @len really occupies */
static size_t vcn_alloc_bytes(const void *ptr, size_t len)
{
	if (!ptr)
		return 0;
	return is_vmalloc_addr(ptr) ? PAGE_ALIGN(len) : ksize(ptr);
}

/* make room for one more run: double, as the layout is not known ahead */
static int vcn_runs_grow(struct vcn_seg *seg, unsigned long max)
{
	u32 ncap = min_t(unsigned long, max, max_t(u32, seg->cap * 2, 64));
	u64 *runs = vcn_runs_alloc(ncap);

	if (!runs)
		return -ENOMEM;
	if (seg->runs)
		memcpy(runs, seg->runs, seg->nruns * sizeof(u64));
	kvfree(seg->runs);
	seg->runs = runs;
	seg->cap = ncap;
	return 0;
}

/* pages of run @i of a run list segment of @n pages */
static unsigned long vcn_run_len(struct vcn_seg *seg, u32 i, unsigned long n)
{
	return vcn_run_end(seg, i, n) - vcn_run_start(seg->runs[i]);
}

/*
 * Long runs of a run list segment of @n pages, or -1 when a frame does not
 * fit the flat form's u32.
 */
static long vcn_seg_long_runs(struct vcn_seg *seg, unsigned long n)
{
	long nlong = 0;
	u32 i;

	for (i = 0; i < seg->nruns; i++) {
		unsigned long len = vcn_run_len(seg, i, n);

		if (vcn_run_pfn(seg->runs[i]) + len - 1 > U32_MAX)
			return -1;
		if (len >= VCN_LONG_RUN)
			nlong++;
	}
	return nlong;
}

/*
 * Turn a run list segment of @n pages into the flat form when that is
 * smaller. Failing to allocate it only keeps the bigger, valid run list.
 */
static void vcn_seg_flatten(struct vcn_seg *seg, unsigned long n)
{
	long nlong = vcn_seg_long_runs(seg, n);
	unsigned long k, start;
	u64 *longs = NULL;
	u32 *pfns, i, l = 0;

	/* compare what each would occupy, rounded up as allocated */
	if (nlong < 0 || vcn_table_size(n * sizeof(u32)) +
			 (nlong ? vcn_table_size(nlong * sizeof(u64)) : 0) >=
			 vcn_table_size(seg->nruns * sizeof(u64)))
		return;
	pfns = vcn_table_alloc(array_size(n, sizeof(u32)));
	if (nlong)
		longs = vcn_runs_alloc(nlong);
	if (!pfns || (nlong && !longs)) {
		kvfree(pfns);
		kvfree(longs);
		return;
	}
	for (i = 0; i < seg->nruns; i++) {
		unsigned long len = vcn_run_len(seg, i, n);

		start = vcn_run_start(seg->runs[i]);
		for (k = 0; k < len; k++)
			pfns[start + k] = vcn_run_pfn(seg->runs[i]) + k;
		if (len >= VCN_LONG_RUN)
			longs[l++] = ((u64)start << VCN_PFN_BITS) | (start + len);
		if (!(i % 4096))
			cond_resched();	/* up to 2^24 pages in a segment */
	}
	kvfree(seg->runs);
	seg->runs = longs;
	seg->pfns = pfns;
	seg->nruns = nlong;
	seg->cap = nlong;
}

/* pin the pages of segment @s into maximal runs */
static int vcn_seg_pin(struct vcn_pages *p, unsigned int s, unsigned long uaddr,
		       struct page **batch, unsigned long *filled)
{
	unsigned int gup = FOLL_LONGTERM | (p->writable ? FOLL_WRITE : 0);
	unsigned long n = vcn_seg_npages(p, s);
	struct vcn_seg *seg = &p->segs[s];
	u64 last_pfn = 0;
	u64 *runs;
	int ret;

	*filled = 0;
	while (*filled < n) {
		long got, j;

		got = pin_user_pages_fast(uaddr + (*filled << PAGE_SHIFT),
					  min_t(unsigned long, n - *filled, VCN_PIN_BATCH),
					  gup, batch);
		if (got <= 0)
			return got ? got : -EFAULT;
		for (j = 0; j < got; j++) {
			u64 pfn = page_to_pfn(batch[j]);
			bool extends = seg->nruns && pfn == last_pfn + 1;

			last_pfn = pfn;
			if (extends)
				continue;
			if (seg->nruns == seg->cap) {
				ret = vcn_runs_grow(seg, n);
				if (ret) {	/* unpin this batch's rest too */
					unpin_user_pages(batch + j, got - j);
					*filled += j;
					return ret;
				}
			}
			seg->runs[seg->nruns++] =
				((u64)(*filled + j) << VCN_PFN_BITS) | pfn;
		}
		*filled += got;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	if (seg->nruns < seg->cap) {
		runs = vcn_runs_alloc(seg->nruns);
		if (runs) {	/* keeping the bigger one is only wasteful */
			memcpy(runs, seg->runs, seg->nruns * sizeof(u64));
			kvfree(seg->runs);
			seg->runs = runs;
			seg->cap = seg->nruns;
		}
	}
	vcn_seg_flatten(seg, n);
	return 0;
}

struct vcn_pages *vcn_pages_pin(unsigned long uaddr, unsigned long npages,
				bool writable)
{
	unsigned int nsegs, s;
	unsigned long filled = 0;
	struct page **batch;
	struct vcn_pages *p;
	int ret;

	/*
	 * Nothing beyond the user address space can be pinned: say so before
	 * sizing anything by @npages (a length near 2^64 must not reach an
	 * allocator).
	 */
	if (uaddr >= TASK_SIZE || npages > (TASK_SIZE - uaddr) >> PAGE_SHIFT)
		return ERR_PTR(-EFAULT);
	nsegs = DIV_ROUND_UP(npages, VCN_SEG_PAGES);
	p = kvzalloc(struct_size(p, segs, nsegs), GFP_KERNEL_ACCOUNT);
	batch = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!p || !batch) {
		ret = -ENOMEM;
		goto err_free;
	}
	p->npages = npages;
	p->nsegs = nsegs;
	p->writable = writable;
	ret = vcn_charge(p);
	if (ret)
		goto err_free;

	for (s = 0; s < nsegs; s++) {
		ret = vcn_seg_pin(p, s, uaddr + ((unsigned long)s * VCN_SEG_PAGES << PAGE_SHIFT),
				  batch, &filled);
		if (ret)
			goto err_unpin;
	}
	kfree(batch);
	p->mm = current->mm;
	mmgrab(p->mm);
	atomic64_add(npages, &p->mm->pinned_vm);
	vcn_stats_pinned(p, true);
	return p;

err_unpin:
	vcn_seg_unpin(&p->segs[s], filled, false);
	vcn_seg_free(&p->segs[s]);
	while (s--) {
		vcn_seg_unpin(&p->segs[s], vcn_seg_npages(p, s), false);
		vcn_seg_free(&p->segs[s]);
	}
	vcn_uncharge(p);
err_free:
	kfree(batch);
	kvfree(p);
	return ERR_PTR(ret);
}

/* Unpin and uncharge; the table stays readable until vcn_pages_free(). */
void vcn_pages_unpin(struct vcn_pages *p)
{
	unsigned int s;

	vcn_stats_pinned(p, false);
	for (s = 0; s < p->nsegs; s++)
		vcn_seg_unpin(&p->segs[s], vcn_seg_npages(p, s), p->writable);
	atomic64_sub(p->npages, &p->mm->pinned_vm);
	mmdrop(p->mm);
	vcn_uncharge(p);
}

/* Free the table of unpinned pages; may run in an RCU callback. */
void vcn_pages_free(struct vcn_pages *p)
{
	unsigned int s;

	for (s = 0; s < p->nsegs; s++)
		vcn_seg_free(&p->segs[s]);
	kvfree(p);
}

/* bytes the table of @p occupies, as allocated */
size_t vcn_pages_table_bytes(struct vcn_pages *p)
{
	size_t bytes = vcn_alloc_bytes(p, struct_size(p, segs, p->nsegs));
	unsigned int s;

	for (s = 0; s < p->nsegs; s++) {
		struct vcn_seg *seg = &p->segs[s];

		bytes += vcn_alloc_bytes(seg->runs, seg->cap * sizeof(u64));
		if (seg->pfns)
			bytes += vcn_alloc_bytes(seg->pfns, vcn_seg_npages(p, s) *
						 sizeof(u32));
	}
	return bytes;
}

/* the run of segment @seg holding page @idx: binary search */
static u32 vcn_seg_find(struct vcn_seg *seg, unsigned long idx)
{
	u32 lo = 0, hi = seg->nruns - 1;

	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;

		if (vcn_run_start(seg->runs[mid]) <= idx)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* a flat segment of @n pages: the end of the short run holding @idx */
static unsigned long vcn_flat_scan(struct vcn_seg *seg, unsigned long idx,
				   unsigned long n)
{
	unsigned long j;

	/* fewer than VCN_LONG_RUN steps: longer runs are listed */
	for (j = idx + 1; j < n && seg->pfns[j] == seg->pfns[j - 1] + 1; j++)
		;
	return j;
}

/*
 * Frame of page @idx of segment @s, and the end (a page index) of the
 * maximal run holding it within the segment.
 */
static u64 vcn_seg_lookup(struct vcn_pages *p, unsigned int s,
			  unsigned long idx, unsigned long *end)
{
	struct vcn_seg *seg = &p->segs[s];
	unsigned long n = vcn_seg_npages(p, s);
	u32 i;

	if (!seg->pfns) {
		i = vcn_seg_find(seg, idx);
		*end = vcn_run_end(seg, i, n);
		return vcn_run_pfn(seg->runs[i]) + idx - vcn_run_start(seg->runs[i]);
	}
	*end = 0;
	if (seg->nruns) {
		i = vcn_seg_find(seg, idx);
		if (vcn_run_start(seg->runs[i]) <= idx &&
		    idx < (seg->runs[i] & VCN_PFN_MASK))
			*end = seg->runs[i] & VCN_PFN_MASK;
	}
	if (!*end)
		*end = vcn_flat_scan(seg, idx, n);
	return seg->pfns[idx];
}

/*
 * Physical address of byte @off of the mapping, and how many bytes from
 * there are physically contiguous within the mapping (at most @max).
 */
void vcn_pages_phys(struct vcn_pages *p, u64 off, u64 max, phys_addr_t *pa,
		    u64 *len)
{
	unsigned long idx = off >> PAGE_SHIFT;
	unsigned int s = idx / VCN_SEG_PAGES;
	unsigned long local = idx % VCN_SEG_PAGES, end;
	u64 pfn = vcn_seg_lookup(p, s, local, &end);
	u64 contig;

	*pa = ((phys_addr_t)pfn << PAGE_SHIFT) | (off & ~PAGE_MASK);
	contig = ((u64)(end - local) << PAGE_SHIFT) - (off & ~PAGE_MASK);
	/* a run may go on in the next segment */
	pfn += end - local;
	while (contig < max && end == vcn_seg_npages(p, s) && ++s < p->nsegs &&
	       vcn_seg_lookup(p, s, 0, &end) == pfn) {
		contig += (u64)end << PAGE_SHIFT;
		pfn += end;
	}
	*len = min(contig, max);
}
