# tests/: unit test programs (one per tests/unit/test_*.c) and the objects
# they share. Other suites are scripts run by tests/run (see tests/README.md).
UNIT_TEST_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_TEST_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
TEST_PROGRAMS += $(UNIT_TESTS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(B)/tests/lib/check.o $(LIB)
	$(call link-program,$@,$< $(B)/tests/lib/check.o)

# tests/fault/: crash and fault-injection programs (one per
# tests/fault/fault_*.c), run by tests/fault/run.sh.
FAULT_TEST_SRCS := $(wildcard tests/fault/fault_*.c)
FAULT_TESTS := $(FAULT_TEST_SRCS:tests/fault/%.c=$(B)/tests/fault/%)
TEST_PROGRAMS += $(FAULT_TESTS)

$(B)/tests/fault/%: $(B)/tests/fault/%.o $(B)/tests/lib/check.o $(LIB)
	$(call link-program,$@,$< $(B)/tests/lib/check.o)

# tests/serve/: the store-side fixture tool of the serve suite.
TEST_PROGRAMS += $(B)/tests/serve/serve_tool
$(B)/tests/serve/serve_tool: $(B)/tests/serve/serve_tool.o $(LIB)
	$(call link-program,$@,$<)
