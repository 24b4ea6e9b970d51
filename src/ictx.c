// SPDX-License-Identifier: GPL-2.0
/*
 * ictx.c - the iommufd-compatible context node and its ioctl dispatch.
 *
 * Each open() of the node is one context (upstream's iommufd_ctx): an object
 * table and nothing else. Every command goes through one table indexed by
 * command number, holding the handler, the full struct size and the minimum
 * size (the end of the last field of the command's first version). The
 * dispatcher reads the leading size, refuses less than the minimum (EINVAL),
 * copies with copy_struct_from_user() (zero-fills a short struct, E2BIG for a
 * longer one with non-zero tail) and hands the handler a kernel copy; handlers
 * answer through vcn_ucmd_respond(). A number with no entry is ENOTTY.
 *
 * GET_PA, the one hot command (a user driver asks it for every buffer it
 * gives its device), is read and answered with single-word user accesses
 * when the caller's size is the kernel's, which is what a program built
 * against this header passes: no size probe, no generic copy and zero
 * check. Any other size, or a fault, takes the generic path, whose checks
 * and errnos are the same, in the same order.
 *
 * A bound device file holds a reference on the context's file, so the
 * context outlives every device bound to it, whatever order fds are closed in.
 *
 * Locks: none of its own; see object.c.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

static const struct file_operations vcn_ictx_fops;

struct vcn_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct vcn_ucmd *ucmd);
};

union vcn_ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
	struct iommu_ioas_noiommu_get_pa get_pa;
};

#define VCN_IOCTL_OP(_ioctl, _fn, _struct, _last)				\
	[_IOC_NR(_ioctl) - VCN_IOMMUFD_CMD_BASE] = {				\
		.size = sizeof(_struct) +					\
			BUILD_BUG_ON_ZERO(sizeof(union vcn_ucmd_buffer) <	\
					  sizeof(_struct)),			\
		.min_size = offsetofend(_struct, _last),			\
		.ioctl_num = _ioctl,						\
		.execute = _fn,							\
	}

static const struct vcn_ioctl_op vcn_ioctl_ops[] = {
	VCN_IOCTL_OP(IOMMU_DESTROY, vcn_ioctl_destroy, struct iommu_destroy, id),
	VCN_IOCTL_OP(IOMMU_IOAS_ALLOC, vcn_ioctl_ioas_alloc,
		     struct iommu_ioas_alloc, out_ioas_id),
	VCN_IOCTL_OP(IOMMU_IOAS_IOVA_RANGES, vcn_ioctl_ioas_iova_ranges,
		     struct iommu_ioas_iova_ranges, out_iova_alignment),
	VCN_IOCTL_OP(IOMMU_IOAS_MAP, vcn_ioctl_ioas_map, struct iommu_ioas_map,
		     iova),
	VCN_IOCTL_OP(IOMMU_IOAS_UNMAP, vcn_ioctl_ioas_unmap,
		     struct iommu_ioas_unmap, length),
	VCN_IOCTL_OP(IOMMU_IOAS_NOIOMMU_GET_PA, vcn_ioctl_ioas_get_pa,
		     struct iommu_ioas_noiommu_get_pa, out_phys),
};

int vcn_ucmd_respond(struct vcn_ucmd *ucmd, size_t len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, len)))
		return -EFAULT;
	return 0;
}

/* GET_PA's struct, copied word by word: it is all __u64-aligned fields */
#define VCN_GET_PA_WORDS	(sizeof(struct iommu_ioas_noiommu_get_pa) / sizeof(u64))

/*
 * The whole command, when its size is the kernel's and it can be read.
 * Nothing past the size is read unless the size says it is there.
 */
static bool vcn_get_pa_read(struct iommu_ioas_noiommu_get_pa __user *u,
			    struct iommu_ioas_noiommu_get_pa *cmd)
{
	u64 __user *uw = (u64 __user *)u;
	u64 *w = (u64 *)cmd;
	unsigned int i;
	u32 size;

