# bench/: measuring programs, built with `make bench` (release build) and
# run by bench/run.sh. One line per program; each links against $(LIB).
BENCH_PROGRAMS := $(B)/bin/json_roundtrip

$(B)/bin/json_roundtrip: $(B)/bench/json_roundtrip.o $(LIB)
	$(call link-program,$@,$<)

bench: $(BENCH_PROGRAMS)

# Built in the test build too, so `make test` keeps them compiling.
TEST_PROGRAMS += $(BENCH_PROGRAMS)
