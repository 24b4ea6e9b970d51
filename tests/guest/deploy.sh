# SPDX-License-Identifier: GPL-2.0
# deploy.sh - what an admin installs, tested the way an admin uses it, in a
# guest without an IOMMU: the module under /lib/modules with depmod, the
# modprobe.d example (the parameter, ids=, a softdep ahead of the device's
# own driver), the udev rules with the machine's real udevd and udevadm
# (root-only nodes, then the opt-in group), and scripts/vfio-noiommu-bind
# (status, bind, hand back to the previous driver, every refusal).
. /rig/lib.sh

EDU=$(find_bdf 1234 11e8)
NVME=$(find_bdf 1b36 0010)
BRIDGE=$(find_bdf 1b36 0001)
TOOL=/rig/vfio-noiommu-bind
KREL=$(uname -r)
echo "# edu=$EDU nvme=$NVME bridge=$BRIDGE"

# the machine's kmod and udev, not busybox's applets (which busybox's sh
# prefers to anything on PATH: hence the full paths)
mkdir -p /usr/sbin /lib/systemd /etc/modprobe.d /etc/udev/rules.d /run/udev "/lib/modules/$KREL/updates"
for t in modprobe depmod modinfo; do ln -sf /usr/bin/kmod "/usr/sbin/$t"; done
ln -sf /usr/bin/udevadm /lib/systemd/systemd-udevd
export MODPROBE=/usr/sbin/modprobe	# the tool uses it too
DEPMOD=/usr/sbin/depmod
# the machine's module tree: nvme and its dependencies beside ours
for m in $(cat /rig/kmod/nvme.order 2>/dev/null); do cp "/rig/kmod/$m" "/lib/modules/$KREL/updates/"; done
touch "/lib/modules/$KREL/modules.order" "/lib/modules/$KREL/modules.builtin"
$DEPMOD -a

# tool ARGS...: runs the tool, keeps its output in /tmp/tool.out and its
# exit status in $rc; gave RC TEXT: it exited RC and said TEXT
tool() { "$TOOL" "$@" >/tmp/tool.out 2>&1; rc=$?; }
gave() {
	[ "$rc" = "$1" ] && grep -q -- "$2" /tmp/tool.out && return 0
	echo "#   exit $rc (want $1), output (want \"$2\"):"; sed 's/^/#   | /' /tmp/tool.out; return 1
}
mode_of() { stat -c '%U:%G %a' "$1"; }
has_mode() { [ "$(mode_of "$1")" = "$2" ] || { echo "#   $1 is $(mode_of "$1"), want $2"; return 1; }; }
node_path() { echo "/dev/vfio/devices/$(node_name "$1")"; }

# ---- the tool before the module is installed ----
tool status
check "tool status lists edu with no driver and no node" gave 0 "^$EDU  *1234:11e8  *00ff  *-  *-  *\$"
check "tool status says the module is not loaded" gave 0 "module vfio_cdev_noiommu is not loaded"
tool bind "$EDU"
check "tool bind without the module: exit 1, says to install it" gave 1 "modprobe cannot load it: install it"
check_not "tool bind without the module: edu stays unbound" is_bound "$EDU"

# ---- installed module, no modprobe.d: the tool loads it, the parameter is off ----
cp "$KO" "/lib/modules/$KREL/updates/" && $DEPMOD -a
check "modinfo finds the installed module through depmod" eval "/usr/sbin/modinfo vfio_cdev_noiommu | grep -q '^parm: *enable_unsafe_noiommu_mode'"
load_kmods nvme >/dev/null 2>&1
check "the nvme kernel driver holds the NVMe device" test "$(driver_of "$NVME")" = nvme
tool bind "$NVME"
check "tool bind with the parameter off: exit 1, says how to turn it on" gave 1 "no-IOMMU mode is off: a bound device can DMA to any memory; to accept that, echo Y >"
check "tool bind with the parameter off loaded the module (modprobe)" grep -q '^vfio_cdev_noiommu ' /proc/modules
check "tool bind with the parameter off: nvme keeps the device" test "$(driver_of "$NVME")" = nvme
rmmod vfio_cdev_noiommu

# ---- the modprobe.d example ----
cp /rig/vfio-cdev-noiommu.conf /etc/modprobe.d/
check "modprobe with the example: the parameter is on" eval "$MODPROBE vfio_cdev_noiommu && grep -qx Y $PARAMS/enable_unsafe_noiommu_mode"
check "the example binds nothing by itself (ids= is commented out)" test "$(driver_of "$EDU")" = none
rmmod vfio_cdev_noiommu
sed -i 's/^#options vfio_cdev_noiommu ids=.*/options vfio_cdev_noiommu ids=1234:11e8/' /etc/modprobe.d/vfio-cdev-noiommu.conf
check "modprobe with the example's ids= line binds edu at load" eval "$MODPROBE vfio_cdev_noiommu && is_bound $EDU && node_matches_sysfs $EDU"
rmmod vfio_cdev_noiommu
# the softdep: loading the device's own driver loads us first, so ids= wins
rmmod nvme nvme_core 2>/dev/null
sed -i -e 's/^options vfio_cdev_noiommu ids=.*/options vfio_cdev_noiommu ids=1b36:0010/' \
	-e 's/^#softdep nvme pre: vfio_cdev_noiommu/softdep nvme pre: vfio_cdev_noiommu/' /etc/modprobe.d/vfio-cdev-noiommu.conf
if [ -f /rig/kmod/nvme.order ]; then
	check "with the example's softdep, modprobe nvme hands the NVMe device to us" eval "$MODPROBE nvme && is_bound $NVME"
	check "... and loaded nvme too" grep -q '^nvme ' /proc/modules
