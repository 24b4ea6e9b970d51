// SPDX-License-Identifier: GPL-2.0
/*
 * pci_reset.c - VFIO_DEVICE_RESET, and hot reset in its cdev form.
 *
 * A function reset (VFIO_DEVICE_RESET, or Initiate FLR written to config
 * space) revokes BAR mappings first (decode goes away under them) and lets
 * the PCI core save and restore config state around it.
 *
 * A hot (secondary bus or slot) reset hits every function below the bus or
 * in the slot. Upstream's cdev no-IOMMU refuses it for groupless devices; we
 * allow it when every affected function is bound to this driver and opened
 * through the caller's context (so the caller owns all the state it is about
 * to destroy), and refuse it otherwise: EBUSY when a function belongs to
 * another driver or none, EINVAL when it is ours but not the caller's, as
 * upstream's cdev path answers for devices outside the caller's iommufd.
 *
 * Locks: VFIO_DEVICE_RESET takes vcn_device.lock, then memory_lock for
 * writing. Hot reset: vcn_reset_lock (one at a time), then each device's
 * vcn_device.lock briefly, then every affected memory_lock for writing,
 * nested under vcn_reset_lock.
 */
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vcn.h"

static DEFINE_MUTEX(vcn_reset_lock);

/*
 * vcn_device.lock held, as config writes hold it: a PMCSR read-modify-write
 * must not straddle the reset and put back the power state it read before.
 * Also the Initiate FLR bit of a config write ends here.
 */
int vcn_reset_function_locked(struct vcn_device *vdev)
{
	int ret;

	lockdep_assert_held(&vdev->lock);
	vcn_zap_and_down_write_memory_lock(vdev);
	/* from D0, or what D3hot lost would be saved and restored as state */
	__vcn_power_set(vdev, PCI_D0);
	ret = pci_try_reset_function(vdev->pdev);
	vcn_memory_update_and_up_write(vdev);
	return ret;
}

long vcn_ioctl_reset(struct vcn_device *vdev)
{
	int ret;

	if (!vdev->reset_works)
		return -EINVAL;
	mutex_lock(&vdev->lock);
	ret = vcn_reset_function_locked(vdev);
	mutex_unlock(&vdev->lock);
	return ret;
}

/* The functions a hot reset of @pdev would hit, with references. */
struct vcn_affected {
	struct pci_dev **devs;
	unsigned int n, max;
	bool overflow;
};

static int vcn_affected_add(struct pci_dev *pdev, void *data)
{
	struct vcn_affected *a = data;

	if (a->n >= a->max) {
		a->overflow = true;
		return -EAGAIN;		/* more than counted: stop the walk */
	}
	a->devs[a->n++] = pci_dev_get(pdev);
	return 0;
}

static int vcn_affected_count(struct pci_dev *pdev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/* the function on @bus that @pdev is, or sits below */
static struct pci_dev *vcn_ancestor_on(struct pci_dev *pdev, struct pci_bus *bus)
{
	while (pdev && pdev->bus != bus)
		pdev = pdev->bus->self;
	return pdev;
}

typedef int (*vcn_walk_fn)(struct pci_dev *pdev, void *data);

struct vcn_walk {
	struct pci_dev *pdev;
	bool slot;
	vcn_walk_fn fn;
	void *data;
};

/* a slot reset hits the slot's functions and everything below them */
static int vcn_walk_filter(struct pci_dev *tmp, void *data)
{
	struct vcn_walk *w = data;
	struct pci_dev *top = vcn_ancestor_on(tmp, w->pdev->bus);

	if (w->slot && (!top || top->slot != w->pdev->slot))
		return 0;
	return w->fn(tmp, w->data);
}

static void vcn_walk_affected(struct pci_dev *pdev, bool slot,
			      vcn_walk_fn fn, void *data)
{
	struct vcn_walk w = { .pdev = pdev, .slot = slot, .fn = fn, .data = data };

	pci_walk_bus(pdev->bus, vcn_walk_filter, &w);
}

static void vcn_affected_put(struct vcn_affected *a)
{
	while (a->n)
		pci_dev_put(a->devs[--a->n]);
	kfree(a->devs);
}

static int vcn_affected_get(struct vcn_device *vdev, bool *slot,
			    struct vcn_affected *a)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int count = 0;
	int ret;

	*slot = false;
	if (!pci_probe_reset_slot(pdev->slot))
		*slot = true;
	else if (pci_probe_reset_bus(pdev->bus))
		return -ENODEV;	/* e.g. a function on the root bus */

	vcn_walk_affected(pdev, *slot, vcn_affected_count, &count);
	if (WARN_ON(!count))
		return -ERANGE;
	a->devs = kcalloc(count, sizeof(*a->devs), GFP_KERNEL);
	if (!a->devs)
		return -ENOMEM;
	a->max = count;
	a->n = 0;
	a->overflow = false;
	vcn_walk_affected(pdev, *slot, vcn_affected_add, a);
	ret = a->n != count || a->overflow ? -EAGAIN : 0; /* topology changed */
	if (ret)
		vcn_affected_put(a);
	return ret;
}

