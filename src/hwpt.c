// SPDX-License-Identifier: GPL-2.0
/*
 * hwpt.c - the page-table object a no-IOMMU device attaches through.
 *
 * As upstream: attaching a device to an IOAS creates a hwpt object of its
 * own (an "auto domain"), and VFIO_DEVICE_ATTACH_IOMMUFD_PT rewrites pt_id to
 * that object's id. Attaching by a hwpt's id reuses it. When the last device
 * detaches, the hwpt leaves the table and drops its user of the IOAS, so
 * the IOAS can then be destroyed. ioas->ndevs tells GET_PA whether any
 * no-IOMMU device is attached.
 *
 * Locks: vcn_ctx.lock around every change of ndevs and of the hwpt set; it
 * nests inside vcn_device.lock and outside the object table's xa_lock.
 */
#include <linux/slab.h>

#include "vcn.h"

static struct vcn_hwpt *vcn_hwpt_create(struct vcn_ctx *ctx,
					struct vcn_ioas *ioas)
{
	struct vcn_hwpt *hwpt;

	lockdep_assert_held(&ctx->lock);
	hwpt = vcn_obj_alloc(ctx, hwpt, VCN_OBJ_HWPT);
	if (IS_ERR(hwpt))
		return hwpt;
	/* keeps the caller's user of the IOAS for the hwpt's lifetime */
	hwpt->ioas = ioas;
	return hwpt;
}

void vcn_hwpt_destroy(struct vcn_hwpt *hwpt)
{
	WARN_ON(hwpt->ndevs);
	vcn_obj_put(&hwpt->ioas->obj);
}

int vcn_hwpt_attach(struct vcn_ctx *ctx, u32 *pt_id, struct vcn_hwpt **out)
{
	struct vcn_hwpt *hwpt;
	struct vcn_obj *obj;
	int ret = 0;

	obj = vcn_obj_get(ctx, *pt_id, VCN_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);

	mutex_lock(&ctx->lock);
	switch (obj->type) {
	case VCN_OBJ_IOAS:
		hwpt = vcn_hwpt_create(ctx, container_of(obj, struct vcn_ioas,
							 obj));
		if (IS_ERR(hwpt)) {
			ret = PTR_ERR(hwpt);
			vcn_obj_put(obj);
			goto out_unlock;
		}
		refcount_inc(&hwpt->obj.users);	/* the attachment's */
		vcn_obj_finalize(&hwpt->obj);
		break;
	case VCN_OBJ_HWPT:
		hwpt = container_of(obj, struct vcn_hwpt, obj);
		if (!hwpt->ndevs) {	/* lost a race with its last detach */
			vcn_obj_put(obj);
			ret = -ENOENT;
			goto out_unlock;
		}
		/* the lookup's user becomes the attachment's */
		break;
	default:
		vcn_obj_put(obj);
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!hwpt->ndevs++)
		WRITE_ONCE(hwpt->ioas->ndevs, hwpt->ioas->ndevs + 1);
	*pt_id = hwpt->obj.id;
	*out = hwpt;
out_unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

/*
 * Drop one device's attachment. A new hwpt holds two users: the table's and
 * the first device's; later devices add one each. The last detach removes
 * the hwpt from the table as well.
 */
void vcn_hwpt_detach(struct vcn_hwpt *hwpt)
{
	struct vcn_ctx *ctx = hwpt->obj.ctx;
	bool last;

	mutex_lock(&ctx->lock);
	last = !--hwpt->ndevs;
	if (last) {
		WRITE_ONCE(hwpt->ioas->ndevs, hwpt->ioas->ndevs - 1);
		vcn_obj_remove(&hwpt->obj);
	}
	mutex_unlock(&ctx->lock);
	vcn_obj_put(&hwpt->obj);
}
