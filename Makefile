# dm-overlaybd: kernel module, ovbd tool, tests and packages.
#   make                 module for the running kernel (KVER=<version> for another) and ovbd
#   make check           every test suite; ends with "N passed, N failed, N skipped"
#                        (FULL=1 soaks longer, QUICK=1 is a fast subset: see tests/run-all)
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
	FULL=$(FULL) QUICK=$(QUICK) tests/run-all

demo:
	tools/demo.sh

bench:
	bench/run.sh

unit: tools
	tests/run-all unit unit-asan

fuzz-smoke:
	tests/run-all fuzz-smoke

clean:
	$(MAKE) -C tools clean
	-$(MAKE) -C src clean
	rm -rf build

# Packages. make deb writes build/deb/*.deb; make rpm writes build/rpm/**.rpm.
DIST := build/dist/dm-overlaybd-$(VERSION).tar.gz

dist:
	@mkdir -p build/dist
	git ls-files | tar -czf $(DIST) --transform 's,^,dm-overlaybd-$(VERSION)/,' -T -
	@echo $(DIST)

deb:
	rm -rf build/deb && mkdir -p build/deb/src
	git ls-files | tar -cf - -T - | tar -xf - -C build/deb/src
	cd build/deb/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -30 ../build.log; exit 1; }
	@ls build/deb/*.deb

rpm: dist
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES
	cp $(DIST) build/rpm/SOURCES/
	rpmbuild -bb --nodeps --define "_topdir $(CURDIR)/build/rpm" rpm/dm-overlaybd.spec >build/rpm/build.log 2>&1 || { tail -30 build/rpm/build.log; exit 1; }
	@find build/rpm/RPMS -name '*.rpm'

.PHONY: all tools module check demo bench unit fuzz-smoke clean dist deb rpm

# Build the module with W=1 against every installed kernel header set, each in
# its own copy of the sources; any compiler warning fails the check.
compat-check:
	@set -e; n=0; for kdir in /lib/modules/*/build; do \
		[ -e "$$kdir/Makefile" ] || continue; kver=$$(basename $$(dirname $$kdir)); \
		d=build/compat/$$kver; rm -rf $$d; mkdir -p $$d; cp -r src include VERSION $$d/; \
		$(MAKE) -s -C $$d/src KVER=$$kver KDIR=$$kdir W=1 >$$d/build.log 2>&1 || { cat $$d/build.log; exit 1; }; \
		if grep -E "warning:|error:" $$d/build.log; then echo "compat-check: $$kver: warnings"; exit 1; fi; \
		echo "compat-check: $$kver: ok, no warnings ($$d/src/dm-overlaybd.ko)"; n=$$((n+1)); \
	done; [ $$n -gt 0 ] || { echo "compat-check: no kernel headers installed"; exit 1; }

.PHONY: compat-check
