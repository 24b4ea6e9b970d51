# SPDX-License-Identifier: GPL-2.0
# demo.sh - what `make demo` shows inside the guest, step by step.
. /rig/lib.sh
say() { echo; echo ">>> $*"; }
EDU=$(find_bdf 1234 11e8)
say "stock Debian kernel $(uname -r); no IOMMU: $(ls /sys/kernel/iommu_groups | wc -l) iommu groups"
say "insmod vfio_cdev_noiommu.ko enable_unsafe_noiommu_mode=1"
insmod "$KO" enable_unsafe_noiommu_mode=1
echo "context node: $(cat "$PARAMS/iommufd_node")"
say "bind the QEMU edu device $EDU: driver_override + drivers_probe"
echo "$DRV" >"/sys/bus/pci/devices/$EDU/driver_override"
echo "$EDU" >/sys/bus/pci/drivers_probe
echo "driver: $(driver_of "$EDU")"
echo "sysfs:  $(ls -d /sys/bus/pci/devices/"$EDU"/vfio-dev/*) dev=$(cat /sys/bus/pci/devices/"$EDU"/vfio-dev/*/dev)"
ls -l /dev/vfio/devices/
dmesg | grep -E "vfio|$EDU" | tail -n 3
echo "kernel taint: $(cat /proc/sys/kernel/tainted) (TAINT_USER bit 6 set: $(tainted_user && echo yes || echo no))"
say "userspace: open the cdev, VFIO_DEVICE_BIND_IOMMUFD, IOMMU_IOAS_ALLOC, ATTACH, GET_INFO"
/rig/vcn_tool info "$EDU"
say "edu: BAR0 through mmap, a DMA to and from pinned memory, completion by MSI"
VCN_VERBOSE=1 VCN_EDU_BDF=$EDU /rig/edu_dma bar0_config_and_registers dma_completion_msi |
	grep -E '^(ok|not ok)|pass: .*(0x010000ed|eventfd|bytes|GET_PA|PA)' | head -n 24
NVME=$(find_bdf 1b36 0010)
say "nvme $NVME: a userspace NVMe driver through the cdev (new_id binds it)"
echo "1b36 0010" >"$DRVDIR/new_id"
echo "driver: $(driver_of "$NVME"), node $(node_name "$NVME")"
VCN_NVME_BDF=$NVME /rig/nvme_drv --demo
say "unbind and rmmod"
echo "$EDU" >"$DRVDIR/unbind"
echo "$NVME" >"$DRVDIR/unbind"
rmmod vfio_cdev_noiommu && echo "module removed; /dev/vfio/devices: $(ls /dev/vfio/devices 2>/dev/null | wc -l) nodes"
