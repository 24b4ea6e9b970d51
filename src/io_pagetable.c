// SPDX-License-Identifier: GPL-2.0
/*
 * io_pagetable.c - an IOAS's IOVA space: the software IOVA-to-PA table.
 *
 * Each IOAS_MAP is one area: an IOVA interval in an rbtree (areas never
 * overlap, so an ordinary tree keyed by start finds the area of an IOVA in
 * O(log areas)) and the pinned pages behind it (pages.c, where the run
 * search makes the rest of a lookup O(log runs)). Areas are never split:
 * UNMAP takes whole areas or fails.
 *
 * A map reserves its IOVA first (an area with no pages yet), pins with no
 * lock held, then publishes the pages; lookups treat an unpublished area as
 * unmapped and unmaps refuse it (EBUSY), so a long pin never stalls GET_PA.
 *
 * GET_PA takes no lock: it walks the tree under RCU inside a read section
 * of vcn_ioas.iova_seq, which every tree change bumps, and retries if one
 * happened meanwhile. A walk racing a change may go astray but never loops
 * (rbtree.c stores child pointers with WRITE_ONCE, a new node is published
 * by a release store once complete, an erased node is left as it is) and
 * only reads memory that stays valid: areas and their tables are freed an
 * RCU grace period after they leave the tree, an area's bounds never
 * change, and its pages are published with a release store once the table
 * is built. Pages are unpinned at once: a reader that saw them is retried.
 *
 * Locks: vcn_ioas.iova_rwsem, read for the other lookups, write for any
 * tree change, around which iova_seq is bumped (preemption off, nothing
 * sleeps there); pinning and unpinning happen outside both.
 */
#include <linux/log2.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "vcn.h"

struct vcn_area {
	struct rb_node node;
	u64 iova;
	u64 last;
	struct vcn_pages *pages;	/* NULL while the map is in flight */
	union {
		struct vcn_area *next_dead;	/* unmap's list, under the lock */
		struct rcu_head rcu;	/* lockless GET_PA may still read it */
	};
};

void vcn_iopt_init(struct vcn_ioas *ioas)
{
	init_rwsem(&ioas->iova_rwsem);
	seqcount_init(&ioas->iova_seq);
	ioas->areas = RB_ROOT;
}

static struct vcn_area *vcn_area_of(struct rb_node *node)
{
	return node ? rb_entry(node, struct vcn_area, node) : NULL;
}

/* the first area ending at or after @iova; also safe for lockless walks */
static struct vcn_area *vcn_area_lower_bound(struct vcn_ioas *ioas, u64 iova)
{
	struct rb_node *node = READ_ONCE(ioas->areas.rb_node);
	struct vcn_area *best = NULL;

	while (node) {
		struct vcn_area *a = vcn_area_of(node);

		if (a->last >= iova) {
			best = a;
			if (a->iova <= iova)
				break;
			node = READ_ONCE(node->rb_left);
		} else {
			node = READ_ONCE(node->rb_right);
		}
	}
	return best;
}

static bool vcn_range_used(struct vcn_ioas *ioas, u64 first, u64 last)
{
	struct vcn_area *a = vcn_area_lower_bound(ioas, first);

	return a && a->iova <= last;
}

static void vcn_area_insert(struct rb_root *root, struct vcn_area *new)
{
	struct rb_node **link = &root->rb_node, *parent = NULL, *staged;

	while (*link) {
		parent = *link;
		link = new->iova < vcn_area_of(parent)->iova ?
		       &parent->rb_left : &parent->rb_right;
	}
	/* rb_link_node_rcu(), which sparse refuses on a plain rb_node pointer */
	rb_link_node(&new->node, parent, &staged);	/* fill the node in */
	smp_store_release(link, &new->node);	/* then lockless walks see it */
	rb_insert_color(&new->node, root);
}

/*
 * Tree changes, seen by lockless readers through iova_seq. Preemption is
 * off inside, so a reader never spins on a writer that cannot run.
 */
static void vcn_tree_write_begin(struct vcn_ioas *ioas)
{
	lockdep_assert_held_write(&ioas->iova_rwsem);
	preempt_disable();
	write_seqcount_begin(&ioas->iova_seq);
}

static void vcn_tree_write_end(struct vcn_ioas *ioas)
{
	write_seqcount_end(&ioas->iova_seq);
	preempt_enable();
}

