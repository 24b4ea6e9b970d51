# SPDX-License-Identifier: GPL-2.0
# iommu.sh - the in-guest suite on a guest WITH a virtual IOMMU (intel-iommu):
# every device has an IOMMU group, so every bind must be refused.
. /rig/lib.sh

EDU=$(find_bdf 1234 11e8)
NVME=$(find_bdf 1b36 0010)
check "the guest really has an IOMMU: edu has an iommu_group" test -e "/sys/bus/pci/devices/$EDU/iommu_group"
check "insmod with the parameter on" insmod "$KO" enable_unsafe_noiommu_mode=1
override "$EDU" "$DRV"
check "the bind write itself succeeds" probe "$EDU"
check_not "edu behind an IOMMU is refused" is_bound "$EDU"
check "the refusal says the device has an IOMMU and names vfio-pci" dmesg_has "$EDU: refusing to bind: device is behind an IOMMU; use vfio-pci"
check "no node created" test -z "$(ls /dev/vfio/devices 2>/dev/null)"
check_not "no TAINT_USER" tainted_user
check_not "new_id is refused the same way for nvme" sh -c "echo '1b36 0010' > $DRVDIR/new_id; [ -e /sys/bus/pci/devices/$NVME/vfio-dev ]"
/rig/vfio-noiommu-bind bind "$EDU" >/tmp/tool.out 2>&1; rc=$?
check "the binding tool refuses a device with an IOMMU: exit 1, names vfio-pci" \
	eval "[ $rc = 1 ] && grep -q 'has an IOMMU (group [0-9]*): use vfio-pci' /tmp/tool.out"
check "the binding tool left edu's driver_override alone" test "$(cat /sys/bus/pci/devices/$EDU/driver_override)" = "$DRV"
check "rmmod" rmmod vfio_cdev_noiommu

# ---- lockdown: raised at run time (a locked-down boot would refuse our
# unsigned module before we could test anything); it cannot be lowered
# again, so it comes last, after the leak scan it would forbid ----
kmemleak_clean
check "insmod with the parameter on" insmod "$KO" enable_unsafe_noiommu_mode=1
mkdir -p /sys/kernel/security
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
check "lockdown can be raised to integrity" sh -c "echo integrity > /sys/kernel/security/lockdown && grep -q '\\[integrity\\]' /sys/kernel/security/lockdown"
dmesg -c >/dev/null
probe "$EDU"
check_not "under lockdown, no device binds" is_bound "$EDU"
check "the refusal names lockdown" dmesg_has "refusing to bind: the kernel is locked down"
check "rmmod under lockdown" rmmod vfio_cdev_noiommu
finish
