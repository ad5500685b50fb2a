# examples/: small programs to run with kiln.  Built next to their source
# (examples/hello, gitignored) so README's `kiln run ./examples/hello`
# works literally from the repository's root.

EXAMPLES := examples/hello examples/httpd
ALL_TARGETS += $(EXAMPLES)

examples/hello: examples/hello.c
	@$(if $(Q),echo "  MUSLCC  $@")
	$(Q)musl-gcc -static -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

# httpd is dynamic (glibc), like most servers users bring.
examples/httpd: examples/httpd.c
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

examples: $(EXAMPLES)

.PHONY: examples

# `make clean` removes build/; the examples live beside their sources.
clean: examples-clean
examples-clean:
	rm -f $(EXAMPLES)

.PHONY: examples-clean