static void vcn_area_link(struct vcn_ioas *ioas, struct vcn_area *a)
{
	vcn_tree_write_begin(ioas);
	vcn_area_insert(&ioas->areas, a);
	vcn_tree_write_end(ioas);
}

static void vcn_area_unlink(struct vcn_ioas *ioas, struct vcn_area *a)
{
	vcn_tree_write_begin(ioas);
	rb_erase(&a->node, &ioas->areas);
	vcn_tree_write_end(ioas);
}

/*
 * A kernel-chosen IOVA, as upstream picks it: never 0, aligned like the user
 * address (up to a huge page) so huge pages stay aligned in IOVA space too.
 */
static int vcn_iova_alloc(struct vcn_ioas *ioas, unsigned long uaddr,
			  u64 length, u64 *iova)
{
	u64 align, hole = PAGE_SIZE;
	u64 max_align = IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) ? HPAGE_SIZE : PAGE_SIZE;
	struct rb_node *node;

	/* as upstream; it also keeps roundup_pow_of_two() defined */
	if (length >= ULONG_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow_of_two(length);
	if (uaddr)
		align = min_t(u64, align, 1ULL << __ffs64(uaddr));
	align = clamp_t(u64, align, PAGE_SIZE, max_align);

	for (node = rb_first(&ioas->areas); ; node = rb_next(node)) {
		struct vcn_area *a = vcn_area_of(node);
		u64 start = ALIGN(hole, align), end;

		if (start < hole)
			return -ENOSPC;		/* ALIGN wrapped */
		if (!check_add_overflow(start, length - 1, &end) &&
		    end <= ULONG_MAX - PAGE_SIZE && (!a || end < a->iova)) {
			*iova = start;
			return 0;
		}
		if (!a || a->last >= ULONG_MAX - PAGE_SIZE)
			return -ENOSPC;
		hole = max(hole, a->last + 1);
	}
}

static void vcn_area_account(struct vcn_ioas *ioas, struct vcn_area *a, bool add)
{
	size_t table = ksize(a) + vcn_pages_table_bytes(a->pages);
	u64 bytes = a->last - a->iova + 1;

	lockdep_assert_held_write(&ioas->iova_rwsem);
	if (add) {
		ioas->mapped_bytes += bytes;
		ioas->pinned_pages += a->pages->npages;
		ioas->table_bytes += table;
	} else {
		ioas->mapped_bytes -= bytes;
		ioas->pinned_pages -= a->pages->npages;
		ioas->table_bytes -= table;
	}
	vcn_stats_area(table, bytes, add);
}

int vcn_iopt_map(struct vcn_ioas *ioas, unsigned long uaddr, u64 length,
		 u64 *iova, bool fixed, bool writable)
{
	struct vcn_pages *pages;
	struct vcn_area *a;
	u64 last;
	int ret;

	if (!length || !PAGE_ALIGNED(length) || !PAGE_ALIGNED(uaddr))
		return -EINVAL;
	if (check_add_overflow((u64)uaddr, length - 1, &last) || last >= ULONG_MAX)
		return -EOVERFLOW;
	if (fixed) {
		if (!PAGE_ALIGNED(*iova))
			return -EINVAL;
		if (check_add_overflow(*iova, length - 1, &last))
			return -EOVERFLOW;
	}

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	down_write(&ioas->iova_rwsem);
	if (fixed)
		ret = vcn_range_used(ioas, *iova, last) ? -EEXIST : 0;
	else
		ret = vcn_iova_alloc(ioas, uaddr, length, iova);
	if (!ret) {
		a->iova = *iova;
		a->last = *iova + length - 1;
		vcn_area_link(ioas, a);	/* reserved, not mapped yet */
	}
	up_write(&ioas->iova_rwsem);
	if (ret) {
		kfree(a);
		return ret;
	}

	pages = vcn_pages_pin(uaddr, length >> PAGE_SHIFT, writable);

	down_write(&ioas->iova_rwsem);
	if (IS_ERR(pages)) {
		vcn_area_unlink(ioas, a);
	} else {
		smp_store_release(&a->pages, pages);	/* the table is built */
		vcn_area_account(ioas, a, true);
	}
	up_write(&ioas->iova_rwsem);
	if (IS_ERR(pages)) {
		kfree_rcu(a, rcu);
		return PTR_ERR(pages);
	}
	return 0;
}

