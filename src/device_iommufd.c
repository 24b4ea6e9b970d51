// SPDX-License-Identifier: GPL-2.0
/*
 * device_iommufd.c - a device file's binding to a context and its page table:
 * VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_ATTACH_IOMMUFD_PT and
 * VFIO_DEVICE_DETACH_IOMMUFD_PT, with upstream's argument checks and errnos.
 *
 * Binding is what upstream calls opening the device: the PCI function is
 * opened (pci_core.c: enabled, bus mastering off) and a device object
 * appears in the context; only one file at a time can hold it. Unbinding
 * (on close) undoes all of it in reverse.
 *
 * Locks: vcn_device.lock, then (in hwpt.c and object.c) vcn_ctx.lock and the
 * object table's xa_lock.
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

static struct vcn_idev *vcn_idev_create(struct vcn_ctx *ctx,
					struct vcn_device *vdev)
{
	struct vcn_idev *idev;

	idev = vcn_obj_alloc(ctx, idev, VCN_OBJ_DEVICE);
	if (IS_ERR(idev))
		return idev;
	idev->vdev = vdev;
	/* the binding holds a user: IOMMU_DESTROY of a bound device is EBUSY */
	refcount_inc(&idev->obj.users);
	vcn_obj_finalize(&idev->obj);
	return idev;
}

static void vcn_idev_destroy(struct vcn_idev *idev)
{
	vcn_obj_remove(&idev->obj);
	vcn_obj_put(&idev->obj);
}

/* Called with vdev->lock held. */
static int vcn_df_open(struct vcn_dfile *df, struct file *ictx_file)
{
	struct vcn_device *vdev = df->vdev;
	struct vcn_idev *idev;
	int ret;

	/* A cdev device is opened by one file at a time. */
	if (vdev->open_count)
		return -EINVAL;

	idev = vcn_idev_create(vcn_ctx_from_file(ictx_file), vdev);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	ret = vcn_pci_open(vdev);
	if (ret) {
		vcn_idev_destroy(idev);
		return ret;
	}
	vdev->open_count++;
	vdev->ctx = idev->obj.ctx;
	vdev->devid = idev->obj.id;
	df->idev = idev;
	df->ictx_file = ictx_file;
	return 0;
}

/* Called with vdev->lock held. */
static void vcn_df_close(struct vcn_dfile *df)
{
	struct vcn_device *vdev = df->vdev;

	if (vdev->hwpt) {
		vcn_hwpt_detach(vdev->hwpt);
		vdev->hwpt = NULL;
	}
	vcn_pci_close(vdev);
	vdev->open_count--;
	vdev->ctx = NULL;
	vdev->devid = 0;
	vcn_idev_destroy(df->idev);
	df->idev = NULL;
}

long vcn_df_bind(struct vcn_dfile *df, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_bind_iommufd,
					  out_devid);
	struct vfio_device_bind_iommufd __user *ubind = arg;
	struct vcn_device *vdev = df->vdev;
	struct vfio_device_bind_iommufd bind;
	struct file *ictx_file;
	u32 user_size;
	int ret;

	ret = get_user(user_size, &ubind->argsz);
	if (ret)
		return ret;
	if (user_size < minsz)
		return -EINVAL;
	ret = copy_struct_from_user(&bind, sizeof(bind), arg, user_size);
	if (ret)
		return ret;
	if (bind.iommufd < 0 || bind.flags & ~VFIO_DEVICE_BIND_FLAG_TOKEN)
		return -EINVAL;

	ret = vcn_group_block(vdev);
	if (ret)
		return ret;

	mutex_lock(&vdev->lock);
	if (df->access_granted) {
		ret = -EINVAL;		/* one file cannot be bound twice */
		goto out_unlock;
	}
	/* VF tokens are a PF driver's business; we have none to match */
	if (bind.flags & VFIO_DEVICE_BIND_FLAG_TOKEN) {
		ret = -EINVAL;
		goto out_unlock;
	}

	ictx_file = fget(bind.iommufd);
	if (!ictx_file) {
		ret = -EBADF;
		goto out_unlock;
	}
	if (!vcn_ctx_from_file(ictx_file)) {
		ret = -EBADFD;
		goto out_fput;
	}

	ret = vcn_df_open(df, ictx_file);
	if (ret)
		goto out_fput;

	if (put_user(df->idev->obj.id, &ubind->out_devid)) {
		ret = -EFAULT;
		goto out_close;
	}
	/* Paired with smp_load_acquire() in vcn_fops_ioctl() */
	smp_store_release(&df->access_granted, true);
	mutex_unlock(&vdev->lock);
	return 0;

out_close:
	vcn_df_close(df);
	df->ictx_file = NULL;
out_fput:
	fput(ictx_file);
out_unlock:
	mutex_unlock(&vdev->lock);
	vcn_group_unblock(vdev);
	return ret;
}

void vcn_df_unbind(struct vcn_dfile *df)
{
	struct vcn_device *vdev = df->vdev;
	struct file *ictx_file;

	if (!df->access_granted)
		return;
	mutex_lock(&vdev->lock);
	vcn_df_close(df);
	ictx_file = df->ictx_file;
	df->ictx_file = NULL;
	df->access_granted = false;
	mutex_unlock(&vdev->lock);
	vcn_group_unblock(vdev);
	fput(ictx_file);
}

long vcn_df_attach(struct vcn_dfile *df, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_attach_iommufd_pt,
					  pt_id);
	struct vfio_device_attach_iommufd_pt __user *uattach = arg;
	struct vfio_device_attach_iommufd_pt attach;
	struct vcn_device *vdev = df->vdev;
	struct vcn_hwpt *hwpt, *old;
	int ret;

	if (copy_from_user(&attach, arg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz)
		return -EINVAL;
	if (attach.flags & ~VFIO_DEVICE_ATTACH_PASID)
		return -EINVAL;
	/* A no-IOMMU device has no PASIDs to attach. */
	if (attach.flags & VFIO_DEVICE_ATTACH_PASID)
		return -EOPNOTSUPP;

	mutex_lock(&vdev->lock);
	ret = vcn_hwpt_attach(vcn_ctx_from_file(df->ictx_file), &attach.pt_id,
			      &hwpt);
	if (ret)
		goto out_unlock;
	if (put_user(attach.pt_id, &uattach->pt_id)) {
		vcn_hwpt_detach(hwpt);
		ret = -EFAULT;
		goto out_unlock;
	}
	/* attaching while attached replaces, as iommufd_device_replace() */
	old = vdev->hwpt;
	vdev->hwpt = hwpt;
	if (old)
		vcn_hwpt_detach(old);
out_unlock:
	mutex_unlock(&vdev->lock);
	return ret;
}

long vcn_df_detach(struct vcn_dfile *df, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_detach_iommufd_pt,
					  flags);
	struct vfio_device_detach_iommufd_pt detach;
	struct vcn_device *vdev = df->vdev;

	if (copy_from_user(&detach, arg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz)
		return -EINVAL;
	if (detach.flags & ~VFIO_DEVICE_DETACH_PASID)
		return -EINVAL;
	if (detach.flags & VFIO_DEVICE_DETACH_PASID)
		return -EOPNOTSUPP;

	mutex_lock(&vdev->lock);
	if (vdev->hwpt) {
		vcn_hwpt_detach(vdev->hwpt);
		vdev->hwpt = NULL;
	}
	mutex_unlock(&vdev->lock);
	return 0;
}
