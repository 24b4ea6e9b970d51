/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfio_cdev_noiommu.h - the upstream Linux 7.3 cdev no-IOMMU uAPI, for
 * systems whose <linux/vfio.h> and <linux/iommufd.h> predate it.
 *
 * Include it instead of (or after) the system headers. Every name, number and
 * layout is upstream's; each block is guarded by its ioctl macro, so the file
 * compiles cleanly whether or not the system headers already define them.
 * Nothing here is specific to this module: a program built against it runs
 * unchanged on an upstream kernel with CONFIG_IOMMUFD_NOIOMMU.
 *
 * It is also the module's own source of these definitions (kernel 6.1 has
 * neither the vfio cdev ioctls nor the iommufd uAPI).
 */
#ifndef _VFIO_CDEV_NOIOMMU_H
#define _VFIO_CDEV_NOIOMMU_H

#ifdef __KERNEL__
/* the module's build probes the kernel's headers (scripts/conftest.sh) */
#include <linux/types.h>
#include <uapi/linux/ioctl.h>
#include <uapi/linux/vfio.h>
#ifdef VCN_HAVE_UAPI_IOMMUFD_H
#include <uapi/linux/iommufd.h>
#endif
#else
#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>
#if defined(__has_include)
#if __has_include("linux/iommufd.h")
#include <linux/iommufd.h>
#endif
#endif
#endif

/* ---- <linux/vfio.h>: device cdev ioctls (upstream 6.6+) ---- */

#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32		argsz;
	__u32		flags;
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
	__s32		iommufd;
	__u32		out_devid;
	__aligned_u64	token_uuid_ptr;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	__u32	argsz;
	__u32	flags;
#define VFIO_DEVICE_ATTACH_PASID	(1 << 0)
	__u32	pt_id;
	__u32	pasid;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
struct vfio_device_detach_iommufd_pt {
	__u32	argsz;
	__u32	flags;
#define VFIO_DEVICE_DETACH_PASID	(1 << 0)
	__u32	pasid;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

#ifndef VFIO_DEVICE_BIND_FLAG_TOKEN
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
#endif
#ifndef VFIO_DEVICE_ATTACH_PASID
#define VFIO_DEVICE_ATTACH_PASID	(1 << 0)
#endif
#ifndef VFIO_DEVICE_DETACH_PASID
#define VFIO_DEVICE_DETACH_PASID	(1 << 0)
#endif

/* hot reset in the cdev form (upstream 6.5+); devid shares group_id's slot */
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID		(1 << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED	(1 << 1)
#endif
#ifndef VFIO_PCI_DEVID_OWNED
#define VFIO_PCI_DEVID_OWNED		0
#define VFIO_PCI_DEVID_NOT_OWNED	-1
#endif

/* ---- <linux/iommufd.h> (upstream 6.2+) ---- */

#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')
#endif

/* Command numbers, as upstream's enum; macros so that they can be guarded. */
#define VCN_IOMMUFD_CMD_BASE			0x80
#define VCN_IOMMUFD_CMD_DESTROY			0x80
#define VCN_IOMMUFD_CMD_IOAS_ALLOC		0x81
#define VCN_IOMMUFD_CMD_IOAS_IOVA_RANGES	0x84
#define VCN_IOMMUFD_CMD_IOAS_MAP		0x85
#define VCN_IOMMUFD_CMD_IOAS_UNMAP		0x86
#define VCN_IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA	0x95

#ifndef IOMMU_DESTROY
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, VCN_IOMMUFD_CMD_DESTROY)
#endif

#ifndef IOMMU_IOAS_ALLOC
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, VCN_IOMMUFD_CMD_IOAS_ALLOC)
#endif

#ifndef IOMMU_IOAS_IOVA_RANGES
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, VCN_IOMMUFD_CMD_IOAS_IOVA_RANGES)
#endif

#ifndef IOMMU_IOAS_MAP
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, VCN_IOMMUFD_CMD_IOAS_MAP)
#endif

#ifndef IOMMU_IOAS_UNMAP
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, VCN_IOMMUFD_CMD_IOAS_UNMAP)
#endif

#ifndef IOMMU_IOAS_NOIOMMU_GET_PA
struct iommu_ioas_noiommu_get_pa {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_phys;
};
#define IOMMU_IOAS_NOIOMMU_GET_PA \
	_IO(IOMMUFD_TYPE, VCN_IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA)
#endif

#endif /* _VFIO_CDEV_NOIOMMU_H */