/* devid of @pdev as the caller's context knows it, or NOT_OWNED */
static s32 vcn_devid_in_ctx(struct vcn_device *vdev, struct pci_dev *pdev)
{
	struct vcn_device *other;
	s32 devid = VFIO_PCI_DEVID_NOT_OWNED;

	other = pdev == vdev->pdev ? vdev : vcn_devtable_get_by_pdev(pdev);
	if (!other)
		return devid;
	mutex_lock(&other->lock);
	if (other->open_count && other->ctx && other->ctx == READ_ONCE(vdev->ctx))
		devid = other->devid;
	mutex_unlock(&other->lock);
	if (other != vdev)
		vcn_device_put_registration(other);
	return devid;
}

long vcn_ioctl_hot_reset_info(struct vcn_device *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info __user *uinfo = arg;
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device dep;
	struct vcn_affected a;
	unsigned int i;
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;

	ret = vcn_affected_get(vdev, &slot, &a);
	if (ret)
		return ret;
	hdr.count = a.n;
	hdr.flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
		    VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	if (a.n > (hdr.argsz - sizeof(hdr)) / sizeof(dep)) {
		hdr.flags = 0;
		ret = -ENOSPC;	/* count tells the user how much room to give */
		goto out_hdr;
	}
	for (i = 0; i < a.n; i++) {
		s32 devid = vcn_devid_in_ctx(vdev, a.devs[i]);

		memset(&dep, 0, sizeof(dep));
		/* the 7.3 layout: devid shares its slot with 6.1's group_id */
		dep.group_id = devid;
		dep.segment = pci_domain_nr(a.devs[i]->bus);
		dep.bus = a.devs[i]->bus->number;
		dep.devfn = a.devs[i]->devfn;
		if (devid == VFIO_PCI_DEVID_NOT_OWNED)
			hdr.flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
		if (copy_to_user(&uinfo->devices[i], &dep, sizeof(dep))) {
			ret = -EFAULT;
			goto out;
		}
	}
out_hdr:
	if (copy_to_user(arg, &hdr, minsz))
		ret = -EFAULT;
out:
	vcn_affected_put(&a);
	return ret;
}

long vcn_ioctl_hot_reset(struct vcn_device *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset hdr;
	struct vcn_device **owned;
	struct vcn_affected a;
	unsigned int i, n = 0;
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	/* cdev form only: there are no groups, so no group fds */
	if (hdr.argsz < minsz || hdr.flags || hdr.count)
		return -EINVAL;

	ret = vcn_affected_get(vdev, &slot, &a);
	if (ret)
		return ret;
	owned = kcalloc(a.n, sizeof(*owned), GFP_KERNEL);
	if (!owned) {
		vcn_affected_put(&a);
		return -ENOMEM;
	}

	/*
	 * Every affected device stays locked from the ownership check until
	 * after the reset: none can be closed and reopened by someone else in
	 * between.
	 */
	mutex_lock(&vcn_reset_lock);
	for (i = 0; i < a.n; i++) {
		struct vcn_device *other = vcn_devtable_get_by_pdev(a.devs[i]);

		if (!other) {
			pci_warn(vdev->pdev, "hot reset refused: %s is not bound to %s\n",
				 pci_name(a.devs[i]), VCN_DRV_NAME);
			ret = -EBUSY;
			goto out_put;
		}
		owned[n++] = other;
		mutex_lock_nest_lock(&other->lock, &vcn_reset_lock);
	}
	for (i = 0; i < n; i++) {
		/* ours, but not opened in the caller's context: EINVAL */
		if (!owned[i]->open_count || !owned[i]->ctx ||
		    owned[i]->ctx != vdev->ctx) {
			ret = -EINVAL;
			goto out_put;
		}
	}
	for (i = 0; i < n; i++) {
		down_write_nest_lock(&owned[i]->memory_lock, &vcn_reset_lock);
		unmap_mapping_range(owned[i]->inode->i_mapping, 0, 0, true);
		__vcn_power_set(owned[i], PCI_D0);
	}
	ret = pci_reset_bus(vdev->pdev);	/* slot if it can, else the bus */
	for (i = 0; i < n; i++)
		vcn_memory_update_and_up_write(owned[i]);
out_put:
	while (n) {
		mutex_unlock(&owned[--n]->lock);
		vcn_device_put_registration(owned[n]);
	}
	mutex_unlock(&vcn_reset_lock);
	kfree(owned);
	vcn_affected_put(&a);
	return ret;
}
