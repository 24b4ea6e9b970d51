# SPDX-License-Identifier: GPL-2.0
# suite.sh - the in-guest suite on a guest without an IOMMU: module load and
# parameters, every way of binding, the refusals, the groupless device table,
# the cdev and sysfs layout, the uAPI suite (vcn_test), concurrency, and
# coexistence with the kernel's own vfio modules. One TAP line per check.
. /rig/lib.sh

EDU=$(find_bdf 1234 11e8 1 root)
EDU3=$(find_bdf 1234 11e8 2 root)	# shares EDU's legacy INTx line
EDU2=$(find_bdf 1234 11e8 1 port)	# behind a PCIe root port,
TESTDEV2=$(find_bdf 1b36 0005 1 port)	# with this one as its function 1
RNG=$(find_bdf 1af4 1044 1 port)	# virtio-rng with AER, behind a root port
NVME=$(find_bdf 1b36 0010)
TESTDEV=$(find_bdf 1b36 0005 1 root)
BRIDGE=$(find_bdf 1b36 0001)	# PCI-PCI bridge: header type 1
HOSTBR=$(find_bdf 8086 29c0)	# host bridge: header type 0, class 0600
E1000E=$(find_bdf 8086 10d3)	# its PME_En is writable
# the config-safety devices (run-guest.sh adds them to this guest)
SRIOV=$(find_bdf 1b36 0010 1 port)	# an NVMe PF with SR-IOV
XHCI=$(find_bdf 1033 0194)		# MSI capability with 16 vectors
PVPANIC=$(find_bdf 1b36 0011)		# a 16-byte memory BAR
IVSHMEM=$(find_bdf 1af4 1110)		# prefetchable 64-bit BAR 2 (write_combine)
echo "# edu=$EDU edu2=$EDU2 edu3=$EDU3 rng=$RNG nvme=$NVME testdev=$TESTDEV bridge=$BRIDGE hostbridge=$HOSTBR e1000e=$E1000E sriov=$SRIOV xhci=$XHCI pvpanic=$PVPANIC ivshmem=$IVSHMEM"
check "the SR-IOV NVMe, the xhci, the pvpanic and the ivshmem are there" test -n "$SRIOV" -a -n "$XHCI" -a -n "$PVPANIC" -a -n "$IVSHMEM"
# new_id 1b36 0010 below is for the other NVMe: keep it off this one
override "$SRIOV" pci-pf-stub

# ---- load ----
check "insmod the dkms-built module" insmod "$KO"
check "module is loaded" grep -q '^vfio_cdev_noiommu ' /proc/modules
check "enable_unsafe_noiommu_mode defaults to N" grep -qx N "$PARAMS/enable_unsafe_noiommu_mode"
check "ids= is not exposed in sysfs (load-time only, as vfio-pci)" test ! -e "$PARAMS/ids"
check "sysfs names the context node $CTX" grep -qx "$CTX" "$PARAMS/iommufd_node"
check_not "iommufd_node cannot be written" sh -c "echo /dev/x > $PARAMS/iommufd_node"
check "$CTX is a char device, mode 0600" sh -c "[ -c $CTX ] && [ \"\$(stat -c %a $CTX)\" = 600 ]"
check "driver is registered with no static ids" sh -c "[ -d $DRVDIR ] && [ ! -e /sys/bus/pci/devices/$EDU/driver ]"
check_not "loading sets no TAINT_USER" tainted_user

# ---- refusal: parameter off ----
override "$EDU" "$DRV"
check "bind with the parameter off: the sysfs write succeeds" probe "$EDU"
check_not "bind with the parameter off: device stays unbound" is_bound "$EDU"
check "bind with the parameter off: dmesg says why and what to do" dmesg_has "no-IOMMU mode is off; to accept"
check "bind with the parameter off: no node, no vfio-dev dir" sh -c "[ ! -e /sys/bus/pci/devices/$EDU/vfio-dev ] && [ -z \"\$(ls /dev/vfio/devices 2>/dev/null)\" ]"
check_not "bind with the parameter off: no TAINT_USER" tainted_user

