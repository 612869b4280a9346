# iex: one non-recursive GNU Makefile (see README.md).
#
#   make            release build of iexc and iex into build/release/bin/
#   make test       ASan+UBSan build into build/test/, then tests/run
#   make demo       the main job (see README.md)
#   make check      iexc --check on every shipped flow
#   make docs       regenerate the generated parts of docs/
#   make lint       include directions, banned functions, self-contained headers
#   make fuzz       real fuzzing with libFuzzer (clang), FUZZ_SECONDS per target
#   make bench      bench/ figures, side by side with peers
#   make clean
#
# Every target that builds first runs tools/deps.sh, which installs missing
# Debian packages (it does nothing when all are present). Folders add their
# sources through included fragments (*/module.mk), never through $(MAKE) -C.
# MODE selects the build: release (default) or test (sanitizers, IEX_DEBUG).

MODE ?= release
B := build/$(MODE)

CC ?= cc
ifeq ($(origin CC),default)
  CC := gcc
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wundef -Wwrite-strings \
        -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -I. -I$(B) $(WARN) -MMD -MP

ifeq ($(MODE),test)
  MODE_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                 -fno-sanitize-recover=undefined -DIEX_DEBUG
  MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(MODE),release)
  MODE_CFLAGS := -O2 -g -DNDEBUG
  MODE_LDFLAGS :=
else ifeq ($(MODE),fuzz)
  # libFuzzer targets (tests/fuzz/): clang, coverage instrumentation, and the
  # test build's sanitizers. Built by tests/fuzz/fuzz.sh, not by `make`.
  CC := clang
  MODE_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
                 -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DIEX_DEBUG
  MODE_LDFLAGS := -fsanitize=address,undefined
else
  $(error MODE must be release, test or fuzz, not '$(MODE)')
endif

# Library flags come from pkg-config, computed once into build/config.mk after
# tools/deps.sh has made sure the packages are there. Make rebuilds an
# included makefile first and restarts, so this happens before any compile.
PKGS := lua5.4 libcurl jansson sqlite3 libmicrohttpd libcrypto
NO_CONFIG_GOALS := clean
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
include build/config.mk
endif
build/config.mk: tools/deps.sh Makefile
	@sh tools/deps.sh
	@mkdir -p $(@D)
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS)) -lm -lpthread"; } > $@.tmp
	@mv $@.tmp $@

CFLAGS_ALL = $(BASE_CFLAGS) $(MODE_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(MODE_LDFLAGS) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS)

# Sources of the one library every program links against. Fragments append.
LIB := $(B)/libiex.a
LIB_SRCS :=
GEN_SRCS :=
PROGRAMS :=
TEST_PROGRAMS :=

include common/module.mk
-include compiler/module.mk
-include runtime/module.mk
-include stdlib/module.mk
-include connectors/module.mk
-include tests/module.mk
-include tests/fuzz/module.mk
-include bench/module.mk

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o) $(GEN_SRCS:%.c=%.o)

.SECONDARY:
.DELETE_ON_ERROR:
.PHONY: all deps test demo check docs lint fuzz bench clean programs test-programs
.DEFAULT_GOAL := all

all: programs
programs: $(PROGRAMS)
test-programs: $(PROGRAMS) $(TEST_PROGRAMS)

deps:
	@sh tools/deps.sh

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c Makefile build/config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# Generated C files live under $(B) already.
$(B)/%.o: $(B)/%.c Makefile build/config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(GEN_CFLAGS) -c $< -o $@

# link-program <output> <main objects>
define link-program
	@mkdir -p $(dir $(1))
	$(CC) $(LDFLAGS_ALL) -o $(1) $(2) $(LIB) $(LIBS_ALL)
endef

test: deps
	@$(MAKE) --no-print-directory MODE=test test-programs
	@$(MAKE) --no-print-directory MODE=release programs
	@tests/run build/test

demo: deps programs
	@sh tools/demo.sh build/release/bin

check: programs
	$(B)/bin/iexc --check flows/*.iexflow

docs: programs
	@sh tools/gendocs.sh $(B)/bin

lint:
	@sh tools/lint.sh

fuzz:
	@sh tests/fuzz/fuzz.sh $${FUZZ_SECONDS:-60}

bench: programs
	@sh bench/run.sh $(B)/bin

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)
