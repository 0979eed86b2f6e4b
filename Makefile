# minirec: build everything with plain g++ and make (meson.build builds the same sources).
#   make            library, tests, tutorials, benchmarks (benchmarks only if Google Benchmark is installed)
#   make test       build and run the whole test suite (installs doctest-dev first if it is missing)
#   make demo       build and run the demo (a small CTR model, embeddings + MLP, trained by the engine)
#   make SAN=1 test the same under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, -O1 -g1),
#                   without the chapters' multi-seed claims cases (see SAN_SKIP)
#   make bench      build the benchmarks (run them yourself: build/bench/bench_gemm)
#   make fuzz       build the libFuzzer targets with clang (needs clang and libclang-rt-14-dev) and
#                   run each for FUZZ_SECONDS (default 60) on a copy of its seed corpus (make -j2 fuzz
#                   builds in parallel; the targets still run one after another; make fuzz-build
#                   only builds them)
#   make book       render the book (book/*.md, README.md) to HTML in build/book/ with pandoc
#                   (installs pandoc first if it is missing); open build/book/index.html
#   make check-links  every relative link and image in book/*.md and README.md resolves, and the
#                   README's chapter table matches the pages' claims tables (make test runs it)
#   make readme-table  copy the headline claims rows from the chapter pages into README.md's table
#   make results    run the command of every results marker in book/ch*.md (each chapter's default
#                   configuration) and splice its output into the page, then redo the README's table
#                   (PAGES="book/ch67_coec.md ..." for some pages only)
#   make check-book build the book and open every page in headless Chromium (installs chromium,
#                   chromium-driver, python3-selenium if missing): console errors, images, links, raw TeX
# Sources are found by wildcard: a new .cpp in core/, nn/ or datasets/ joins the library,
# a new tests/*.cpp joins the test binary, a new tutorials/*.cpp becomes an executable.

CXX      ?= g++
ifeq ($(SAN),1)
BUILD    ?= build-asan
# -O1 -g1: ASan + UBSan instrument every access and operation at any -O; -O1 compiles the
# sanitized suite in about 40% of the CPU time of -O2 -g, and -g1 keeps the line tables, so the
# reports still name file:line (full -g only adds variables and types, for a debugger).
OPT      ?= -O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
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

