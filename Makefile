# Convenience targets; the scripts do the work (and install what is missing).
.PHONY: run test build asan tsan fuzz bench bench-xds bench-control clean
run:
	scripts/run.sh
test:
	scripts/test.sh
build:
	scripts/build.sh release
asan:
	scripts/build.sh asan
tsan:
	scripts/build.sh tsan
fuzz:
	scripts/fuzz.sh
bench:
	bench/run.sh
bench-xds:
	bench/run_xds.sh $(ARGS)
bench-control:
	scripts/build.sh release sluice-control && node bench/control_scale.mjs $(ARGS)
clean:
	rm -rf build
