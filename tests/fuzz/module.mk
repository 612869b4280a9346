# tests/fuzz/: fuzz targets (see fuzz_compile.c). In every build the target
# is linked with replay.c into a program that replays the corpus; with
# MODE=fuzz (clang) it is linked with libFuzzer instead. Only common/ and
# compiler/ objects are linked, so the fuzzers do not depend on the rest.
FUZZ_TARGETS := compile
# (Prerequisites expand when read, before the top Makefile sets LIB_OBJS.)
FUZZ_OBJS := $(patsubst %.c,$(B)/%.o,$(filter common/% compiler/%,$(LIB_SRCS))) \
             $(patsubst %.c,%.o,$(filter $(B)/common/% $(B)/compiler/%,$(GEN_SRCS)))

TEST_PROGRAMS += $(FUZZ_TARGETS:%=$(B)/tests/fuzz/replay_%)

$(B)/tests/fuzz/replay_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay.o $(LIB)
	$(call link-program,$@,$< $(B)/tests/fuzz/replay.o)

$(B)/tests/fuzz/libfuzzer_%: $(B)/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LIBS_ALL)
