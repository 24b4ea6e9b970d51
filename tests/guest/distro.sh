# SPDX-License-Identifier: GPL-2.0
# distro.sh - a kernel with its own iommufd and vfio, configured as Ubuntu's,
# Fedora's and RHEL's are (scripts/build-kernel.sh distro). The module serves
# /dev/vfio/noiommu-iommufd and leaves /dev/iommu to the kernel, in both
# load orders; the kernel's vfio-pci drives another edu at the same time;
# neither side disturbs the other's device table, nodes, udev rules or
# module removal. Without an IOMMU the kernel's side runs vfio's own
# no-IOMMU group mode; with intel-iommu, its cdev through its iommufd.
. /rig/lib.sh

EDU=$(find_bdf 1234 11e8 1 root)	# ours
EDU2=$(find_bdf 1234 11e8 1 port)	# the kernel's vfio-pci's
NVME=$(find_bdf 1b36 0010)
IOMMU=0; [ -n "$(ls /sys/class/iommu 2>/dev/null)" ] && IOMMU=1
OURS=/dev/vfio/noiommu-iommufd
echo "# edu=$EDU edu2=$EDU2 nvme=$NVME iommu=$IOMMU"

# dev_is NODE MAJ:MIN: NODE is that character device
dev_is() {
	[ -c "$1" ] && [ "$(printf '%d:%d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")")" = "$2" ]
}
kernel_vfio() {	# bind edu2 to the kernel's vfio-pci
	[ "$IOMMU" = 1 ] || echo Y >/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
	override "$EDU2" vfio-pci; probe "$EDU2"
	[ "$(driver_of "$EDU2")" = vfio-pci ]
}
kvfio() {	# the kernel's device (and ours, without an IOMMU) from one program
	if [ "$IOMMU" = 1 ]; then VCN_KVFIO_BDF=$EDU2 /rig/kvfio 'cdev_*'
	else VCN_KVFIO_BDF=$EDU2 VCN_EDU_BDF=$EDU /rig/kvfio 'group_*'; fi
}
ours_bind() {	# without an IOMMU: edu is ours; with one: refused
	override "$EDU" "$DRV"; probe "$EDU"
	if [ "$IOMMU" = 1 ]; then ! is_bound "$EDU" && dmesg_has "$EDU: refusing to bind: device is behind an IOMMU; use vfio-pci"
	else is_bound "$EDU"; fi
}
kernel_off() {	# edu2 back, the kernel's vfio-pci, vfio and iommufd unloaded
	override "$EDU2" ""; unbind "$EDU2" 2>/dev/null
	unload_kmods vfio-pci && ! grep -q '^iommufd ' /proc/modules
}

check "this kernel has its own iommufd (packed as a module of vfio-pci's)" kernel_has_iommufd
[ "$IOMMU" = 1 ] && check "the guest has an IOMMU: edu2 has an iommu_group" test -e "/sys/bus/pci/devices/$EDU2/iommu_group"

# ---- the kernel's stack first ----
check "the kernel's vfio-pci, vfio and iommufd load first" load_kmods vfio-pci
check "the kernel's iommufd serves /dev/iommu" test -c /dev/iommu
KDEV=$(cat /sys/class/misc/iommu/dev)
check "the kernel's vfio-pci takes edu2" kernel_vfio
check "our module loads beside them" insmod "$KO" enable_unsafe_noiommu_mode=1
check "sysfs names our node, $OURS" grep -qx "$OURS" "$PARAMS/iommufd_node"
check "$OURS is a char device, mode 0600" sh -c "[ -c $OURS ] && [ \"\$(stat -c %a $OURS)\" = 600 ]"
check "/dev/iommu is still the kernel's ($KDEV)" dev_is /dev/iommu "$KDEV"
check "our node is another misc device" sh -c "[ \"\$(cat /sys/class/misc/noiommu-iommufd/dev)\" != $KDEV ]"
check "edu: ours$([ "$IOMMU" = 1 ] && echo ' refuses it (IOMMU), naming vfio-pci')" ours_bind
check "edu2 stays with the kernel's vfio-pci" test "$(driver_of "$EDU2")" = vfio-pci
check "edu2's vfio-dev entry is the kernel's (vfioN), not ours" sh -c "ls /sys/bus/pci/devices/$EDU2/vfio-dev | grep -qx 'vfio[0-9]*'"
[ "$IOMMU" = 0 ] && check "edu's vfio-dev entry is ours (noiommu-vfioN)" node_matches_sysfs "$EDU"
kvfio
if [ "$IOMMU" = 0 ]; then
	# everything of ours on this kernel, with the kernel's iommufd loaded
	override "$NVME" "$DRV"; probe "$NVME"
	check "nvme: ours" is_bound "$NVME"
	VCN_VERBOSE=1 VCN_BDF=$EDU /rig/vcn_test
	VCN_VERBOSE=1 VCN_BDF=$EDU /rig/ioas_test
	VCN_VERBOSE=1 VCN_EDU_BDF=$EDU /rig/edu_dma
	VCN_VERBOSE=1 VCN_NVME_BDF=$NVME /rig/nvme_drv
	override "$NVME" ""; unbind "$NVME"
