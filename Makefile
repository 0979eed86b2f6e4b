# minirec: build everything with plain g++ and make (meson.build builds the same sources).
#   make            library, tests, tutorials, benchmarks (benchmarks only if Google Benchmark is installed)
#   make test       build and run the whole test suite (installs doctest-dev first if it is missing)
#   make demo       build and run the first demo (logistic regression trained by the engine)
#   make SAN=1 test the same under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make bench      build the benchmarks (run them yourself: build/bench/bench_gemm)
# Sources are found by wildcard: a new .cpp in core/, nn/ or datasets/ joins the library,
# a new tests/*.cpp joins the test binary, a new tutorials/*.cpp becomes an executable.

CXX      ?= g++
ifeq ($(SAN),1)
BUILD    ?= build-asan
OPT      ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
else
BUILD    ?= build
OPT      ?= -O2 -g
LDSAN    :=
endif
CXXFLAGS ?=
CXXFLAGS += -std=c++17 $(OPT) -Wall -Wextra $(if $(WERROR),-Werror) -I. -MMD -MP
LDFLAGS  += $(LDSAN)
LDLIBS   += -lm

LIB_SRCS   := $(sort $(wildcard core/*.cpp nn/*.cpp datasets/*.cpp))
TEST_SRCS  := $(sort $(wildcard tests/*.cpp))
TUT_SRCS   := $(sort $(wildcard tutorials/*.cpp))
BENCH_SRCS := $(sort $(wildcard bench/*.cpp))

LIB      := $(BUILD)/libminirec.a
LIB_OBJS := $(LIB_SRCS:%.cpp=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/tests/minirec_tests
TUT_BINS := $(TUT_SRCS:%.cpp=$(BUILD)/%)
BENCH_BINS := $(BENCH_SRCS:%.cpp=$(BUILD)/%)

HAVE_DOCTEST   := $(shell test -f /usr/include/doctest/doctest.h && echo 1)
HAVE_BENCHMARK := $(shell test -f /usr/include/benchmark/benchmark.h && echo 1)
HAVE_OPENBLAS  := $(shell test -f /usr/include/x86_64-linux-gnu/cblas.h -o -f /usr/include/cblas.h && echo 1)

.PHONY: all lib tests tutorials bench test demo clean deps-test

all: lib tutorials $(if $(HAVE_DOCTEST),tests) $(if $(HAVE_BENCHMARK),bench)
lib: $(LIB)
tests: $(TEST_BIN)
tutorials: $(TUT_BINS)
bench: $(BENCH_BINS)

$(BUILD)/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(TEST_BIN): $(TEST_SRCS:%.cpp=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tutorials/%: $(BUILD)/tutorials/%.o $(LIB)
	$(CXX) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The GEMM benchmark also times OpenBLAS when libopenblas-dev is installed (never required).
BENCH_DEFS := $(if $(HAVE_OPENBLAS),-DMINIREC_HAVE_OPENBLAS)
BENCH_LIBS := -lbenchmark -lpthread $(if $(HAVE_OPENBLAS),-lopenblas)
$(BUILD)/bench/%.o: bench/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(BENCH_DEFS) -c $< -o $@
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CXX) $(LDFLAGS) $^ -o $@ $(BENCH_LIBS) $(LDLIBS)

# Tests need doctest (Debian: doctest-dev). Install it when we can, otherwise say what is missing.
deps-test:
	@test -f /usr/include/doctest/doctest.h || sh .ci/install-deps.sh doctest-dev

test: deps-test
	@$(MAKE) --no-print-directory tests HAVE_DOCTEST=1
	$(TEST_BIN)

demo: $(BUILD)/tutorials/demo_logreg
	$(BUILD)/tutorials/demo_logreg

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
