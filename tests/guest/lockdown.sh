# SPDX-License-Identifier: GPL-2.0
# lockdown.sh - a guest booted with lockdown=integrity (the state a Secure
# Boot machine runs in). A locked-down kernel loads only signed modules, so
# the module must be signed by a key the kernel trusts (on a real machine:
# dkms's MOK key, enrolled with mokutil; here: the debug kernel's own build
# key, /rig/vfio_cdev_noiommu_signed.ko). Loaded, it must refuse to bind
# and say why: a device without an IOMMU could DMA to any memory. On a
# kernel whose key we do not have (the stock one), only the first half runs:
# the unsigned module is refused.
. /rig/lib.sh

EDU=$(find_bdf 1234 11e8)
SIGNED=/rig/vfio_cdev_noiommu_signed.ko
mkdir -p /sys/kernel/security
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
check "booted locked down: lockdown reads [integrity]" grep -q '\[integrity\]' /sys/kernel/security/lockdown
check_not "the unsigned module is refused" insmod "$KO" enable_unsafe_noiommu_mode=1
check "the kernel says why (signature)" eval "dmesg | grep -qiE 'lockdown: .*unsigned module|Loading of unsigned module is rejected|Key was rejected|module verification failed'"
check_not "nothing of it is loaded" grep -q '^vfio_cdev_noiommu ' /proc/modules
if [ -f "$SIGNED" ]; then
	check "the signed module loads" insmod "$SIGNED" enable_unsafe_noiommu_mode=1
	check "the context node exists (loading is allowed, binding is not)" test -c "$CTX"
	dmesg -c >/dev/null
	override "$EDU" "$DRV"
	probe "$EDU"
	check_not "under boot-time lockdown, edu is not bound" is_bound "$EDU"
	check "the refusal says lockdown and DMA to any memory" dmesg_has "$EDU: refusing to bind: the kernel is locked down, and a device without an IOMMU could DMA to any memory"
	check "no device node" test -z "$(ls /dev/vfio/devices 2>/dev/null)"
	check_not "no TAINT_USER" tainted_user
	check "new_id is refused the same way" eval "echo '1234 11e8' > $DRVDIR/new_id; ! is_bound $EDU"
	check "lockdown raised to confidentiality" eval "echo confidentiality > /sys/kernel/security/lockdown && grep -q '\\[confidentiality\\]' /sys/kernel/security/lockdown"
	dmesg -c >/dev/null
	probe "$EDU"
	check_not "under confidentiality, edu is not bound either" is_bound "$EDU"
	check "and the refusal names lockdown" dmesg_has "refusing to bind: the kernel is locked down"
	check "rmmod" rmmod vfio_cdev_noiommu
fi
dmesg_clean
echo "# suite done, $FAILS failed"