LIB_SRCS   := $(sort $(wildcard core/*.cpp nn/*.cpp datasets/*.cpp tutorials/common/*.cpp))
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
# OpenBLAS (an optional comparator in bench_gemm) is recognised by its own header, openblas_config.h,
# never by cblas.h: Debian's reference libblas-dev installs a cblas.h too (through the alternatives
# system), which has no openblas_set_num_threads. We look where pkg-config says, then where Debian,
# Fedora and Arch put it, and compile against that directory. BLAS_ROOT prefixes the fixed places
# (.ci/check-blas-detection.sh points it, and PKG_CONFIG_LIBDIR, at fake trees in a temp directory).
BLAS_ROOT      ?=
OPENBLAS_DIRS  ?= $(shell pkg-config --variable=includedir openblas 2>/dev/null) \
                  $(sort $(wildcard $(BLAS_ROOT)/usr/include/x86_64-linux-gnu/openblas*)) \
                  $(BLAS_ROOT)/usr/include/openblas $(BLAS_ROOT)/usr/include
OPENBLAS_INC   := $(patsubst %/,%,$(firstword $(foreach d,$(OPENBLAS_DIRS),$(if $(wildcard $(d)/openblas_config.h),$(d)))))
HAVE_OPENBLAS  := $(if $(OPENBLAS_INC),1)
OPENBLAS_LIBS  := $(if $(HAVE_OPENBLAS),$(or $(shell pkg-config --libs openblas 2>/dev/null),-lopenblas))

.PHONY: all lib tests tutorials bench test demo clean deps-test fuzz fuzz-build check-cli blas-info \
        book check-links check-book readme-table results deps-book deps-browser
# Keep the tutorial and benchmark objects (make would delete them as intermediates and rebuild them every time).
.SECONDARY:

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
BENCH_DEFS := $(if $(HAVE_OPENBLAS),-DMINIREC_HAVE_OPENBLAS -I$(OPENBLAS_INC))
BENCH_LIBS := -lbenchmark -lpthread $(OPENBLAS_LIBS)
$(BUILD)/bench/%.o: bench/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) $(BENCH_DEFS) -c $< -o $@
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CXX) $(LDFLAGS) $^ -o $@ $(BENCH_LIBS) $(LDLIBS)

# Tests need doctest (Debian: doctest-dev). Install it when we can, otherwise say what is missing.
deps-test:
	@test -f /usr/include/doctest/doctest.h || sh .ci/install-deps.sh doctest-dev

# The suite, then (outside the sanitizer build) every tutorial executable's command line:
# --help, a missing --data, an unwritable --out, malformed values (tests/cli/check_executables.sh);
# and, where Google Benchmark is installed, the benchmark executables' --help and unknown flags.
# Under the sanitizers the chapters' multi-seed claims cases (named "claims ..." or "verdicts ...")
# are left out: they rerun, three seeds over, code that the chapters' other cases run under the
# sanitizers too, and they would take half an hour there. Every chapter keeps at least one case.
SAN_SKIP := --test-case-exclude=claims*,verdicts*
test: deps-test
	@$(MAKE) --no-print-directory tests HAVE_DOCTEST=1
	$(TEST_BIN) $(if $(SAN),$(SAN_SKIP))
	$(if $(SAN),,@$(MAKE) --no-print-directory check-cli)
	$(if $(SAN),,@$(MAKE) --no-print-directory check-links)

check-cli: tutorials $(if $(HAVE_BENCHMARK),bench)
	bash tests/cli/check_executables.sh $(BUILD)/tutorials $(if $(HAVE_BENCHMARK),$(BUILD)/bench)

demo: $(BUILD)/tutorials/demo_ctr
	$(BUILD)/tutorials/demo_ctr

# The book as a static HTML site (book/tools/build_site.py: pandoc, MathML, previous/next links),
# the Markdown link check (standard-library Python, runs wherever python3 does), and the browser
# check of the built site (book/tools/check_site.py: Debian's chromium through chromium-driver).
# Debian's own python3 (/usr/bin/python3) where there is one: python3-selenium is installed for it.
PYTHON3 ?= $(or $(wildcard /usr/bin/python3),python3)
deps-book:
	@command -v pandoc >/dev/null 2>&1 || sh .ci/install-deps.sh pandoc
	@command -v $(PYTHON3) >/dev/null 2>&1 || sh .ci/install-deps.sh python3
deps-browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver && $(PYTHON3) -c 'import selenium' 2>/dev/null \
	    || sh .ci/install-deps.sh chromium chromium-driver python3-selenium
book: deps-book
	$(PYTHON3) book/tools/build_site.py $(BUILD)/book
check-links:
	@command -v $(PYTHON3) >/dev/null 2>&1 || sh .ci/install-deps.sh python3
	$(PYTHON3) book/tools/check_links.py
	$(PYTHON3) book/tools/readme_table.py --check
# The README's table of chapters, its headline rows copied again from the pages' claims tables.
readme-table:
	$(PYTHON3) book/tools/readme_table.py
# The book's numbers from the code: book/results.sh runs each marker's command and splices stdout.
PAGES ?=
results: tutorials
	bash book/results.sh $(PAGES)
	$(PYTHON3) book/tools/readme_table.py
check-book: book deps-browser
	$(PYTHON3) book/tools/check_site.py $(BUILD)/book

# What the OpenBLAS detection found ("openblas: none" or "openblas: <include dir>").
blas-info:
	@echo "openblas: $(or $(OPENBLAS_INC),none)"

# libFuzzer targets: one per loader, built with clang and the sanitizers. The loaders' sources
# (datasets/, and core/ beneath them) are compiled with the fuzzer's coverage instrumentation too.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -std=c++17 -g -O1 -I. -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJS    := $(patsubst %.cpp,build-fuzz/%.o,$(sort $(wildcard core/*.cpp datasets/*.cpp)))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.cpp,build-fuzz/%,$(wildcard tests/fuzz/fuzz_*.cpp))
build-fuzz/%.o: %.cpp
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.cpp $(FUZZ_OBJS)
	clang++ $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -o $@
fuzz-build: $(FUZZ_TARGETS)
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    name=$$(basename $$t | sed 's/^fuzz_//'); \
	    rm -rf build-fuzz/corpus_$$name && cp -r tests/fuzz/corpus_$$name build-fuzz/corpus_$$name; \
	    echo "fuzzing $$name for $(FUZZ_SECONDS)s"; \
	    $$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 build-fuzz/corpus_$$name \
	        -artifact_prefix=build-fuzz/ 2>build-fuzz/$$name.log || { tail -n 40 build-fuzz/$$name.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units|Done' build-fuzz/$$name.log | tail -n 2; \
	done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
