#!/bin/sh
# tests/hostile.sh BUILD_DIR — hostile input through the real binary: bad
# documents, bad queries, damaged indexes. For each case: furet names the
# file (and line) in one message, indexes everything else, never crashes nor
# hangs (every run is under `timeout`), and its exit status says what
# happened (README, "Bad input"). $FURET_WRAP prefixes the furet runs.
# Needs $B/furet and $B/tests/jsoncheck; mdb_load (lmdb-utils) and setpriv
# for two cases, which say SKIP without them.
set -u
B=${1:-build}
FURET="${FURET_WRAP:-} $B/furet"
JC=$B/tests/jsoncheck
T=$(mktemp -d "${TMPDIR:-/tmp}/furet-hostile-XXXXXX")
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0; fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# run ARGS...: furet with a time limit; stdout in $T/out, stderr in $T/err,
# status in $st. A crash, a sanitizer report or a hang always fails.
run() {
	timeout 120 $FURET "$@" >"$T/out" 2>"$T/err"; st=$?
	if [ "$st" -gt 2 ] || grep -q 'Sanitizer\|runtime error\|went outside' "$T/err"; then
		ko "furet $* crashed or hung (exit $st)"; sed 's/^/    /' "$T/err" | head -20 >&2
	fi
}
expect_status() { [ "$st" -eq "$1" ] && ok || { ko "$2: exit $st, expected $1"; sed 's/^/    /' "$T/err" | head -20 >&2; }; }
expect_err() { grep -q -- "$1" "$T/err" && ok || { ko "$2: stderr lacks '$1'"; sed 's/^/    /' "$T/err" | head -20 >&2; }; }
# once PATTERN WHAT: exactly one line of stderr matches
once() { n=$(grep -c -- "$1" "$T/err"); [ "$n" -eq 1 ] && ok || { ko "$2: $n lines match '$1', expected 1"; sed 's/^/    /' "$T/err" | head -20 >&2; }; }
docs_in() { $B/furet stats -i "$1" --json 2>/dev/null | $JC get 1 documents; }
found() { timeout 60 $B/furet search -i "$1" -- "$2" >/dev/null 2>&1 && ok || ko "$3: '$2' not found in $1"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
can_drop() { [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && as_nobody true 2>/dev/null; }

# --- bad documents, all in one run --------------------------------------------
D=$T/docs; mkdir -p "$D/sub"
printf 'Un document sain sur la formation des jeunes.\n' >"$D/good.txt"
printf 'Le texte commence bien puis \377\376 des octets perdus, et la suite est indexée.\n' >"$D/badutf8.txt"
printf 'avant\000après le zéro\n' >"$D/nul.txt"
{ head -c 9000 /dev/zero | tr '\0' 'x'; printf ' milieu\000tardif fin\n'; } >"$D/nullate.txt"
{ printf '\211PNG\r\n\032\n\000\000\000\rIHDR'; head -c 4096 /dev/urandom; } >"$D/photo.png"
cp "$D/photo.png" "$D/image.txt"
: >"$D/empty.txt"
printf '   \n\n' >"$D/blank.md"
ln -s .. "$D/sub/loop"
ln -s selfloop.txt "$D/selfloop.txt"
printf 'Ce fichier disparaît pendant la lecture.\n' >"$D/gone.txt"
printf 'Un secret bien gardé.\n' >"$D/secret.txt"; chmod 000 "$D/secret.txt"
{
	printf '%s\n' '{"id":"j1","text":"Brouillon abandonné du document jsonl."}'
	printf '%s\n' '{"id":"j2","text":"ligne cassée"'
	printf '%s\n' '{"id":"j3","title":"Sans texte"}'
	printf '%s\n' '{"id":42,"text":"identifiant numérique"}'
	printf '%s\n' '{"id":"j1","text":"Seconde version du document jsonl, la bonne."}'
	printf '%s\n' '{"id":"j5","text":"Un document jsonl correct."}'
} >"$D/docs.jsonl"
printf '{"id":"l1","text":"Cr\350me br\373l\351e \340 la fran\347aise."}\n' >"$D/latin1.jsonl"
# A bad byte after UTF-8 accents, and one before them: damaged UTF-8 both
# times, not Latin-1 (the accents before the bad byte count too).
printf '{"id":"u1","text":"caf\303\251 cr\303\250me \377 sorbet"}\n' >"$D/badlate.jsonl"
printf '{"id":"u2","text":"\377 tartelette \303\240 la framboise"}\n' >"$D/badfirst.jsonl"
# Escape sequences in a file name and in a repeated id: never raw on stderr.
printf '\000' >"$D/$(printf 'esc\033[2Jname\nline.txt')"
printf '%s\n' '{"id":"e\u001b]0;titre\u0007","text":"un"}' '{"id":"e\u001b]0;titre\u0007","text":"deux"}' >"$D/esc.jsonl"
FURET_TEST_DELETE_BEFORE_READ="$D/gone.txt" run index -i "$T/ix" "$D"
expect_status 2 "bad documents: something was skipped"
once 'badutf8.txt: invalid UTF-8 at byte 28 (2 invalid bytes); replaced with U+FFFD and indexed' "invalid UTF-8"
once 'nul.txt: binary file, skipped' "NUL byte"
once 'image.txt: binary file, skipped' "binary file"
if grep -q 'photo.png' "$T/err"; then ko "a .png file is not a document: no message expected"; else ok; fi
once 'empty.txt: empty, nothing to index' "empty file"
once 'blank.md: empty, nothing to index' "blank file"
once 'sub/loop: directory loop' "symbolic-link loop"
once 'selfloop.txt: Too many levels of symbolic links; skipped' "link to itself"
once 'gone.txt: No such file or directory; skipped' "file deleted during the run"
once 'docs.jsonl:2: invalid JSON' "broken JSONL line"
once 'docs.jsonl:3: "text" is missing; line skipped' "missing text"
once 'docs.jsonl:4: "id" is not a string; line skipped' "non-string id"
once 'docs.jsonl:5: id j1 was already in this batch; the last one wins' "duplicate id"
once 'latin1.jsonl:1: not UTF-8; read as Windows-1252 (Latin-1)' "a Latin-1 JSONL line"
once 'badlate.jsonl:1: invalid UTF-8 at byte 32 of the line; replaced with U+FFFD' "a JSONL line with a bad byte after accents"
once 'badfirst.jsonl:1: invalid UTF-8 at byte 19 of the line; replaced with U+FFFD' "a JSONL line with a bad byte before accents"
once 'esc.jsonl:2: id e ]0;titre  was already in this batch' "a repeated id with escapes, made safe"
once 'esc \[2Jname line.txt: binary file, skipped' "a file name with escapes, made safe"
if grep -q "$(printf '\033')" "$T/err"; then ko "raw ESC on stderr"; else ok; fi
expect_err 'some inputs were skipped, see above' "summary says inputs were skipped"
if [ "$(id -u)" -ne 0 ]; then
	once 'secret.txt: Permission denied; skipped' "unreadable file"
else
	echo "SKIP: chmod 000 does not stop root (the unreadable file is checked as nobody below)"
fi
# good, badutf8, nullate, j1, j5, l1, u1, u2, the escaped id (+ secret.txt
# as root)
n=$(docs_in "$T/ix"); [ "$n" -ge 9 ] && [ "$n" -le 10 ] && ok || ko "bad documents: $n documents indexed, expected 9 (10 as root)"
found "$T/ix" 'sorbet' "a JSONL line repaired after accents"
found "$T/ix" 'tartelette framboise' "a JSONL line repaired before accents"
found "$T/ix" 'crème brûlée' "a Latin-1 JSONL line converted"
found "$T/ix" 'formation jeunes' "the good file"
found "$T/ix" 'suite indexée' "the rest of a file with invalid UTF-8"
found "$T/ix" 'tardif' "a NUL after the first 8 KiB is text"
found "$T/ix" '"Seconde version"' "the last duplicate wins"
timeout 60 $B/furet search -i "$T/ix" --json 'tardif' >"$T/out" 2>/dev/null
$JC hits <"$T/out" && ok || ko "JSON output with a NUL in the text is not valid JSON"
timeout 60 $B/furet search -i "$T/ix" 'brouillon abandonné' >"$T/out" 2>/dev/null; s=$?
[ "$s" -eq 1 ] && ok || ko "the first duplicate is still found (exit $s)"

# A file furet cannot read, when root can drop to nobody.
if can_drop; then
	U=$T/unreadable; mkdir -p "$U"; chmod 777 "$T" "$U"
	printf 'Lisible par tous.\n' >"$U/ok.txt"
	printf 'Secret.\n' >"$U/secret.txt"; chmod 600 "$U/secret.txt"
	chmod 644 "$U/ok.txt"
	timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		$B/furet index -i "$U/ix" "$U" >"$T/out" 2>"$T/err"; st=$?
	expect_status 2 "unreadable file"
	once 'secret.txt: Permission denied; skipped' "unreadable file named"
	[ "$(docs_in "$U/ix")" = 1 ] && ok || ko "unreadable file: the readable one is indexed"
else
	echo "SKIP: unreadable file as root (setpriv or the nobody user missing)"
fi

# Warnings alone (repaired UTF-8, empty files, a loop, duplicates) skip
# nothing that holds text: exit 0.
W=$T/warn; mkdir -p "$W"
cp "$D/badutf8.txt" "$D/empty.txt" "$W/"; ln -s . "$W/loop"
printf '%s\n' '{"id":"a","text":"un"}' '{"id":"a","text":"deux"}' >"$W/dup.jsonl"
run index -i "$T/ixw" "$W"; expect_status 0 "warnings only"
once 'dup.jsonl:2: id a was already in this batch' "duplicate named"

# --- big inputs -------------------------------------------------------------------
# A 50 MB line (one paragraph of 8 million words) and a 20 MB JSON value.
G=$T/big; mkdir -p "$G"
awk 'BEGIN { s = "Le projet forme des jeunes du quartier au numérique. ";
	while (length(line) < 1048576) line = line s;
	for (i = 0; i < 50; i++) printf "%s", line; printf "\n" }' >"$G/line.txt"
awk 'BEGIN { s = "La fabrique accueille des apprenants en reconversion. ";
	while (length(v) < 1048576) v = v s;
	printf "{\"id\":\"grand\",\"title\":\"Vingt mégaoctets\",\"text\":\"";
	for (i = 0; i < 20; i++) printf "%s", v; printf "\"}\n" }' >"$G/value.jsonl"
