// SPDX-License-Identifier: GPL-2.0
/*
 * ioas.c - IOAS objects and the IOMMU_IOAS_* commands.
 *
 * Handlers check arguments, then make one call down. An IOAS is a software
 * IOVA space; devices reach it only through a hwpt (hwpt.c), which holds a
 * user of it, so IOMMU_DESTROY of an IOAS with a device attached is EBUSY.
 *
 * Locks: ioas->ndevs is under vcn_ctx.lock (hwpt.c).
 */
#include <linux/slab.h>

#include "vcn.h"

struct vcn_ioas *vcn_ioas_alloc(struct vcn_ctx *ctx)
{
	struct vcn_ioas *ioas;

	ioas = vcn_obj_alloc(ctx, ioas, VCN_OBJ_IOAS);
	return ioas;
}

void vcn_ioas_free(struct vcn_ioas *ioas)
{
	WARN_ON(ioas->ndevs);
	kfree(ioas);
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
