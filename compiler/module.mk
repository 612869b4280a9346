# compiler/: iexc, the .iexflow compiler. The lexer (re2c) and the parser
# (Lemon) are generated into $(B)/compiler/, never into the repository.
COMPILER_SRCS := compiler/source.c compiler/diag.c compiler/ast.c compiler/parse.c \
                 compiler/compile.c compiler/types.c compiler/schema.c \
                 compiler/resolve.c compiler/resolve_expr.c compiler/resolve_stdlib.c \
                 compiler/check.c
# Code generation and --test use the runtime (bytecode, VM), so they are
# linked into iexc only, not into the library's compiler/ part that the
# fuzz targets link on its own.
IEXC_OBJS := $(B)/compiler/main.o $(B)/compiler/codegen.o $(B)/compiler/testrun.o
LIB_SRCS += $(COMPILER_SRCS)
GEN_SRCS += $(B)/compiler/lexer.c $(B)/compiler/grammar.c

LEMON_TEMPLATE := /usr/share/lemon/lempar.c

# Lemon exits non-zero on any conflict, which fails the build (STYLE.md 3.7).
$(B)/compiler/grammar.c: compiler/grammar.y $(LEMON_TEMPLATE)
	@mkdir -p $(@D)
	lemon -q -T$(LEMON_TEMPLATE) -d$(@D) $<
# Lemon leaves grammar.h alone when the tokens did not change; touching it
# keeps make from rebuilding its dependents on every run.
$(B)/compiler/grammar.h: $(B)/compiler/grammar.c
	@test -f $@ && touch $@

$(B)/compiler/lexer.c: compiler/lexer.re
	@mkdir -p $(@D)
	re2c -W -Werror --no-generation-date --no-version -o $@ $<

# Everything in compiler/ may include the generated token numbers, so they
# must exist before any of it compiles.
$(COMPILER_SRCS:%.c=$(B)/%.o) $(IEXC_OBJS) $(B)/compiler/lexer.o \
  $(B)/compiler/grammar.o: $(B)/compiler/grammar.h

# Lemon's template fetches %extra_context (`p`) in functions whose code we
# leave empty (yy_accept), which -Wunused-variable rejects.
$(B)/compiler/grammar.o: GEN_CFLAGS := -Wno-unused-variable

PROGRAMS += $(B)/bin/iexc
$(B)/bin/iexc: $(IEXC_OBJS) $(LIB)
	$(call link-program,$@,$(IEXC_OBJS))

# Unit tests of the lexer use the token numbers too.
$(B)/tests/unit/test_lexer.o: $(B)/compiler/grammar.h
