// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - counters of what the module holds: mapped bytes, pinned pages,
 * areas and bytes spent on IOVA tables, module-wide in debugfs
 * (vfio_cdev_noiommu/stats) and per context in the context file's fdinfo.
 * The tests use them to prove that every path gives back what it took;
 * the benchmark reads table bytes from them.
 *
 * Locks: module-wide counters are atomics; the per-context view takes each
 * IOAS's iova_rwsem for reading.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vcn.h"

static atomic64_t vcn_mapped_bytes, vcn_pinned_pages, vcn_table_bytes,
	vcn_areas;
static struct dentry *vcn_debugfs;

void vcn_stats_pinned(struct vcn_pages *p, bool add)
{
	atomic64_add(add ? p->npages : -(s64)p->npages, &vcn_pinned_pages);
}

void vcn_stats_area(size_t table_bytes, u64 mapped_bytes, bool add)
{
	atomic64_add(add ? table_bytes : -(s64)table_bytes, &vcn_table_bytes);
	atomic64_add(add ? mapped_bytes : -(s64)mapped_bytes, &vcn_mapped_bytes);
	atomic64_add(add ? 1 : -1, &vcn_areas);
}

static int vcn_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "mapped_bytes %lld\npinned_pages %lld\nareas %lld\ntable_bytes %lld\n",
		   atomic64_read(&vcn_mapped_bytes), atomic64_read(&vcn_pinned_pages),
		   atomic64_read(&vcn_areas), atomic64_read(&vcn_table_bytes));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vcn_stats);

int vcn_stats_init(void)
{
	/* debugfs is optional: the module works the same without it */
	vcn_debugfs = debugfs_create_dir("vfio_cdev_noiommu", NULL);
	debugfs_create_file("stats", 0400, vcn_debugfs, NULL, &vcn_stats_fops);
	return 0;
}

void vcn_stats_exit(void)
{
	debugfs_remove_recursive(vcn_debugfs);
}

void vcn_ictx_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct vcn_ctx *ctx = file->private_data;
	u64 mapped = 0, table = 0, pinned = 0, ioases = 0;
	struct vcn_obj *obj;
	unsigned long id;

	xa_lock(&ctx->objs);
	xa_for_each(&ctx->objs, id, obj) {
		struct vcn_ioas *ioas;

		if (obj->type != VCN_OBJ_IOAS || !refcount_inc_not_zero(&obj->users))
			continue;
		xa_unlock(&ctx->objs);
		ioas = container_of(obj, struct vcn_ioas, obj);
		down_read(&ioas->iova_rwsem);
		mapped += ioas->mapped_bytes;
		pinned += ioas->pinned_pages;
		table += ioas->table_bytes;
		ioases++;
		up_read(&ioas->iova_rwsem);
		vcn_obj_put(obj);
		xa_lock(&ctx->objs);
	}
	xa_unlock(&ctx->objs);
	seq_printf(m, "vcn-ioas: %llu\nvcn-mapped-bytes: %llu\nvcn-pinned-pages: %llu\nvcn-table-bytes: %llu\n",
		   ioases, mapped, pinned, table);
}
