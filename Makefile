# SPDX-License-Identifier: GPL-2.0
#
#   make                      build vfio_cdev_noiommu.ko for the running kernel
#   make KVER=<release>       ... for another installed kernel (or KDIR=<tree>)
#   make demo                 boot a stock Debian kernel in QEMU and drive a device
#   make check                the whole test suite in QEMU guests (installs its needs),
#                             on the stock kernel and on a debug kernel (KASAN, lockdep,
#                             kmemleak): FLAVOURS=stock for the stock kernel alone
#   make check-debug          the debug kernel alone
#   make check-matrix         the in-guest suite on Debian 5.10, 6.1 (amd64, rt, cloud),
#                             6.12 (bpo amd64, rt; +deb12; +deb13 amd64, rt), 7.3, and
#                             a 6.12 configured like other distributions' (own iommufd)
#   make check-package        the .deb on a clean bookworm and a clean trixie: install,
#                             a kernel upgrade or ABI change (dkms), boot, purge
#   make deb                  dist/vfio-cdev-noiommu-dkms_<version>_all.deb (dh-dkms)
#   make bench                the benchmark: ratios measured in one guest run, then
#                             the module against upstream 7.3's own cdev no-IOMMU
#                             (tests/bench-peer.sh; not part of make check or CI)
#   make lint                 W=1, sparse (C=2) and checkpatch, all must be silent
#   make dkms-install / dkms-uninstall
#
KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
CONFTEST_DIR := $(CURDIR)/.conftest/$(subst /,_,$(realpath $(KDIR)))
KBUILD := $(MAKE) -C $(KDIR) M=$(CURDIR) VCN_CONFTEST_DIR=$(CONFTEST_DIR)

all: modules

$(CONFTEST_DIR)/conftest.h: scripts/conftest.sh
	@test -d "$(KDIR)" || { echo "no kernel build tree at $(KDIR): install the headers (linux-headers-$(KVER)) or pass KVER=/KDIR=" >&2; exit 1; }
	scripts/conftest.sh $(KDIR) $(CONFTEST_DIR)

modules: $(CONFTEST_DIR)/conftest.h
	$(KBUILD) modules

clean:
	@if [ -d "$(KDIR)" ]; then $(KBUILD) clean; fi
	rm -rf .conftest

# Build with W=1 and sparse; any compiler or sparse message fails.
lint-build: $(CONFTEST_DIR)/conftest.h
	$(KBUILD) clean
	$(KBUILD) W=1 C=2 CF="-D__CHECK_ENDIAN__" modules 2>&1 | tee .lint.log
	@! grep -E 'warning:|error:|sparse:' .lint.log || { echo "lint: W=1/sparse findings above" >&2; exit 1; }

lint: lint-build
	scripts/checkpatch-tree.sh

dkms-install:
	scripts/dkms.sh install $(KVER)

dkms-uninstall:
	scripts/dkms.sh uninstall $(KVER)

check:
	tests/run.sh

# the debug kernel alone (KASAN, lockdep, kmemleak, UBSAN, fault injection)
check-debug:
	FLAVOURS=debug tests/run.sh

# every kernel of the matrix (tests/matrix.sh; a list of KSPECs in MATRIX=)
check-matrix:
	tests/matrix.sh $(MATRIX)

check-package:
	tests/package.sh

deb:
	scripts/mkdeb.sh dist

demo:
	tests/demo.sh

bench:
	tests/bench-run.sh
	tests/bench-peer.sh

.PHONY: all modules clean lint lint-build dkms-install dkms-uninstall check check-debug check-matrix check-package deb demo bench
