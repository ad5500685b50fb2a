# kiln: plain GNU make, no autotools.  Everything is built into build/.
#   make          build kernel, monitor, CLI, examples and test programs
#   make demo     install dependencies, build, boot the examples  (README 1)
#   make test     install dependencies, build, run every test     (README 2)
#   make bench    run the benchmarks in bench/ and refresh docs/bench*
# V=1 shows the commands.

.DEFAULT_GOAL := all
include mk/common.mk
-include kernel/kernel.mk
-include lib/lib.mk
-include vmm/vmm.mk
-include cli/cli.mk
-include daemon/daemon.mk
-include examples/examples.mk
-include daemon/net.mk
-include tests/tests.mk

all: $(ALL_TARGETS)

deps:
	@sh scripts/deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

test: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

# Both need git's list of files: outside a checkout they say so.
C_FILES = $$(git ls-files '*.c' '*.h' | grep . || echo "no files: not a git checkout" >&2)

format-check:
	@files=$(C_FILES); [ -n "$$files" ] && clang-format --dry-run --Werror $$files

format:
	@files=$(C_FILES); [ -n "$$files" ] && clang-format -i $$files

clean:
	rm -rf build

.PHONY: all deps demo test bench clean format format-check