[ "$(wc -c <"$G/line.txt")" -ge 50000000 ] && ok || ko "the 50 MB line is too short"
run index -q -i "$T/ixbig" "$G"; expect_status 0 "a 50 MB line and a 20 MB value"
[ "$(docs_in "$T/ixbig")" = 2 ] && ok || ko "big inputs: 2 documents expected"
found "$T/ixbig" 'reconversion' "the 20 MB value"
found "$T/ixbig" 'quartier numérique' "the 50 MB line"

# 10,000 tiny files.
M=$T/many; mkdir -p "$M"
i=0; while [ $i -lt 10000 ]; do
	d=$M/d$((i / 500)); [ -d "$d" ] || mkdir "$d"
	printf 'note %d\n' "$i" >"$d/n$i.txt"; i=$((i + 1))
done
run index -q -i "$T/ixmany" "$M"; expect_status 0 "10,000 tiny files"
[ "$(docs_in "$T/ixmany")" = 10000 ] && ok || ko "10,000 tiny files: $(docs_in "$T/ixmany") indexed"

# Deep directories: 200 levels are walked; at 300 the path, which is the
# document id, passes the 511 bytes an id may hold, and the file is named.
p=$T/deep; i=0; while [ $i -lt 300 ]; do p=$p/d; i=$((i + 1)); [ $i -eq 200 ] && mid=$p; done
mkdir -p "$p"
printf 'Tout au fond de l’arborescence.\n' >"$mid/fond.txt"
printf 'Encore plus profond.\n' >"$p/abysse.txt"
run index -i "$T/ixdeep" "$T/deep"; expect_status 2 "deep directories"
once 'abysse.txt: document id of [0-9]* bytes (at most 511)' "a path too long for an id"
found "$T/ixdeep" 'arborescence' "a file 200 directories deep"

