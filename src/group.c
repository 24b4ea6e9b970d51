// SPDX-License-Identifier: GPL-2.0
/*
 * group.c - the group-facing steps of the device lifecycle.
 *
 * Upstream vfio calls into group.c at fixed points of a device's life: when it
 * is registered (set the group, register with it), when a cdev binds (block
 * the group so its legacy interface cannot open the device too), and when the
 * device goes away. (Upstream also asks whether a group's container is in
 * use; with no group there is none, and nothing here ever asks.) A device of
 * cdev no-IOMMU mode has no iommu_group, and upstream's code then behaves as
 * written below. Keeping the steps as named calls (rather than deleting them)
 * keeps our lifecycle line-for-line comparable with upstream's, and is the
 * one place to change should a group ever be needed.
 *
 * Observable result: no iommu_group is created or attached, no /dev/vfio/N or
 * /dev/vfio/noiommu-N appears, and nothing here can refuse or block an open.
 */
#include "vcn.h"

/* No iommu_group exists for the device, so there is none to set. */
int vcn_group_set(struct vcn_device *vdev)
{
	return 0;
}

void vcn_group_remove(struct vcn_device *vdev)
{
}

/* With no group there are no group files to create or remove. */
void vcn_group_register(struct vcn_device *vdev)
{
}

void vcn_group_unregister(struct vcn_device *vdev)
{
}

/*
 * Blocking the group guards against the group interface opening a device that
 * a cdev has bound; with no group that can never happen, and it succeeds.
 */
int vcn_group_block(struct vcn_device *vdev)
{
	return 0;
}

void vcn_group_unblock(struct vcn_device *vdev)
{
}