# ---- parameter writable at run time ----
check_not "parameter rejects junk" set_param enable_unsafe_noiommu_mode banana
check "parameter can be turned on at run time" set_param enable_unsafe_noiommu_mode 1
check "parameter reads Y" grep -qx Y "$PARAMS/enable_unsafe_noiommu_mode"

# ---- bind by driver_override + drivers_probe ----
check "driver_override + drivers_probe binds edu" probe "$EDU"
check "edu is bound" is_bound "$EDU"
check "edu gets noiommu-vfio0" test "$(node_name "$EDU")" = noiommu-vfio0
check "/dev/vfio/devices/noiommu-vfio0 matches sysfs vfio-dev/noiommu-vfio0/dev" node_matches_sysfs "$EDU"
check "vfio-dev/ holds exactly noiommu-vfio0, as upstream's class dir" test "$(ls /sys/bus/pci/devices/$EDU/vfio-dev)" = noiommu-vfio0
check "device node is root-only (0600)" test "$(stat -c %a /dev/vfio/devices/noiommu-vfio0)" = 600
check "binding taints the kernel (TAINT_USER)" tainted_user
check "binding logs the taint warning" dmesg_has "Adding kernel taint for vfio-noiommu cdev"
check "the node's device is on our bus (uevents reach udev)" test "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/vfio-dev/noiommu-vfio0/subsystem")")" = vfio_cdev_noiommu
check "node's uevent names the /dev path" grep -qx 'DEVNAME=vfio/devices/noiommu-vfio0' "/sys/bus/pci/devices/$EDU/vfio-dev/noiommu-vfio0/uevent"

