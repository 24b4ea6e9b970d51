// SPDX-License-Identifier: GPL-2.0
/*
 * pseudofs.c - one anonymous inode per device.
 *
 * Every open file of a device points its f_mapping at the device's inode, so
 * all BAR mmaps of the device, through any file, live in one address_space
 * and unmap_mapping_range() revokes them at once (on reset, when memory
 * decode goes off, on close and unbind). The inode lives on a private pseudo
 * filesystem that is mounted internally while any device exists.
 */
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "vcn.h"

#define VCN_FS_MAGIC	0x76636e66	/* "vcnf" */

static struct vfsmount *vcn_fs_mnt;
static int vcn_fs_count;

static int vcn_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, VCN_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No .owner: the internal mount lives exactly as long as some device does,
 * and module exit unregisters every device first, so the mount cannot
 * outlive the module. An owner would pin the module while any device is
 * bound and make rmmod fail instead of unbinding them.
 */
static struct file_system_type vcn_fs_type = {
	.name = "vfio_cdev_noiommu",
	.init_fs_context = vcn_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

struct inode *vcn_pseudofs_inode(void)
{
	struct inode *inode;
	int ret;

	ret = simple_pin_fs(&vcn_fs_type, &vcn_fs_mnt, &vcn_fs_count);
	if (ret)
		return ERR_PTR(ret);
	inode = alloc_anon_inode(vcn_fs_mnt->mnt_sb);
	if (IS_ERR(inode))
		simple_release_fs(&vcn_fs_mnt, &vcn_fs_count);
	return inode;
}

void vcn_pseudofs_put_inode(struct inode *inode)
{
	iput(inode);
	simple_release_fs(&vcn_fs_mnt, &vcn_fs_count);
}