	BUILD_BUG_ON(sizeof(*cmd) % sizeof(u64));
	if (!user_access_begin(u, sizeof(*u)))
		return false;
	unsafe_get_user(size, &u->size, fault);
	if (size != sizeof(*cmd))
		goto fault;
	for (i = 0; i < VCN_GET_PA_WORDS; i++)
		unsafe_get_user(w[i], &uw[i], fault);
	user_access_end();
	return true;
fault:	/* or not the kernel's size: the generic path says what is wrong */
	user_access_end();
	return false;
}

/* write back the whole struct, as vcn_ucmd_respond() would */
static int vcn_get_pa_answer(struct iommu_ioas_noiommu_get_pa __user *u,
			     const struct iommu_ioas_noiommu_get_pa *cmd)
{
	u64 __user *uw = (u64 __user *)u;
	const u64 *w = (const u64 *)cmd;
	unsigned int i;

	if (!user_access_begin(u, sizeof(*u)))
		return -EFAULT;
	for (i = 0; i < VCN_GET_PA_WORDS; i++)
		unsafe_put_user(w[i], &uw[i], fault);
	user_access_end();
	return 0;
fault:
	user_access_end();
	return -EFAULT;
}

static long vcn_ictx_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	const struct vcn_ioctl_op *op;
	union vcn_ucmd_buffer buf;
	struct vcn_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (cmd == IOMMU_IOAS_NOIOMMU_GET_PA &&
	    vcn_get_pa_read((void __user *)arg, &buf.get_pa)) {
		ret = vcn_ioas_get_pa(file->private_data, &buf.get_pa);
		return ret ?: vcn_get_pa_answer((void __user *)arg, &buf.get_pa);
	}
	if (nr < VCN_IOMMUFD_CMD_BASE ||
	    nr - VCN_IOMMUFD_CMD_BASE >= ARRAY_SIZE(vcn_ioctl_ops))
		return -ENOTTY;
	op = &vcn_ioctl_ops[nr - VCN_IOMMUFD_CMD_BASE];
	if (!op->execute || op->ioctl_num != cmd)
		return -ENOTTY;

	ucmd.ctx = file->private_data;
	ucmd.ubuffer = (void __user *)arg;
	ret = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (ret)
		return ret;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	return op->execute(&ucmd);
}

static int vcn_ictx_open(struct inode *inode, struct file *file)
{
	struct vcn_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	xa_init_flags(&ctx->objs, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	mutex_init(&ctx->lock);
	ctx->file = file;
	file->private_data = ctx;
	/* an open misc device is not seekable; say so as upstream does */
	return nonseekable_open(inode, file);
}

static int vcn_ictx_release(struct inode *inode, struct file *file)
{
	struct vcn_ctx *ctx = file->private_data;

	vcn_obj_destroy_all(ctx);
	xa_destroy(&ctx->objs);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
	return 0;
}

static const struct file_operations vcn_ictx_fops = {
	.owner		= THIS_MODULE,
	.open		= vcn_ictx_open,
	.release	= vcn_ictx_release,
	.unlocked_ioctl	= vcn_ictx_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= vcn_ictx_show_fdinfo,
};

struct vcn_ctx *vcn_ctx_from_file(struct file *file)
{
	if (file->f_op != &vcn_ictx_fops)
		return NULL;
	return file->private_data;
}

static struct miscdevice vcn_ictx_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= VCN_ICTX_NAME,
	.nodename	= VCN_ICTX_NODENAME,
	.fops		= &vcn_ictx_fops,
	.mode		= 0600,
};

const char *vcn_ictx_path(void)
{
	return VCN_ICTX_NODENAME ?: VCN_ICTX_NAME;
}

int vcn_ictx_init(void)
{
	int ret;

	ret = misc_register(&vcn_ictx_misc);
	if (ret)
		pr_err(VCN_DRV_NAME ": cannot register /dev/%s (%d): is another iommufd provider loaded?\n",
		       vcn_ictx_path(), ret);
	return ret;
}

void vcn_ictx_exit(void)
{
	misc_deregister(&vcn_ictx_misc);
}