# --- bad queries --------------------------------------------------------------------
Q=$T/ix
run search -i "$Q" ''; expect_status 1 "empty query: no hit, not an error"
run search -i "$Q" 'le la les de des du'; [ "$st" -le 1 ] && ok || ko "only stop words: exit $st"
run search -i "$Q" 'la suite'; expect_status 0 "stop words kept when nothing else is left"
run search -i "$Q" '?!... ;; -- ,'; expect_status 1 "only punctuation"
run search -i "$Q" '"document jsonl'; expect_status 0 "unbalanced quote"
run search -i "$Q" '((document OR formation'; expect_status 0 "unclosed parenthesis"
run search -i "$Q" ')) formation ((' ; expect_status 0 "stray parentheses"
run search -i "$Q" '« document'; expect_status 0 "unclosed French quote"
big=$(awk 'BEGIN { s = "formation des jeunes et document jsonl ";
	while (length(q) < 102400) q = q s; print q }')
run search -i "$Q" "$big"; expect_status 0 "100 KB query"
run search -i "$Q" "$(printf 'formation\001\033[2J\033]0;x\007 jeunes\177')"
expect_status 0 "control characters in the query"
if grep -q "$(printf '\033')" "$T/out" "$T/err"; then ko "raw ESC echoed"; else ok; fi
run search -i "$Q" "$(printf 'formaton\033[31m')"
if grep -q "$(printf '\033')" "$T/err"; then ko "raw ESC in did-you-mean"; else ok; fi
run search -i "$Q" "$(printf 'caf\351')"; expect_status 2 "a query that is not UTF-8"
expect_err 'not UTF-8' "the query error says why"