else
	# nvme is built into this kernel (cloud): it owns the device before any
	# module loads, no softdep applies, and ids= never takes a bound device
	echo "# nvme is built into $KREL: the softdep cannot apply here"
	check "nvme built in: modprobe with ids= leaves the NVMe device with nvme" \
		eval "$MODPROBE vfio_cdev_noiommu && [ \"\$(driver_of $NVME)\" = nvme ]"
	override "$NVME" "$DRV"; unbind "$NVME"; probe "$NVME"
	check "nvme built in: driver_override moves the NVMe device to us" is_bound "$NVME"
fi

# ---- udev: root only by default, a group when the admin opts in ----
cp /rig/70-vfio-cdev-noiommu.rules /etc/udev/rules.d/
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n' >>/etc/passwd
printf 'root:x:0:\nvfio-noiommu:x:990:\nnogroup:x:65534:\n' >>/etc/group
/lib/systemd/systemd-udevd --daemon >/tmp/udevd.log 2>&1
check "udevd runs" eval "sleep 1; pidof systemd-udevd || { cat /tmp/udevd.log; false; }"
chmod 0666 "$CTX" "$(node_path "$NVME")"	# so that udev's work shows
# a misc node of someone else's, with a mode no rule would give it: a rule
# matching too wide (all of misc, any "iommu*") would reset it
chmod 0640 /dev/cpu_dma_latency
trigger() { /usr/bin/udevadm trigger --action=add -s vfio_cdev_noiommu -s misc && /usr/bin/udevadm settle -t 30; }
trigger
check "udev: the device node is root:root 0600" test "$(mode_of "$(node_path "$NVME")")" = "root:root 600"
check "udev: $CTX is root:root 0600" has_mode "$CTX" "root:root 600"
cp /rig/71-vfio-cdev-noiommu-group.rules /etc/udev/rules.d/
/usr/bin/udevadm control --reload
trigger
check "udev, opt-in group: the device node is root:vfio-noiommu 0660" test "$(mode_of "$(node_path "$NVME")")" = "root:vfio-noiommu 660"
check "udev, opt-in group: $CTX is root:vfio-noiommu 0660" has_mode "$CTX" "root:vfio-noiommu 660"
override "$EDU" "$DRV"; probe "$EDU"; /usr/bin/udevadm settle -t 30
check "udev: a device bound later gets the group by itself" test "$(mode_of "$(node_path "$EDU")")" = "root:vfio-noiommu 660"
check "udev left another misc node alone (cpu_dma_latency still 0640)" has_mode /dev/cpu_dma_latency "root:root 640"
/usr/bin/udevadm control --exit
rm -f /etc/udev/rules.d/7*-vfio-cdev-noiommu*.rules /etc/modprobe.d/vfio-cdev-noiommu.conf
rmmod vfio_cdev_noiommu
override "$EDU" ""; override "$NVME" ""; probe "$NVME"

# ---- the binding tool: hand the NVMe device over and back ----
$MODPROBE vfio_cdev_noiommu enable_unsafe_noiommu_mode=1
check "nvme holds the NVMe device again" test "$(driver_of "$NVME")" = nvme
tool bind "${NVME#0000:}"
check "tool bind (short BDF): exit 0, prints the node" gave 0 "$NVME: bound (was nvme): /dev/vfio/devices/noiommu-vfio"
check "tool bind: the device is ours, its node matches sysfs" eval "is_bound $NVME && node_matches_sysfs $NVME"
tool status
check "tool status shows our driver and the node" gave 0 "^$NVME  *1b36:0010  *0108  *$DRV  *-  */dev/vfio/devices/noiommu-vfio"
tool bind "$NVME"
check "tool bind of a bound device: exit 0, says so" gave 0 "already bound"
tool unbind "$NVME"
check "tool unbind: exit 0, handed back to nvme" gave 0 "unbound, now nvme"
check "tool unbind: nvme holds it, driver_override cleared" eval "[ \"\$(driver_of $NVME)\" = nvme ] && [ \"\$(cat /sys/bus/pci/devices/$NVME/driver_override)\" = '(null)' ]"
tool unbind "$NVME"
check "tool unbind of a device not ours: exit 1, names its driver" gave 1 "not bound to $DRV (driver: nvme)"
tool bind "$EDU"
check "tool bind of a driverless device" gave 0 "$EDU: bound (was -)"
tool unbind "$EDU"
check "tool unbind of it: back to no driver" eval "gave 0 'unbound, now -' && [ \"\$(driver_of $EDU)\" = none ]"

# ---- the tool's refusals ----
tool bind "$BRIDGE"
check "tool bind of a bridge: exit 1, says so" gave 1 "is a bridge"
tool bind 0000:00:1f.7
check "tool bind of a missing device: exit 1" gave 1 "no such PCI device"
tool bind banana
check "tool bind of garbage: exit 1, says the format" gave 1 "not a PCI address"
tool frobnicate
check "tool with an unknown command: exit 2, usage" gave 2 "vfio-noiommu-bind bind BDF"
tool bind
check "tool bind without a BDF: exit 2, usage" gave 2 "vfio-noiommu-bind bind BDF"
/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups "$TOOL" bind "$NVME" >/tmp/tool.out 2>&1; rc=$?
check "tool bind as a non-root user: exit 1, needs root" gave 1 "bind needs root"
set_param enable_unsafe_noiommu_mode 0
tool bind "$NVME"
check "tool bind with the parameter turned off: exit 1" gave 1 "no-IOMMU mode is off"
check "... and nvme keeps the device" test "$(driver_of "$NVME")" = nvme
set_param enable_unsafe_noiommu_mode 1
check "rmmod" rmmod vfio_cdev_noiommu
finish
