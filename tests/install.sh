#!/bin/sh
# tests/install.sh BUILD_DIR — installs furet into a temporary prefix as a
# user would (make install PREFIX=...), then checks what landed there: the
# soname and links of the shared library, its exported symbols (furet_*
# only), furet.pc, the man page (it renders without a warning), the bash
# completion; builds every example and the README's library example against
# the installed library with pkg-config, dynamically and statically, and runs
# them on small real indexes built from corpus/. Also a DESTDIR staging and
# make uninstall. Run by tests/run.sh.
set -u
B=${1:-build}
T=$(mktemp -d "${TMPDIR:-/tmp}/furet-install-XXXXXX")
trap 'rm -rf "$T"' EXIT
P=$T/prefix
pass=0; fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: the command succeeds
check() { d=$1; shift; if "$@" >"$T/out" 2>"$T/err"; then ok; else ko "$d"; sed 's/^/    /' "$T/err" >&2; fi; }

# --- make install into a prefix -------------------------------------------------
check "make install PREFIX=$P" make -s --no-print-directory B="$B" PREFIX="$P" install
for f in bin/furet include/furet.h lib/libfuret.a lib/libfuret.so.0.1.0 \
	lib/pkgconfig/furet.pc share/man/man1/furet.1 \
	share/bash-completion/completions/furet; do
	[ -f "$P/$f" ] && ok || ko "make install did not install $f"
done
[ "$(readlink "$P/lib/libfuret.so.0")" = libfuret.so.0.1.0 ] && ok || ko "libfuret.so.0 link"
[ "$(readlink "$P/lib/libfuret.so")" = libfuret.so.0 ] && ok || ko "libfuret.so link"
readelf -d "$P/lib/libfuret.so.0.1.0" | grep -q 'SONAME.*\[libfuret\.so\.0\]' && ok ||
	ko "soname is not libfuret.so.0: $(readelf -d "$P/lib/libfuret.so.0.1.0" | grep SONAME)"
bad=$(nm -D --defined-only "$P/lib/libfuret.so" | awk '$2 ~ /^[TDBRVWiu]$/ && $3 !~ /^furet_/ {print $3}')
[ -z "$bad" ] && ok || ko "libfuret.so exports non-furet symbols: $bad"
n=$(nm -D --defined-only "$P/lib/libfuret.so" | grep -c ' T furet_')
[ "$n" -ge 30 ] && ok || ko "libfuret.so exports only $n furet_ functions"
"$P/bin/furet" --version >"$T/out" 2>&1 && grep -q "^furet 0\.1\.0 " "$T/out" && ok || ko "installed furet --version"

# --- pkg-config -------------------------------------------------------------------------
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
[ "$(pkg-config --modversion furet)" = 0.1.0 ] && ok || ko "pkg-config --modversion furet"
[ "$(echo $(pkg-config --cflags furet))" = "-I$P/include" ] && ok || ko "pkg-config --cflags furet: $(pkg-config --cflags furet)"
[ "$(echo $(pkg-config --libs furet))" = "-L$P/lib -lfuret" ] && ok || ko "pkg-config --libs furet: $(pkg-config --libs furet)"
pkg-config --static --libs furet | grep -q -- '-licuuc.*-lstemmer.*-llmdb.*-lzstd.*-llz4' && ok ||
	ko "pkg-config --static --libs furet lacks the dependencies"

# --- the examples, built against the installed library -----------------------------
# A sanitizer build of the library needs its runtime in the programs, and a
# sanitizer cannot link fully static: there, "static" links libfuret.a and
# the dependencies the --static flags name, the C library staying shared.
san=""; static="-static"
if nm -D "$P/lib/libfuret.so" | grep -q ' U __asan'; then
	san="-fsanitize=address,undefined"; static=""