# --- damaged indexes ------------------------------------------------------------------
run index -q -i "$T/good" corpus; expect_status 0 "index the corpus"
size=$(wc -c <"$T/good/data.mdb")
fresh() { rm -rf "$T/bad"; mkdir -p "$T/bad"; cp "$T/good/data.mdb" "$T/bad/"; }
# poke OFFSET BYTE...: writes the bytes (decimal) at OFFSET of bad/data.mdb
poke() {
	off=$1; shift
	for v in "$@"; do
		printf "$(printf '\\%03o' "$v")" |
			dd of="$T/bad/data.mdb" bs=1 seek="$off" conv=notrunc 2>/dev/null
		off=$((off + 1))
	done
}
# all_exit2 WHAT PATTERN: check, search and stats each exit 2 with one message
all_exit2() {
	for c in check stats "search formation"; do
		run $c -i "$T/bad"; expect_status 2 "$1: $c"
		once "$2" "$1: $c message"
	done
}

# Random bytes flipped anywhere: an answer or exit 2, never a crash or a hang.
i=0; n2=0
while [ $i -lt 25 ]; do
	fresh
	k=0; while [ $k -lt 6 ]; do
		poke "$(shuf -i 0-$((size - 1)) -n 1)" "$(shuf -i 0-255 -n 1)"; k=$((k + 1))
	done
	for c in check stats "search formation numérique"; do
		run $c -i "$T/bad"
		[ "$st" -eq 2 ] && n2=$((n2 + 1)) && { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^furet: ' "$T/err" && ok ||
			{ ko "flipped bytes: $c: exit 2 without one message"; sed 's/^/    /' "$T/err" >&2; cp "$T/bad/data.mdb" "$T/../furet-flip-$i.mdb"; }; }
	done
	i=$((i + 1))
done
echo "hostile: random flips: $n2 of 75 runs refused the damaged index (exit 2), the others answered"

# The header of the main database's root page (lower and upper) damaged.
u64() { od -An -t u8 -j "$1" -N 8 "$T/good/data.mdb" | tr -d ' '; }
cur=0; [ "$(u64 $((4096 + 16 + 128)))" -gt "$(u64 $((16 + 128)))" ] && cur=4096
root=$(u64 $((cur + 16 + 24 + 48 + 40)))
fresh; poke $((root * 4096 + 12)) 255 255 1 0
all_exit2 "damaged page header" "is damaged (page $root has a damaged header)"
# A page number in the meta page beyond the file.
fresh; poke $((16 + 24 + 48 + 40)) 255 255 255 0; poke $((4096 + 16 + 24 + 48 + 40)) 255 255 255 0
all_exit2 "meta page root" 'a root page lies outside the file'
# Truncated: half the file, then a few bytes.
fresh; truncate -s $((size / 2)) "$T/bad/data.mdb"
all_exit2 "truncated file" 'truncated'
fresh; truncate -s 100 "$T/bad/data.mdb"
all_exit2 "truncated to 100 bytes" 'truncated'
fresh; : >"$T/bad/data.mdb"
all_exit2 "empty data.mdb" 'is empty (0 bytes)'
# Not LMDB at all.
fresh; head -c 65536 /dev/urandom >"$T/bad/data.mdb"
all_exit2 "random bytes" 'not a furet index'
fresh; run check -i "$T/bad"; expect_status 0 "an intact copy checks"
# A rebuild replaces a damaged index.
fresh; poke $((root * 4096 + 12)) 255 255 1 0
run index -q --rebuild -i "$T/bad" corpus; expect_status 0 "rebuild over a damaged index"
run check -i "$T/bad"; expect_status 0 "the rebuilt index checks"