fi

# ---- udev: our rules never touch the kernel's /dev/iommu ----
# udev itself gives /dev/iommu the mode the kernel's iommufd asks for
# (DEVMODE): what /dev/iommu gets with no rules of ours is the baseline,
# and with our rules it must get exactly that
mkdir -p /etc/udev/rules.d /run/udev /lib/systemd
ln -sf /usr/bin/udevadm /lib/systemd/systemd-udevd
printf 'root:x:0:0:root:/:/bin/sh\n' >>/etc/passwd
printf 'root:x:0:\nvfio-noiommu:x:990:\n' >>/etc/group
/lib/systemd/systemd-udevd --daemon >/tmp/udevd.log 2>&1
check "udevd runs" eval "sleep 1; pidof systemd-udevd || { cat /tmp/udevd.log; false; }"
trigger() { /usr/bin/udevadm trigger --action=add -s misc -s vfio_cdev_noiommu && /usr/bin/udevadm settle -t 30; }
chmod 0606 /dev/iommu "$OURS"	# modes nothing gives: what udev changes shows
trigger
base=$(stat -c '%U:%G %a' /dev/iommu)
echo "# /dev/iommu with no rules of ours: $base"
cp /rig/70-vfio-cdev-noiommu.rules /rig/71-vfio-cdev-noiommu-group.rules /etc/udev/rules.d/
/usr/bin/udevadm control --reload
chmod 0606 /dev/iommu "$OURS"
trigger
check "udev: our node gets the opt-in group, root:vfio-noiommu 0660" sh -c "[ \"\$(stat -c '%U:%G %a' $OURS)\" = 'root:vfio-noiommu 660' ]"
check "udev: the kernel's /dev/iommu gets what it gets without our rules ($base)" \
	sh -c "[ \"\$(stat -c '%U:%G %a' /dev/iommu)\" = '$base' ] || { stat -c '%U:%G %a' /dev/iommu; false; }"
/usr/bin/udevadm control --exit
rm -f /etc/udev/rules.d/7*-vfio-cdev-noiommu*.rules

# ---- removal: ours first, the kernel's device goes on ----
check "rmmod ours while the kernel's vfio-pci holds edu2" rmmod vfio_cdev_noiommu
check "our node is gone, /dev/iommu is still the kernel's" sh -c "[ ! -e $OURS ] && [ -c /dev/iommu ] && [ \"\$(cat /sys/class/misc/iommu/dev)\" = $KDEV ]"
check "edu2 is still the kernel's vfio-pci's" test "$(driver_of "$EDU2")" = vfio-pci
if [ "$IOMMU" = 1 ]; then
	kvfio
else
	VCN_KVFIO_BDF=$EDU2 /rig/kvfio group_noiommu_alone
fi
check "the kernel's stack unloads after ours" kernel_off

# ---- ours first: never takes the name the kernel's iommufd will want ----
check "our module loads alone" insmod "$KO" enable_unsafe_noiommu_mode=1
check "alone, it still serves $OURS and leaves /dev/iommu free" sh -c "[ -c $OURS ] && [ ! -e /dev/iommu ] && [ ! -e /sys/class/misc/iommu ]"
check "edu: ours$([ "$IOMMU" = 1 ] && echo " refuses it (IOMMU)") again" ours_bind
check "then the kernel's vfio-pci, vfio and iommufd load" load_kmods vfio-pci
check "and the kernel's iommufd gets /dev/iommu" sh -c "[ -c /dev/iommu ] && [ -e /sys/class/misc/iommu ]"
KDEV=$(cat /sys/class/misc/iommu/dev)
check "the kernel's vfio-pci takes edu2" kernel_vfio
kvfio
# ---- removal: the kernel's first, ours goes on ----
check "the kernel's stack unloads while ours holds edu" kernel_off
if [ "$IOMMU" = 0 ]; then
	check "ours still works: uAPI smoke" /rig/vcn_tool info "$EDU"
	VCN_VERBOSE=1 VCN_EDU_BDF=$EDU /rig/edu_dma 'dma_*'
fi
check "rmmod ours" rmmod vfio_cdev_noiommu
check "nothing left: no node of ours, no /dev/iommu" sh -c "[ ! -e $OURS ] && [ ! -e /dev/iommu ] && [ -z \"\$(ls /dev/vfio/devices 2>/dev/null)\" ]"
override "$EDU" ""
finish