static void vcn_area_free_rcu(struct rcu_head *head)
{
	struct vcn_area *a = container_of(head, struct vcn_area, rcu);

	vcn_pages_free(a->pages);
	kfree(a);
}

static void vcn_area_free(struct vcn_area *a)
{
	vcn_pages_unpin(a->pages);
	call_rcu(&a->rcu, vcn_area_free_rcu);
}

/* Unmap whole areas within [iova, last]; a partly covered one is ENOENT. */
static int vcn_iopt_unmap_range(struct vcn_ioas *ioas, u64 iova, u64 last,
				u64 *unmapped)
{
	struct vcn_area *a, *first, *dead = NULL;
	struct rb_node *node;
	u64 done = 0;

	down_write(&ioas->iova_rwsem);
	first = vcn_area_lower_bound(ioas, iova);
	for (a = first; a && a->iova <= last; a = vcn_area_of(rb_next(&a->node))) {
		if (a->iova < iova || a->last > last) {
			up_write(&ioas->iova_rwsem);
			return -ENOENT;		/* mappings are never split */
		}
		if (!a->pages) {
			up_write(&ioas->iova_rwsem);
			return -EBUSY;		/* its map is still pinning */
		}
	}
	/*
	 * Take them out and list them; unpin once the lock is dropped. Their
	 * rb_nodes are left as rb_erase() leaves them: a lockless walk that
	 * still stands on one must only ever see nodes of this tree.
	 */
	for (a = first; a && a->iova <= last; a = vcn_area_of(node)) {
		node = rb_next(&a->node);
		done += a->last - a->iova + 1;
		/* one erase per write section: the user decides how many */
		vcn_area_unlink(ioas, a);
		a->next_dead = dead;
		dead = a;
	}
	for (a = dead; a; a = a->next_dead)
		vcn_area_account(ioas, a, false);
	up_write(&ioas->iova_rwsem);

	while (dead) {
		a = dead;
		dead = a->next_dead;
		vcn_area_free(a);	/* reuses next_dead's room */
	}
	*unmapped = done;
	return done ? 0 : -ENOENT;
}

int vcn_iopt_unmap(struct vcn_ioas *ioas, u64 iova, u64 length, u64 *unmapped)
{
	u64 last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return vcn_iopt_unmap_range(ioas, iova, last, unmapped);
}

int vcn_iopt_unmap_all(struct vcn_ioas *ioas, u64 *unmapped)
{
	int ret = vcn_iopt_unmap_range(ioas, 0, U64_MAX, unmapped);

	if (ret == -ENOENT) {	/* nothing mapped is not an error here */
		*unmapped = 0;
		ret = 0;
	}
	return ret;
}

/*
 * One lockless try. Even when a tree change makes it go astray, the area it
 * finds holds @iova (its bounds are fixed), so the table read is in range.
 */
static int vcn_iopt_phys_once(struct vcn_ioas *ioas, u64 iova, u64 *pa,
			      u64 *length)
{
	struct vcn_area *a = vcn_area_lower_bound(ioas, iova);
	struct vcn_pages *pages;
	phys_addr_t phys;

	if (!a || a->iova > iova)
		return -ENOENT;
	/* pairs with the release in vcn_iopt_map(): a built table */
	pages = smp_load_acquire(&a->pages);
	if (!pages)
		return -ENOENT;		/* its map is still pinning */
	if (!READ_ONCE(ioas->ndevs))
		return -EOPNOTSUPP;	/* no no-IOMMU device is attached */
	vcn_pages_phys(pages, iova - a->iova, min(*length, a->last - iova + 1),
		       &phys, length);
	*pa = phys;
	return 0;
}

/* the caller holds rcu_read_lock(), which keeps @ioas and its areas */
int vcn_iopt_get_phys(struct vcn_ioas *ioas, u64 iova, u64 *pa, u64 *length)
{
	unsigned int seq;
	u64 len;
	int ret;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "GET_PA outside RCU");
	do {
		seq = read_seqcount_begin(&ioas->iova_seq);
		len = *length;
		ret = vcn_iopt_phys_once(ioas, iova, pa, &len);
	} while (read_seqcount_retry(&ioas->iova_seq, seq));
	if (!ret)
		*length = len;
	return ret;
}
