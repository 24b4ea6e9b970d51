// SPDX-License-Identifier: GPL-2.0
/*
 * ioas.c - IOAS objects and the IOMMU_IOAS_* commands.
 *
 * Handlers check arguments in upstream's order, with upstream's errnos, then
 * make one call down to io_pagetable.c. An IOAS is a software IOVA space;
 * devices reach it only through a hwpt (hwpt.c), which holds a user of it,
 * so IOMMU_DESTROY of an IOAS with a device attached is EBUSY; destroying it
 * otherwise unmaps and unpins everything it still holds.
 *
 * Locks: ioas->ndevs is written under vcn_ctx.lock (hwpt.c) and read
 * without it; the IOVA space has its own iova_rwsem.
 */
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

struct vcn_ioas *vcn_ioas_alloc(struct vcn_ctx *ctx)
{
	struct vcn_ioas *ioas;

	ioas = vcn_obj_alloc(ctx, ioas, VCN_OBJ_IOAS);
	if (!IS_ERR(ioas))
		vcn_iopt_init(ioas);
	return ioas;
}

void vcn_ioas_destroy(struct vcn_ioas *ioas)
{
	u64 unmapped;

	WARN_ON(ioas->ndevs);
	WARN_ON(vcn_iopt_unmap_all(ioas, &unmapped));
}

static struct vcn_ioas *vcn_ioas_get(struct vcn_ucmd *ucmd, u32 id)
{
	struct vcn_obj *obj = vcn_obj_get(ucmd->ctx, id, VCN_OBJ_IOAS);

	return IS_ERR(obj) ? ERR_CAST(obj) : container_of(obj, struct vcn_ioas, obj);
}

/* one range, the whole 64-bit space, page aligned: nothing is reserved */
int vcn_ioctl_ioas_iova_ranges(struct vcn_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommu_iova_range range = { .start = 0, .last = U64_MAX };
	struct vcn_ioas *ioas;
	u32 room;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = vcn_ioas_get(ucmd, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	room = cmd->num_iovas;
	cmd->num_iovas = 1;
	cmd->out_iova_alignment = PAGE_SIZE;
	ret = 0;
	if (room && copy_to_user(u64_to_user_ptr(cmd->allowed_iovas), &range,
				 sizeof(range)))
		ret = -EFAULT;
	if (!ret)
		ret = vcn_ucmd_respond(ucmd, sizeof(*cmd));
	if (!ret && !room)
		ret = -EMSGSIZE;
	vcn_obj_put(&ioas->obj);
	return ret;
}

int vcn_ioctl_ioas_map(struct vcn_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct vcn_ioas *ioas;
	u64 iova = cmd->iova;
	int ret;

	if ((cmd->flags & ~(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			    IOMMU_IOAS_MAP_READABLE)) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;

	ioas = vcn_ioas_get(ucmd, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ret = vcn_iopt_map(ioas, cmd->user_va, cmd->length, &iova,
			   cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA,
			   cmd->flags & IOMMU_IOAS_MAP_WRITEABLE);
	if (!ret) {
		cmd->iova = iova;
		ret = vcn_ucmd_respond(ucmd, sizeof(*cmd));
		if (ret) {	/* the user cannot learn the IOVA: take it back */
			u64 unmapped;

			vcn_iopt_unmap(ioas, iova, cmd->length, &unmapped);
		}
	}
	vcn_obj_put(&ioas->obj);
	return ret;
}

int vcn_ioctl_ioas_unmap(struct vcn_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct vcn_ioas *ioas;
	u64 unmapped = 0;
	int ret;

	ioas = vcn_ioas_get(ucmd, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (cmd->iova == 0 && cmd->length == U64_MAX)
		ret = vcn_iopt_unmap_all(ioas, &unmapped);
	else if (cmd->iova >= ULONG_MAX || cmd->length >= ULONG_MAX)
		ret = -EOVERFLOW;
	else
		ret = vcn_iopt_unmap(ioas, cmd->iova, cmd->length, &unmapped);
	if (!ret) {
		cmd->length = unmapped;
		ret = vcn_ucmd_respond(ucmd, sizeof(*cmd));
	}
	vcn_obj_put(&ioas->obj);
	return ret;
}

/*
 * GET_PA on a kernel copy of the command (ictx.c has a fast way of reading
 * and answering it). No reference is taken on the IOAS: RCU keeps it and
 * its tables in memory for the lookup, and io_pagetable.c's seqcount makes
 * the answer a snapshot in which the mapping existed, so a concurrent
 * UNMAP or DESTROY either comes after it or turns it into ENOENT.
 */
int vcn_ioas_get_pa(struct vcn_ctx *ctx, struct iommu_ioas_noiommu_get_pa *cmd)
{
	struct vcn_obj *obj;
	int ret;

	/* upstream's order of checks, errno for errno */
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (cmd->iova >= ULONG_MAX)
		return -EOVERFLOW;

	rcu_read_lock();
	obj = vcn_obj_find_rcu(ctx, cmd->ioas_id, VCN_OBJ_IOAS);
	if (obj)
		ret = vcn_iopt_get_phys(container_of(obj, struct vcn_ioas, obj),
					cmd->iova, &cmd->out_phys, &cmd->length);
	else
		ret = -ENOENT;
	rcu_read_unlock();
	return ret;
}

int vcn_ioctl_ioas_get_pa(struct vcn_ucmd *ucmd)
{
	int ret = vcn_ioas_get_pa(ucmd->ctx, ucmd->cmd);

	return ret ?: vcn_ucmd_respond(ucmd, sizeof(struct iommu_ioas_noiommu_get_pa));
}

int vcn_ioctl_ioas_alloc(struct vcn_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct vcn_ioas *ioas;
	int ret;

	if (cmd->flags)
		return -EOPNOTSUPP;

	ioas = vcn_ioas_alloc(ucmd->ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	cmd->out_ioas_id = ioas->obj.id;
	ret = vcn_ucmd_respond(ucmd, sizeof(*cmd));
	if (ret) {
		vcn_obj_abort(&ioas->obj);
		return ret;
	}
	vcn_obj_finalize(&ioas->obj);
	return 0;
}
