#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# run-guest.sh INITRD LOG
#   Boots a Debian kernel with INITRD under QEMU (TCG: no KVM on these
#   machines) with the test devices: edu (1234:11e8), nvme (1b36:0010,
#   serial from NVME_SERIAL), pci-testdev (1b36:0005), a PCI-PCI bridge, and
#   behind a PCIe root port a second edu and a second pci-testdev, two
#   functions of one slot (a secondary bus reset hits both); a third edu
#   on the root bus whose legacy INTx line is the first one's (ICH9 routes
#   slot S pin A to PIRQ (S % 4) + E: slots 1 and 17 share PIRQF, whatever
#   ISA IRQ the firmware gives it); behind a second root port a virtio-rng
#   with an AER capability, for errors injected through aer_inject; an
#   e1000e (8086:10d3), whose PM capability implements PME_En (the PME
#   test: no guest driver binds it). The full suite's guest (SUITE=suite in
#   APPEND) also gets the devices of the config-safety tests: behind a
#   third root port an NVMe with SR-IOV (two VFs, functions 1 and 2 of its
#   slot; QEMU 7.2 needs a subsystem and queue/vector resources for them),
#   an nec-usb-xhci with MSI-X off (its MSI capability offers 16 vectors)
#   a pvpanic-pci (a 16-byte memory BAR, which the firmware places on
#   a page boundary: the rig's other BARs are whole pages) and an
#   ivshmem-plain (1af4:1110: RAM behind a prefetchable 64-bit BAR 2, for
#   the write-combining tests).
#   The serial console goes to LOG. Env: KERNEL (an ELF vmlinux or bzImage),
#   IOMMU=1 (q35 + intel-iommu: every device gets an IOMMU group), APPEND
#   (extra kernel command line; KEY=value words reach /init's environment),
#   MEM (512M), SMP (vCPUs, 1), TIMEOUT (seconds, 600).
set -u
initrd=$1 log=$2
: "${KERNEL:?KERNEL= vmlinux to boot}"
MEM=${MEM:-512M}; SMP=${SMP:-1}; TIMEOUT=${TIMEOUT:-600}; APPEND=${APPEND:-}
nvme_img=$(mktemp "${TMPDIR:-/tmp}/vcn-nvme.XXXXXX")	# QEMU write-locks it: one per guest
trap 'rm -f "$nvme_img"' EXIT
truncate -s 64M "$nvme_img"
if [ -n "${NVME_BLOCK0:-}" ]; then	# a marker in LBA 0 for the block-read test
	printf '%s' "$NVME_BLOCK0" | dd of="$nvme_img" conv=notrunc 2>/dev/null
fi
machine="-machine q35"
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=6 $APPEND"
if [ "${IOMMU:-0}" = 1 ]; then
	machine="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on"
	cmdline="$cmdline intel_iommu=on"
fi
safety=
case " $APPEND " in
*" SUITE=suite "*)
	safety="-device pcie-root-port,id=rp3,chassis=4,slot=4 -device nvme-subsys,id=nvsub0 \
		-device nvme,bus=rp3,addr=0.0,serial=vcn-sriov-pf,subsys=nvsub0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=8 \
		-device nec-usb-xhci,msix=off -device pvpanic-pci \
		-object memory-backend-ram,id=ivmem,size=1M,share=on -device ivshmem-plain,memdev=ivmem" ;;
esac
# shellcheck disable=SC2086
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi $machine -cpu max -smp "$SMP" -m "$MEM" \
	-nodefaults -nographic -monitor none -serial stdio -no-reboot \
	-kernel "$KERNEL" -initrd "$initrd" -append "$cmdline" \
	-device edu,addr=0x1,dma_mask=0xffffffffffffffff \
	-drive file="$nvme_img",if=none,id=nv0,format=raw \
	-device nvme,drive=nv0,serial="${NVME_SERIAL:-vcn-serial-0001}" \
	-device pci-testdev \
	-device pci-bridge,chassis_nr=1,id=br1 \
	-device pcie-root-port,id=rp1,chassis=2,slot=2 \
	-device edu,bus=rp1,addr=0.0,multifunction=on,dma_mask=0xffffffffffffffff \
	-device pci-testdev,bus=rp1,addr=0.1 \
	-device edu,addr=0x11,dma_mask=0xffffffffffffffff \
	-device pcie-root-port,id=rp2,chassis=3,slot=3 \
	-device virtio-rng-pci,bus=rp2,aer=on,disable-legacy=on,id=rng0 \
	-device e1000e $safety \
	</dev/null >"$log.raw" 2>&1
rc=$?
tr -d '\r' <"$log.raw" >"$log" && rm -f "$log.raw"
exit $rc