if command -v mdb_load >/dev/null 2>&1; then
	# An LMDB file of another program: one plain key in the main database.
	rm -rf "$T/other"; mkdir -p "$T/other"
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n cle\n valeur\nDATA=END\n' |
		mdb_load "$T/other"
	for c in check stats "search formation"; do
		run $c -i "$T/other"; expect_status 2 "another program's LMDB file: $c"
		once 'is an LMDB file but not a furet index' "another program's LMDB file: $c message"
	done
	# Another format version: meta "format" says 5.
	fresh
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n format\n \\00\\00\\00\\05\nDATA=END\n' |
		mdb_load -s meta "$T/bad"
	all_exit2 "format version 5" 'index format version 5, this furet reads version [0-9]*: rebuild it with: furet index --rebuild'
	run index -q --rebuild -i "$T/bad" corpus; expect_status 0 "rebuild from another version"
	run search -i "$T/bad" formation; expect_status 0 "search after the rebuild"
	# Damaged records: furet check says what it found; searches answer
	# from what they can read, or say the index is damaged.
	# (format 14: the first chunk of passage lengths with a width byte of
	# 3, which exists for no number of passages; the first chunk of the
	# document bitmap cut to 5 bytes; document 0's value says its record
	# is 5 bytes and holds 1)
	fresh
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n plen\\00\\00\\00\\00\n \03\02\03\nDATA=END\n' |
		mdb_load -s meta "$T/bad"
	run check -i "$T/bad"; expect_status 2 "damaged passage lengths: check"
	once 'the passage arrays do not match' "damaged passage lengths: check says what"
	run search -i "$T/bad" formation; expect_status 2 "damaged passage lengths: search"
	once '^furet: ' "damaged passage lengths: search message"
	fresh
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n pdoc\\00\\00\\00\\00\n \01\02\03\04\05\nDATA=END\n' |
		mdb_load -s meta "$T/bad"
	run check -i "$T/bad"; expect_status 2 "damaged passage documents: check"
	once 'the passage arrays do not match' "damaged passage documents: check says what"
	run search -i "$T/bad" formation; expect_status 2 "damaged passage documents: search"
	once '^furet: ' "damaged passage documents: search message"
	fresh
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n \\00\\00\\00\\00\n \\05\\00\\00\\00a\nDATA=END\n' |
		mdb_load -s docs "$T/bad"
	run check -i "$T/bad"; expect_status 2 "damaged documents value: check"
	once 'a value of the documents table is damaged' "damaged documents value: check says what"
	# A damaged term with a newline and an escape sequence (its record: df,
	# cf, one block, an empty bound, then its block, damaged): check names
	# it on one line, without the raw bytes.
	fresh
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n la\\0a\\1b[2J\n \\01\\01\\01\\00\\00\\00\\00\\ff\nDATA=END\n' |
		mdb_load -s terms "$T/bad"
	run check -i "$T/bad"; expect_status 2 "a damaged term: check"
	once 'term "la??\[2J": block 0 is missing or damaged' "a damaged term named safely"
	[ "$(wc -l <"$T/err")" -eq 1 ] && ! grep -q "$(printf '\033')" "$T/err" && ok || ko "a damaged term: not one safe line"
else
	echo "SKIP: another program's LMDB file and another format version (mdb_load from lmdb-utils missing)"
fi

# A missing directory, and one furet may not write.
run search -i "$T/nowhere" formation; expect_status 2 "missing directory"
once "no index at $T/nowhere" "missing directory message"
run check -i "$T/nowhere"; expect_status 2 "check of a missing directory"
if can_drop; then
	chmod 755 "$T"; chmod -R a+rX "$T/good"
	timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		$B/furet search -i "$T/good" formation >"$T/out" 2>"$T/err"; st=$?
	expect_status 2 "read-only directory: search"
	once 'Permission denied (reading needs write access to .*lock.mdb' "read-only directory: search message"
	timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		$B/furet index -i "$T/good" corpus >"$T/out" 2>"$T/err"; st=$?
	expect_status 2 "read-only directory: index"
	once 'Permission denied' "read-only directory: index message"
else
	echo "SKIP: read-only directory (root cannot drop to nobody here)"
fi

echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
