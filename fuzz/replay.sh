#!/bin/sh
# fuzz/replay.sh [BUILD_DIR] — replays every fuzz corpus (fuzz/corpus/TARGET/)
# through its target built with gcc, ASan and UBSan (make check). Any crash or
# sanitizer report fails. Run from the checkout root.
set -eu
B=${1:-build/asan}
CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Iinclude -Isrc \
 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
LIBS="-licui18n -licuuc -licudata -lstemmer -llmdb -lzstd -lm -lpthread"
mkdir -p "$B/fuzz"
for t in fuzz/fuzz_*.c; do
	name=$(basename "$t" .c); name=${name#fuzz_}
	cc $CFLAGS -o "$B/fuzz/replay_$name" "$t" fuzz/replay.c "$B/libfuret.a" $LIBS
	printf '%s: ' "$name"
	"$B/fuzz/replay_$name" "fuzz/corpus/$name"
done
