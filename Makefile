# Helios build.  Plain GNU make; pkg-config is called once.
#
#   make            build build/helios and build/libhelios.a (build packages only)
#   make run        install missing packages, build, start the daemon
#   make test       install missing test packages and npm modules, build, run
#                   the whole suite (unit, API, integration); ends
#                   "N passed, N failed"
#   make check      the suite under ASan and UBSan
#   make bench      benchmarks (figures, not assertions)
#   make fuzz       long libFuzzer runs of the request parser, the list
#                   files' reader and writer (textfmt), the client's
#                   manifest reader, import --git's line provenance and
#                   restore's reading of a published tree
#   make mutate     mutation testing: breaks each behaviour listed in
#                   tests/mutate/mutations.txt in a copy of the tree and
#                   reports whether the tests catch it (15 to 60 minutes
#                   on two cores, by load)
#   make chaos      chaos tests: kill -9 at random moments, a full disk,
#                   torn reads (CHAOS_TRIALS=1000 for the long form)

PKGS    = sqlite3 libmicrohttpd libcurl libgit2 zlib jansson libcrypto \
          yaml-0.1 libpcre2-8 libseccomp libdeflate
CC     ?= cc
CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wno-unused-parameter \
          $(INC) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libunistring (Python's str.lower(), src/base/pystr.c) has no pkg-config file.
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lunistring -lpthread
B      ?= build

# The layers, lowest first (each folder's README says what it may include;
# tests/tools/layers.sh checks it): base, store, generator, targets, the
# daemon and CLI; the client apart, on the base alone.
DIRS     = src/base src/store gen gen/targets src src/client
INC      = $(foreach d,$(DIRS),-iquote $(d))
HDRS     = $(foreach d,$(DIRS),$(wildcard $(d)/*.h))

LIB_SRC  = $(filter-out src/main.c,$(foreach d,$(DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  = $(patsubst %.c,$(B)/%.o,$(LIB_SRC)) $(B)/schema_sql.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))

all: $(B)/helios

$(B)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The SQL migrations are compiled into the binary, in file-name order.
$(B)/schema_sql.c: $(sort $(wildcard schema/*.sql)) tests/tools/embed.sh
	@mkdir -p $(B)
	sh tests/tools/embed.sh $(sort $(wildcard schema/*.sql)) > $@

$(B)/schema_sql.o: $(B)/schema_sql.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libhelios.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(B)/helios: $(B)/src/main.o $(B)/libhelios.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# tests/unit/crashvfs.c (the power-loss and fault VFS), testdb.c (a
# test's database files) and testgit.c (the git server script) link into
# every unit binary; only the store's durability tests call the first.
TEST_OBJS = $(B)/tests/crashvfs.o $(B)/tests/testdb.o $(B)/tests/testgit.o

$(B)/tests/%.o: tests/unit/%.c tests/unit/%.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(TEST_OBJS) $(B)/libhelios.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_OBJS) \
	    $(B)/libhelios.a $(LDLIBS) -lcmocka

deps:
	@sh tests/tools/deps.sh

# What the suite needs beyond the build: test servers and tools (Debian),
# and the npm modules of package-lock.json.
test-deps:
	@sh tests/tools/deps.sh test

run: deps
	$(MAKE) $(B)/helios
	sh tests/tools/run.sh $(B)/helios

units: $(B)/helios $(UNIT_BIN)

test: test-deps
	$(MAKE) units
	sh tests/run.sh $(B)

# The flags for code built outside this file (benchmarks, fuzzing, the
# static test server): include paths and packages' flags, and libraries.
print-cflags:
	@echo $(INC) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

print-libs:
	@echo $(LDLIBS)

check:
	$(MAKE) B=build-san CC=clang \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" test

bench: test-deps
	$(MAKE) units
	sh tests/bench/run.sh $(B)

fuzz:
	sh tests/fuzz/run.sh long

chaos: all
	HELIOS_BIN=$(abspath $(B))/helios sh tests/chaos/run.sh

mutate: test-deps
	sh tests/mutate/run.sh

install: all
	install -d $(DESTDIR)/usr/local/bin $(DESTDIR)/usr/local/share/man/man1 \
	    $(DESTDIR)/usr/local/share/man/man5
	install -m 755 $(B)/helios $(DESTDIR)/usr/local/bin/helios
	install -m 644 src/helios.1 $(DESTDIR)/usr/local/share/man/man1/helios.1
	install -m 644 src/helios.conf.5 \
	    $(DESTDIR)/usr/local/share/man/man5/helios.conf.5

clean:
	rm -rf build build-san build-fuzz

.PHONY: all deps test-deps units run test print-cflags print-libs check bench fuzz mutate chaos install clean