fi
CFLAGS_EX="-std=c11 -Wall -Wextra -Werror $san $(pkg-config --cflags furet)"
LIBS_STATIC=$(pkg-config --static --libs furet)
[ -z "$static" ] && LIBS_STATIC=$(echo "$LIBS_STATIC" | sed 's/-lfuret/-l:libfuret.a/')
mkdir -p "$T/dyn" "$T/static"
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' README.md >"$T/readme.c"
for src in examples/*.c "$T/readme.c"; do
	name=$(basename "$src" .c)
	check "$name: dynamic build with pkg-config --cflags --libs furet" \
		cc $CFLAGS_EX -o "$T/dyn/$name" "$src" $(pkg-config --libs furet) -Wl,-rpath,"$P/lib"
	ldd "$T/dyn/$name" 2>/dev/null | grep -q "libfuret.so.0 => $P/lib/libfuret.so.0" && ok ||
		ko "$name does not load the installed libfuret.so.0"
	check "$name: static build with pkg-config --static" \
		cc $static $CFLAGS_EX -o "$T/static/$name" "$src" $LIBS_STATIC
	if ldd "$T/static/$name" 2>/dev/null | grep -q libfuret; then ko "$name (static) loads libfuret.so"; else ok; fi
done
[ -n "$static" ] || echo "SKIP: fully static links (sanitizer build); libfuret.a linked instead"

IX=$T/ix
check "installed furet indexes corpus/" "$P/bin/furet" index -q -i "$IX" corpus
for v in dyn static; do
	X=$T/$v
	# search: the three best passages, the funding paragraph first.
	check "$v/search" "$X/search" "$IX" 'Qui finance POP School ?'
	[ "$(wc -l <"$T/out")" = 3 ] && ok || ko "$v/search prints 3 hits: $(cat "$T/out")"
	[ "$(head -1 "$T/out" | cut -f4)" = "POP School" ] && ok || ko "$v/search: rank 1 is not in section POP School"
	head -1 "$T/out" | grep -q '\[financement\]' && ok || ko "$v/search highlights the matched words"
	"$X/search" "$IX" 'xylophonesque' >"$T/out" 2>&1; [ $? -eq 1 ] && [ ! -s "$T/out" ] && ok ||
		ko "$v/search: no hit is exit 1 and no output"
	check "$v/readme" "$X/readme" "$IX" 'Qui finance POP School ?'
	grep -q '^1 [0-9.]* corpus/fabriques-du-numerique.txt #[0-9]* POP School$' "$T/out" && ok ||
		ko "$v/readme output: $(head -1 "$T/out")"

	# compose: a query built from parts, none of them read as syntax.
	check "$v/compose" "$X/compose" "$IX" -p 'POP School' -x Valenciennes numérique
	[ "$(wc -l <"$T/out")" -ge 1 ] && ! grep -v 'POP School' "$T/out" | grep -q . &&
		! grep -q Valenciennes "$T/out" && ok || ko "$v/compose -p -x: $(cat "$T/out")"

	# index_stdin: the documents another program (awk) writes, one per line.
	S=$T/stdin-$v
	awk 'NF { n++; printf "p%d\tParagraphe %d\t%s\n", n, n, $0 }' corpus/fabriques-du-numerique.txt >"$T/lines"
	nl=$(wc -l <"$T/lines")
	"$X/index_stdin" "$S" <"$T/lines" >"$T/out" 2>"$T/err"; st=$?
	[ $st -eq 0 ] && grep -q "^$nl added, 0 updated, 0 unchanged, $nl passages$" "$T/out" && ok ||
		ko "$v/index_stdin: exit $st, $(cat "$T/out" "$T/err")"
	"$X/search" "$S" 'Fonds social européen' >"$T/out" 2>&1
	p=$(head -1 "$T/out" | cut -f3)
	grep "^$p	" "$T/lines" | grep -q '92%' && ok || ko "$v/index_stdin: Fonds social européen finds $p"
	"$X/index_stdin" "$S" <"$T/lines" >"$T/out" 2>&1
	grep -q "^0 added, 0 updated, $nl unchanged, 0 passages$" "$T/out" && ok || ko "$v/index_stdin again: $(cat "$T/out")"
	printf 'x1\tDeux\tUn paragraphe sur les abeilles.\\n\\nUn autre sur le miel.\nsans tabulation\n' |
		"$X/index_stdin" "$S" >"$T/out" 2>"$T/err"; st=$?
	[ $st -eq 1 ] && grep -q '^1 added, 0 updated, 0 unchanged, 2 passages$' "$T/out" &&
		grep -q 'line 2: no tab' "$T/err" && ok || ko "$v/index_stdin escapes and a bad line: exit $st, $(cat "$T/out" "$T/err")"

	# rebuild: a directory kept in step with its index.
	R=$T/rebuild-$v; D=$T/docs-$v
	mkdir -p "$D/sub"
	cp corpus/fabriques-du-numerique.txt "$D/"
	printf '# Les abeilles\n\nLes abeilles font du miel.\n' >"$D/sub/abeilles.md"
	"$X/rebuild" "$R" "$D/" >"$T/out" 2>&1
	grep -q '^2 added, 0 updated, 0 removed, 0 unchanged$' "$T/out" && ok || ko "$v/rebuild first run: $(cat "$T/out")"
	"$X/rebuild" "$R" "$D" >"$T/out" 2>&1
	grep -q '^0 added, 0 updated, 0 removed, 2 unchanged$' "$T/out" && ok || ko "$v/rebuild unchanged: $(cat "$T/out")"
	rm "$D/sub/abeilles.md"; echo 'Un paragraphe ajouté.' >>"$D/fabriques-du-numerique.txt"
	"$X/rebuild" -n "$R" "$D" >"$T/out" 2>&1
	grep -q '^0 added, 1 updated, 1 removed, 0 unchanged (dry run)$' "$T/out" && ok || ko "$v/rebuild -n: $(cat "$T/out")"
	"$X/search" "$R" abeilles >/dev/null 2>&1 && ok || ko "$v/rebuild -n committed something"
	"$X/rebuild" "$R" "$D" >"$T/out" 2>&1
	grep -q '^0 added, 1 updated, 1 removed, 0 unchanged$' "$T/out" && ok || ko "$v/rebuild: $(cat "$T/out")"
	"$X/search" "$R" abeilles >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "$v/rebuild did not remove the deleted file"
	"$X/search" "$R" 'paragraphe ajouté' >"$T/out" 2>&1 && grep -q 'ajouté' "$T/out" && ok ||
		ko "$v/rebuild did not index the change"
done

# --- the man page renders -----------------------------------------------------------
M=$P/share/man/man1/furet.1
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$M" 2>"$T/err" && [ ! -s "$T/err" ] && ok ||
		{ ko "groff warns on furet.1"; sed 's/^/    /' "$T/err" >&2; }
else
	echo "SKIP: groff -ww on furet.1 (groff absent; .ci/deps installs groff-base)"
fi
if command -v man >/dev/null 2>&1; then
	MANWIDTH=80 man -l "$M" >"$T/out" 2>"$T/err" && [ ! -s "$T/err" ] && ok ||
		{ ko "man -l furet.1"; sed 's/^/    /' "$T/err" >&2; }
	for s in NAME SYNOPSIS COMMANDS 'QUERY LANGUAGE' 'JSON OUTPUT' ENVIRONMENT 'EXIT STATUS' FILES EXAMPLES; do
		grep -q "^$s\$" "$T/out" && ok || ko "man page lacks the section $s"
	done
	for w in FURET_INDEX NO_COLOR 'furet compact' 'l.école'; do
		grep -q "$w" "$T/out" && ok || ko "man page lacks $w"
	done
	# Every command of furet --help has its entry.
	for c in $("$P/bin/furet" --help | awk '/^  [a-z]+ / {print $1}'); do
		grep -Eq "^       $c( |\$)" "$T/out" && ok || ko "man page lacks the command $c"
	done
else
	echo "SKIP: man -l furet.1 (man absent; .ci/deps installs man-db)"
fi

# --- the bash completion ----------------------------------------------------------------
if command -v bash >/dev/null 2>&1; then
	mkdir -p "$T/c/dir" && : >"$T/c/a.txt" && : >"$T/c/b.csv"
	comp() { (cd "$T/c" && bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _furet
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$P/share/bash-completion/completions/furet" "$@"); }
	[ "$(comp furet se)" = "search " ] && ok || ko "completion of 'furet se': $(comp furet se)"
	[ "$(comp furet search --ex)" = "--explain " ] && ok || ko "completion of 'furet search --ex'"
	[ "$(comp furet stats -i '')" = "dir " ] && ok || ko "completion of -i: $(comp furet stats -i '')"
	[ "$(comp furet index '')" = "a.txt dir " ] && ok || ko "completion of index paths: $(comp furet index '')"
else
	echo "SKIP: bash completion (no bash)"
fi

# --- DESTDIR staging and uninstall --------------------------------------------------------
check "make install DESTDIR" make -s --no-print-directory B="$B" PREFIX=/usr/local DESTDIR="$T/stage" install
grep -q '^prefix=/usr/local$' "$T/stage/usr/local/lib/pkgconfig/furet.pc" && ok || ko "staged furet.pc does not say prefix=/usr/local"
[ -x "$T/stage/usr/local/bin/furet" ] && ok || ko "DESTDIR: no furet binary"
check "make uninstall DESTDIR" make -s --no-print-directory B="$B" PREFIX=/usr/local DESTDIR="$T/stage" uninstall
[ -z "$(find "$T/stage" ! -type d)" ] && ok || ko "make uninstall left: $(find "$T/stage" ! -type d)"
check "make uninstall PREFIX" make -s --no-print-directory B="$B" PREFIX="$P" uninstall
[ -z "$(find "$P" ! -type d)" ] && ok || ko "make uninstall left: $(find "$P" ! -type d)"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
