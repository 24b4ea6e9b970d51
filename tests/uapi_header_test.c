// SPDX-License-Identifier: GPL-2.0
/*
 * uapi_header_test.c - include/vfio_cdev_noiommu.h must give userspace
 * upstream 7.3's names, numbers and layouts, whether the system headers lack
 * them (Debian 12), have some (6.12's) or have all (7.3's). Compiled by
 * tests/run.sh against each of those header sets with -Werror; the asserts
 * pin every number and offset to upstream's.
 */
#include <stddef.h>
#include <linux/vfio.h>
#include "vfio_cdev_noiommu.h"
#include "vfio_cdev_noiommu.h"	/* twice: the guard holds */

#ifdef __cplusplus
#define SA static_assert
#else
#define SA _Static_assert
#endif

#define IOC(nr) _IO(';', nr)
SA(IOMMUFD_TYPE == ';', "type");
SA(IOMMU_DESTROY == IOC(0x80), "destroy");
SA(IOMMU_IOAS_ALLOC == IOC(0x81), "alloc");
SA(IOMMU_IOAS_IOVA_RANGES == IOC(0x84), "ranges");
SA(IOMMU_IOAS_MAP == IOC(0x85), "map");
SA(IOMMU_IOAS_UNMAP == IOC(0x86), "unmap");
SA(IOMMU_IOAS_NOIOMMU_GET_PA == IOC(0x95), "get_pa");
SA(VFIO_DEVICE_BIND_IOMMUFD == _IO(';', 100 + 18), "bind");
SA(VFIO_DEVICE_ATTACH_IOMMUFD_PT == _IO(';', 100 + 19), "attach");
SA(VFIO_DEVICE_DETACH_IOMMUFD_PT == _IO(';', 100 + 20), "detach");
SA(VFIO_DEVICE_BIND_FLAG_TOKEN == 1 && VFIO_DEVICE_ATTACH_PASID == 1 &&
   VFIO_DEVICE_DETACH_PASID == 1, "flags");
SA(IOMMU_IOAS_MAP_FIXED_IOVA == 1 && IOMMU_IOAS_MAP_WRITEABLE == 2 &&
   IOMMU_IOAS_MAP_READABLE == 4, "map flags");

SA(sizeof(struct iommu_destroy) == 8, "destroy size");
SA(sizeof(struct iommu_ioas_alloc) == 12, "alloc size");
SA(sizeof(struct iommu_ioas_iova_ranges) == 32 &&
   offsetof(struct iommu_ioas_iova_ranges, out_iova_alignment) == 24, "ranges");
SA(sizeof(struct iommu_iova_range) == 16, "range");
SA(sizeof(struct iommu_ioas_map) == 40 &&
   offsetof(struct iommu_ioas_map, user_va) == 16 &&
   offsetof(struct iommu_ioas_map, iova) == 32, "map");
SA(sizeof(struct iommu_ioas_unmap) == 24 &&
   offsetof(struct iommu_ioas_unmap, length) == 16, "unmap");
SA(sizeof(struct iommu_ioas_noiommu_get_pa) == 40 &&
   offsetof(struct iommu_ioas_noiommu_get_pa, iova) == 16 &&
   offsetof(struct iommu_ioas_noiommu_get_pa, length) == 24 &&
   offsetof(struct iommu_ioas_noiommu_get_pa, out_phys) == 32, "get_pa");
/* 6.6's bind struct ended at out_devid; token_uuid_ptr came later */
SA(offsetof(struct vfio_device_bind_iommufd, out_devid) == 12, "bind");
SA(sizeof(struct vfio_device_attach_iommufd_pt) >= 12 &&
   offsetof(struct vfio_device_attach_iommufd_pt, pt_id) == 8, "attach");
SA(offsetof(struct vfio_device_detach_iommufd_pt, flags) == 4, "detach");

int vcn_header_test(void);
int vcn_header_test(void)
{
	struct iommu_ioas_noiommu_get_pa g = { sizeof(g), 0, 0, 0, 0, 0, 0 };

	return (int)g.size;
}
