# dm-overlaybd: kernel module, ovbd tool, tests and packages.
#   make                 module for the running kernel (KVER=<version> for another) and ovbd
#   make check           every test suite; ends with "N passed, N failed, N skipped"
#   make demo            the end-to-end demo (see README.md)
VERSION := $(shell cat VERSION)
KVER    ?= $(shell uname -r)
KDIR    ?= /lib/modules/$(KVER)/build

all: tools module

tools:
	$(MAKE) -C tools

module:
	$(MAKE) -C src KVER=$(KVER) KDIR=$(KDIR)

check: tools
	tests/run-all

unit: tools
	tests/run-all unit unit-asan

fuzz-smoke:
	tests/run-all fuzz-smoke

clean:
	$(MAKE) -C tools clean
	-$(MAKE) -C src clean
	rm -rf build

.PHONY: all tools module check unit fuzz-smoke clean
