#!/bin/sh
# fuzz/replay.sh [BUILD_DIR] — replays every fuzz corpus (fuzz/corpus/TARGET/)
# through its target built with gcc, ASan and UBSan (make check). Any crash or
# sanitizer report fails. Run from the checkout root. What a target prints on
# stderr (the JSONL reader names bad lines) goes to BUILD_DIR/fuzz/TARGET.err,
# shown when the replay fails.
set -eu
B=${1:-build/asan}
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Iinclude -Isrc \
 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
LIBS="-licui18n -licuuc -licudata -lstemmer -llmdb -lzstd -llz4 -lm -lpthread"
mkdir -p "$B/fuzz"
for t in fuzz/fuzz_*.c; do
	name=$(basename "$t" .c); name=${name#fuzz_}
	extra=""
	# The JSONL reader is the command line's (src/cli/ingest.c, jansson).
	[ "$name" = jsonl ] && extra="-Isrc/cli src/cli/ingest.c src/cli/jsonflat.c src/cli/safe.c src/cli/progress.c -ljansson"
	cc $CFLAGS -o "$B/fuzz/replay_$name" "$t" fuzz/replay.c $extra "$B/libfuret.a" $LIBS
	printf '%s: ' "$name"
	if ! "$B/fuzz/replay_$name" "fuzz/corpus/$name" 2>"$B/fuzz/$name.err"; then
		tail -40 "$B/fuzz/$name.err" >&2
		exit 1
	fi
done