# ---- groupless ----
check "no iommu_group link on the device" test ! -e "/sys/bus/pci/devices/$EDU/iommu_group"
check "no iommu groups exist at all" test -z "$(ls /sys/kernel/iommu_groups 2>/dev/null)"
# /dev/vfio holds devices/ and, on a kernel with its own iommufd, our context node
check "no /dev/vfio/N or /dev/vfio/noiommu-N group files" \
	test "$(ls /dev/vfio | tr '\n' ' ')" = "devices $(case $CTX in /dev/vfio/*) echo "${CTX#/dev/vfio/} " ;; esac)"
check "no vfio or vfio-dev class registered by us" sh -c '[ ! -e /sys/class/vfio-dev ] && [ ! -e /sys/class/vfio ]'

# ---- uAPI suite on edu ----
VCN_VERBOSE=1 VCN_BDF=$EDU /rig/vcn_test
VCN_VERBOSE=1 VCN_BDF=$EDU /rig/ioas_test
VCN_VERBOSE=1 VCN_EDU_BDF=$EDU /rig/edu_dma
check "edu still bound after the uAPI, IOAS and DMA suites" is_bound "$EDU"
check "nothing is left pinned or mapped" grep -qx "pinned_pages 0" /sys/kernel/debug/vfio_cdev_noiommu/stats

# ---- bind by new_id (nvme) ----
# new_id only takes unbound devices: a kernel with nvme built in (cloud-amd64)
# has already bound it
if [ -e "/sys/bus/pci/devices/$NVME/driver" ]; then
	echo "# nvme is bound to $(driver_of "$NVME"): unbinding it first"
	unbind "$NVME"
fi
check "new_id 1b36 0010 binds nvme" sh -c "echo '1b36 0010' > $DRVDIR/new_id"
check "nvme is bound" is_bound "$NVME"
check "nvme gets the next index, noiommu-vfio1" test "$(node_name "$NVME")" = noiommu-vfio1
check "nvme node matches sysfs" node_matches_sysfs "$NVME"
VCN_VERBOSE=1 VCN_NVME_BDF=$NVME /rig/nvme_drv
check "remove_id 1b36 0010" sh -c "echo '1b36 0010' > $DRVDIR/remove_id"
check_not "remove_id of an id never added fails" sh -c "echo 'abcd ef01' > $DRVDIR/remove_id"
check_not "new_id with junk fails" sh -c "echo 'zz' > $DRVDIR/new_id"

# ---- bind by the bind file (pci-testdev) ----
override "$TESTDEV" "$DRV"
check "bind file binds pci-testdev" sh -c "echo $TESTDEV > $DRVDIR/bind"
check "pci-testdev gets noiommu-vfio2" test "$(node_name "$TESTDEV")" = noiommu-vfio2
check_not "binding an already-bound device fails" sh -c "echo $TESTDEV > $DRVDIR/bind"
check_not "bind of a nonexistent BDF fails" sh -c "echo 0000:00:1e.7 > $DRVDIR/bind"
override "$EDU2" "$DRV"
check "driver_override + drivers_probe binds the edu behind the root port" probe "$EDU2"
check "it is bound" is_bound "$EDU2"

# ---- device access: regions, config, mmap, interrupts, reset ----
# e1000e for the PME test: its PME_En is writable
[ -e "/sys/bus/pci/devices/$E1000E/driver" ] && unbind "$E1000E"
override "$E1000E" "$DRV"
probe "$E1000E"
check "e1000e ($E1000E) binds" is_bound "$E1000E"
VCN_VERBOSE=1 VCN_EDU_BDF=$EDU VCN_NVME_BDF=$NVME VCN_TESTDEV_BDF=$TESTDEV \
	VCN_EDU2_BDF=$EDU2 VCN_TESTDEV2_BDF=$TESTDEV2 VCN_PME_BDF=$E1000E /rig/access_test
unbind "$E1000E"
override "$E1000E" ""
check "no interrupt is left registered" sh -c "! grep -q vfio- /proc/interrupts"

# ---- config space the kernel owns, and parity points (safety_test) ----
VCN_VERBOSE=1 VCN_NVME_BDF=$NVME /rig/safety_test 'pcie_*'
VCN_VERBOSE=1 VCN_EDU_BDF=$EDU /rig/safety_test 'master_*'
# bind_spare BDF: take a device from whatever driver has it
bind_spare() { [ -e "/sys/bus/pci/devices/$1/driver" ] && unbind "$1"; override "$1" "$DRV"; probe "$1"; is_bound "$1"; }
release_spare() { unbind "$1"; override "$1" ""; }
check "nec-usb-xhci ($XHCI) binds" bind_spare "$XHCI"
VCN_VERBOSE=1 VCN_MSI_BDF=$XHCI /rig/safety_test 'msi_*'
release_spare "$XHCI"
check "pvpanic-pci ($PVPANIC) binds" bind_spare "$PVPANIC"
VCN_VERBOSE=1 VCN_SUBPAGE_BDF=$PVPANIC /rig/safety_test 'subpage_*'
release_spare "$PVPANIC"
# ---- write-combining mmaps of prefetchable BARs (write_combine) ----
check "write_combine defaults to N" grep -qx N "$PARAMS/write_combine"
check_not "write_combine rejects junk" set_param write_combine banana
check "ivshmem-plain ($IVSHMEM) binds" bind_spare "$IVSHMEM"
check "the kernel's PAT list is there (PAT on)" test -r /sys/kernel/debug/x86/pat_memtype_list
dmesg -c >/dev/null
VCN_VERBOSE=1 VCN_WC_BDF=$IVSHMEM VCN_EDU_BDF=$EDU /rig/wc_test
check "the log names the write-combining BAR" dmesg_has "$IVSHMEM: BAR 2 (prefetchable) mapped write-combining"
check "and says when a mapped BAR keeps its type" dmesg_has "$IVSHMEM: BAR 2 stays uncached while it is mapped"
check_not "no BAR of edu (not prefetchable) was made write-combining" dmesg_has "$EDU: BAR .* write-combining"
check_not "no PAT conflict in the log" sh -c "dmesg | grep -E 'x86/PAT: .*(conflicting memory types|expected mapping type|ioremap error)|PAT: .*conflict'"
check "write_combine is off again" grep -qx N "$PARAMS/write_combine"
release_spare "$IVSHMEM"

# SR-IOV: the PF with its VFs off is ours to bind, never to enable VFs on
check "the SR-IOV PF ($SRIOV), VFs off, binds" bind_spare "$SRIOV"
VCN_VERBOSE=1 VCN_SRIOV_BDF=$SRIOV /rig/safety_test 'sriov_*'
check_not "VFs cannot be enabled on a PF bound to us" sh -c "echo 1 > /sys/bus/pci/devices/$SRIOV/sriov_numvfs"
unbind "$SRIOV"
if ! [ -f /rig/kmod/pci-pf-stub.order ] || ! load_kmods pci-pf-stub; then
	skip "a VF bound to us; a PF with VFs enabled refused" "no pci-pf-stub module for this kernel"
else
	override "$SRIOV" pci-pf-stub
	probe "$SRIOV"
	check "pci-pf-stub enables 2 VFs on the PF" sh -c "echo 2 > /sys/bus/pci/devices/$SRIOV/sriov_numvfs"
	VF=$(basename "$(readlink "/sys/bus/pci/devices/$SRIOV/virtfn0")")
	check "the VF ($VF) binds" bind_spare "$VF"
	VCN_VERBOSE=1 VCN_VF_BDF=$VF /rig/safety_test 'vf_*'
	unbind "$SRIOV"		# pci-pf-stub leaves the VFs enabled
	dmesg -c >/dev/null
	override "$SRIOV" "$DRV"
	probe "$SRIOV"
	check_not "a PF with VFs enabled is refused" is_bound "$SRIOV"
	check "the refusal says why and what to do" dmesg_has "$SRIOV: refusing to bind: 2 VFs are enabled on this physical function; disable them first"
	override "$SRIOV" pci-pf-stub
	probe "$SRIOV"
	check "VFs off again: the VF bound to us goes away" sh -c "echo 0 > /sys/bus/pci/devices/$SRIOV/sriov_numvfs && [ ! -e /sys/bus/pci/devices/$VF ]"
	unbind "$SRIOV"
	unload_kmods pci-pf-stub
fi

# ---- interrupts from real events: a shared INTx line, an injected AER error ----
override "$EDU3" "$DRV"
probe "$EDU3"
check "the edu on edu's INTx line ($EDU3) binds" is_bound "$EDU3"
# a kernel with virtio-pci built in has already bound it
[ -e "/sys/bus/pci/devices/$RNG/driver" ] && unbind "$RNG"
override "$RNG" "$DRV"
probe "$RNG"
check "virtio-rng behind a root port ($RNG, with AER) binds" is_bound "$RNG"
irq_tests='intx_*'
if ! ls /sys/bus/pci_express/devices/*:pcie002 >/dev/null 2>&1; then
	skip "AER error delivered to the ERR eventfd" "no root port runs the AER service (kernel without CONFIG_PCIEAER)"
elif ! [ -f /rig/kmod/aer_inject.order ] || ! load_kmods aer_inject; then
	skip "AER error delivered to the ERR eventfd" "no aer_inject module for this kernel"
else
	irq_tests='*'
fi
VCN_VERBOSE=1 VCN_EDU_BDF=$EDU VCN_EDU3_BDF=$EDU3 VCN_AER_BDF=$RNG /rig/irq_test "$irq_tests"
[ "$irq_tests" = '*' ] && check "aer_inject unloads" rmmod aer_inject
# virtio's PM capability lacks No_Soft_Reset: the D3hot copy is restored
VCN_VERBOSE=1 VCN_PM_BDF=$RNG /rig/access_test 'power_*'
check "no interrupt is left registered after the shared-line tests" sh -c "! grep -q vfio- /proc/interrupts"
unbind "$EDU3"
unbind "$RNG"
override "$EDU3" ""
override "$RNG" ""

# ---- unbind frees the index; it is reused ----
check "unbind edu" unbind "$EDU"
check "edu's node and vfio-dev dir are gone" sh -c "[ ! -e /dev/vfio/devices/noiommu-vfio0 ] && [ ! -e /sys/bus/pci/devices/$EDU/vfio-dev ]"
check "rebind edu through the bind file" sh -c "echo $EDU > $DRVDIR/bind"
check "edu reuses index 0" test "$(node_name "$EDU")" = noiommu-vfio0
check "uAPI smoke after rebind" /rig/vcn_tool info "$EDU"

# ---- refusals: not a normal endpoint ----
override "$HOSTBR" "$DRV"
probe "$HOSTBR"
check_not "host bridge (class 0600) is refused" is_bound "$HOSTBR"
check "host bridge refusal is explained in dmesg" dmesg_has "$HOSTBR: refusing to bind: not a normal endpoint"
override "$HOSTBR" ""
override "$BRIDGE" "$DRV"
probe "$BRIDGE"
check_not "PCI-PCI bridge (header type 1) is refused" is_bound "$BRIDGE"
check "PCI-PCI bridge refusal is explained in dmesg" dmesg_has "$BRIDGE: refusing to bind: not a normal endpoint (header type 1"
override "$BRIDGE" ""

# ---- parameter off again: existing devices stay, new binds refused ----
set_param enable_unsafe_noiommu_mode 0
unbind "$TESTDEV"
probe "$TESTDEV"
check_not "with the parameter turned off again, a new bind is refused" is_bound "$TESTDEV"
check "devices bound earlier stay bound" is_bound "$EDU"
set_param enable_unsafe_noiommu_mode 1

# ---- concurrent open vs bind/unbind ----
/rig/vcn_tool openloop "$EDU" 8 >/tmp/openloop.out 2>&1 &
loop=$!
i=0
while [ $i -lt 25 ]; do
	echo "$EDU" >"$DRVDIR/unbind" 2>/dev/null
	echo "$EDU" >"$DRVDIR/bind" 2>/dev/null
	i=$((i + 1))
done
wait $loop
lrc=$?
sed 's/^/# /' /tmp/openloop.out
check "open/bind racing 25 unbind/bind cycles: opener saw no unexpected errno" test $lrc = 0
check "after the race edu is bound with a matching node" node_matches_sysfs "$EDU"
check "after the race the device still binds and attaches" /rig/vcn_tool info "$EDU"

# ---- unbind while open: unbind waits for the last close ----
sh -c "exec 3<>/dev/vfio/devices/$(node_name "$EDU"); sleep 3" &
holder=$!
sleep 1
start=$(date +%s)
unbind "$EDU"
took=$(( $(date +%s) - start ))
wait $holder
check "unbind with the node open waits for the close (${took}s)" test "$took" -ge 1
check "and then completes" sh -c "! [ -e /sys/bus/pci/devices/$EDU/driver ]"

# ---- unbind asks the user through the REQ eventfd ----
echo "$EDU" >"$DRVDIR/bind"
/rig/vcn_tool reqwait "$EDU" 30 >/tmp/req.out 2>&1 &
holder=$!
for i in 1 2 3 4 5 6 7 8 9 10; do grep -q ready /tmp/req.out && break; sleep 1; done
start=$(date +%s)
unbind "$EDU"
took=$(( $(date +%s) - start ))
wait $holder
hrc=$?
sed 's/^/# /' /tmp/req.out
check "unbind signalled the REQ eventfd and the holder closed (exit $hrc)" test "$hrc" = 0
check "unbind completed as soon as the holder closed (${took}s < 5)" test "$took" -lt 5
check "the device is unbound" sh -c "! [ -e /sys/bus/pci/devices/$EDU/driver ]"

# ---- a holder without a REQ handler is killed: unbind still completes ----
echo "$EDU" >"$DRVDIR/bind"
sh -c "exec 3<>/dev/vfio/devices/$(node_name "$EDU"); exec sleep 100" &
holder=$!
sleep 1
unbind "$EDU" &
unb=$!
sleep 2
check "unbind is still waiting for the holder" kill -0 $unb
kill -9 $holder
wait $unb
check "killing the holder lets the unbind complete" sh -c "! [ -e /sys/bus/pci/devices/$EDU/driver ]"
check "nothing is left pinned after the kill" grep -qx "pinned_pages 0" /sys/kernel/debug/vfio_cdev_noiommu/stats
echo "$EDU" >"$DRVDIR/bind"

# ---- rmmod leaves nothing behind ----
check "rmmod while devices are bound" rmmod vfio_cdev_noiommu
check "no device is left on the driver" sh -c "[ ! -e /sys/bus/pci/devices/$NVME/driver ] && [ ! -e /sys/bus/pci/devices/$NVME/vfio-dev ]"
check "no nodes left" sh -c "[ ! -e $CTX ] && [ -z \"\$(ls /dev/vfio/devices 2>/dev/null)\" ]"
check "no bus, driver or module left in sysfs" sh -c "[ ! -e /sys/bus/vfio_cdev_noiommu ] && [ ! -e $DRVDIR ] && [ ! -e /sys/module/vfio_cdev_noiommu ]"

# ---- ids= ----
override "$EDU" ""
override "$TESTDEV" ""
check "insmod with ids=1234:11e8,bad-entry and the parameter on" insmod "$KO" enable_unsafe_noiommu_mode=1 ids=1234:11e8,zzzz
check "ids= binds edu at load" is_bound "$EDU"
check "ids= leaves other devices alone" sh -c "! [ -e /sys/bus/pci/devices/$TESTDEV/driver ]"
check "a bad ids= entry is reported" dmesg_has 'invalid id string "zzzz"'
check "uAPI smoke on the ids= bound device" /rig/vcn_tool info "$EDU"
check "rmmod" rmmod vfio_cdev_noiommu

# ---- coexistence with the kernel's vfio.ko (both orders) ----
check "kernel vfio-pci stack loads first" load_kmods vfio-pci
# vfio.ko has a class named vfio-dev since v6.1 (upstream's per-device
# directory, which ours mimics): it must register it with us around (a
# whole word: 5.10's vfio.ko has the string "[vfio-device]" and no class)
if grep -qw 'vfio-dev' /rig/kmod/vfio.ko; then
	check "vfio.ko registered its vfio-dev class" test -d /sys/class/vfio-dev
else
	skip "vfio.ko registered its vfio-dev class" "this kernel's vfio.ko has no such class (v6.1+)"
fi
check "then our module loads beside it" insmod "$KO" enable_unsafe_noiommu_mode=1
override "$EDU" "$DRV"
probe "$EDU"
check "and binds edu" node_matches_sysfs "$EDU"
check "uAPI smoke beside vfio.ko" /rig/vcn_tool info "$EDU"
check "rmmod ours" rmmod vfio_cdev_noiommu
check "kernel vfio stack unloads" unload_kmods vfio-pci
check "our module first" insmod "$KO" enable_unsafe_noiommu_mode=1
probe "$EDU"
check "binds edu" is_bound "$EDU"
check "then the kernel's vfio-pci stack still loads" load_kmods vfio-pci
check "vfio-pci registered beside us" test -d /sys/bus/pci/drivers/vfio-pci
check "uAPI smoke with vfio.ko loaded after us" /rig/vcn_tool info "$EDU"
check "kernel vfio stack unloads" unload_kmods vfio-pci
check "rmmod ours" rmmod vfio_cdev_noiommu

# ---- lockdown raised after binding (for good: this comes last) ----
mkdir -p /sys/kernel/security
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
if ! [ -w /sys/kernel/security/lockdown ]; then
	skip "lockdown raised at run time" "no lockdown LSM in this kernel"
else
	insmod "$KO" enable_unsafe_noiommu_mode=1
	override "$EDU" "$DRV"
	probe "$EDU"
	check "edu bound before lockdown" is_bound "$EDU"
	dmesg -c >/dev/null
	VCN_VERBOSE=1 VCN_EDU_BDF=$EDU /rig/safety_test 'lockdown_*'
	check "lockdown reads [integrity]" grep -q '\[integrity\]' /sys/kernel/security/lockdown
	check "the kernel log says so, once" test "$(dmesg | grep -c "$EDU: refusing access: the kernel is locked down")" = 1
	check "and new binds are refused" sh -c "echo $EDU > $DRVDIR/unbind; echo $EDU > /sys/bus/pci/drivers_probe; ! [ -e /sys/bus/pci/devices/$EDU/driver ]"
	check "rmmod under lockdown" rmmod vfio_cdev_noiommu
fi

finish
