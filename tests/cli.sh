#!/bin/sh
# tests/cli.sh BUILD_DIR — runs the real furet binary on real indexes and
# checks outputs and exit codes. $FURET_WRAP (e.g. valgrind) prefixes every
# furet run. Needs build/tests/jsoncheck (jansson) to read JSON output.
# Uses ../shared/data when present; the checks that need it say SKIP without.
set -u
unset NO_COLOR FURET_INDEX # the tests set them where they mean to
B=${1:-build}
FURET="${FURET_WRAP:-} $B/furet"
JC=$B/tests/jsoncheck
DATA=${FURET_DATA:-../shared/data}
T=$(mktemp -d "${TMPDIR:-/tmp}/furet-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0; fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# run ARGS...: runs furet, stdout in $T/out, stderr in $T/err, status in $st
run() { $FURET "$@" >"$T/out" 2>"$T/err"; st=$?; }
expect_status() { [ "$st" -eq "$1" ] && ok || { ko "$2: exit $st, expected $1"; sed 's/^/    /' "$T/err" >&2; }; }
expect_out() { grep -q -- "$1" "$T/out" && ok || ko "$2: stdout lacks '$1'"; }
expect_err() { grep -q -- "$1" "$T/err" && ok || ko "$2: stderr lacks '$1'"; }
expect_empty_out() { [ ! -s "$T/out" ] && ok || ko "$1: stdout not empty"; }
one_line_err() { [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q '^furet: ' "$T/err" && ok ||
	{ ko "$1: stderr is not one 'furet: ' line"; sed 's/^/    /' "$T/err" >&2; }; }

# --- usage and version ------------------------------------------------------
run; expect_status 2 "no arguments"; expect_err "usage: furet" "no arguments"
[ "$(wc -l <"$T/err")" -le 6 ] && ok || ko "no arguments: the usage is not short"
expect_err "furet --help" "no arguments: the usage says where to read more"
expect_empty_out "no arguments: nothing on stdout"
run --help; expect_status 0 "--help"; expect_out "commands:" "--help"
run --version; expect_status 0 "--version"; expect_out "^furet [0-9]" "--version"
run search --help; expect_status 0 "search --help"; expect_out "Exit status" "search --help"
run frobnicate; expect_status 2 "unknown command"; one_line_err "unknown command"

# --- indexing the corpus ------------------------------------------------------
IX=$T/ix
run index -i "$IX" corpus; expect_status 0 "index corpus"
expect_err "1 added, 0 updated, 0 removed, 0 unchanged" "index summary"
expect_empty_out "index prints nothing on stdout"
run stats -i "$IX"; expect_status 0 "stats"; expect_out "passages	17" "stats passages"
run stats -i "$IX" --json; expect_status 0 "stats --json"
$JC keys documents,passages,terms,postings,words,text_bytes,dead_passages,file_bytes,last_update,format,analyzer <"$T/out" &&
	ok || ko "stats --json keys"
[ "$($JC get 1 passages <"$T/out")" = 17 ] && ok || ko "stats --json passages"

# --- --json on every command that prints results or statistics --------------
IDX_KEYS=index,added,updated,removed,unchanged,repeated,passages,skipped,seconds,compacted
run index --json -i "$T/ixj" corpus; expect_status 0 "index --json"
$JC keys $IDX_KEYS <"$T/out" && ok || ko "index --json keys"
[ "$($JC count <"$T/out")" = 1 ] && ok || ko "index --json prints one line"
[ "$($JC get 1 added <"$T/out")" = 1 ] && ok || ko "index --json added"
[ "$($JC get 1 passages <"$T/out")" = 17 ] && ok || ko "index --json passages"
[ ! -s "$T/err" ] && ok || ko "index --json: the summary is not also on stderr"
run index --json -i "$T/ixj" corpus; expect_status 0 "index --json again"
[ "$($JC get 1 unchanged <"$T/out"),$($JC get 1 passages <"$T/out")" = "1,0" ] && ok ||
	ko "index --json: a second run leaves the document unchanged"
run check --json -i "$T/ixj"; expect_status 0 "check --json"
$JC keys index,ok,problem <"$T/out" && ok || ko "check --json keys"
[ "$($JC get 1 ok <"$T/out"),$($JC get 1 problem <"$T/out")" = "true,null" ] && ok ||
	ko "check --json on a sound index"
run compact --json -i "$T/ixj"; expect_status 0 "compact --json"
$JC keys index,bytes_before,bytes_after <"$T/out" && ok || ko "compact --json keys"
[ "$($JC get 1 bytes_after <"$T/out")" -le "$($JC get 1 bytes_before <"$T/out")" ] && ok ||
	ko "compact --json: bigger after"
run analyze --json "l'école" Villeneuve-la-Garenne; expect_status 0 "analyze --json"
$JC keys term,position,start,end,stop,word,fold,elision,kind <"$T/out" && ok ||
	ko "analyze --json keys"
[ "$($JC get 1 term <"$T/out")|$($JC get 1 start <"$T/out")|$($JC get 1 elision <"$T/out")|$($JC get 1 stop <"$T/out")" = "écol|2|l'|false" ] &&
	ok || ko "analyze --json l'école: $(head -1 "$T/out")"
[ "$($JC get 2 kind <"$T/out")" = '["whole"]' ] && [ "$($JC get 3 kind <"$T/out")" = '["part"]' ] &&
	[ "$($JC get 3 elision <"$T/out")" = null ] && ok || ko "analyze --json compound kinds"
run analyze --json '...'; expect_status 1 "analyze --json without a word"; expect_empty_out "analyze --json without a word"

# --- search: the funding paragraph first ------------------------------------
run search -i "$IX" --json 'Fonds social européen'; expect_status 0 "search json"
$JC hits <"$T/out" && ok || ko "search --json schema"
$JC get 1 text <"$T/out" | grep -q '92%' && ok || ko "Fonds social européen: rank 1 is not the 92% paragraph"
[ "$($JC get 1 section <"$T/out")" = "POP School" ] && ok || ko "rank 1 section"
[ "$($JC get 1 doc <"$T/out")" = "corpus/fabriques-du-numerique.txt" ] && ok || ko "rank 1 doc id"
# The byte range is the passage's place in the document.
s=$($JC get 1 start <"$T/out"); e=$($JC get 1 end <"$T/out")
dd if=corpus/fabriques-du-numerique.txt bs=1 skip="$s" count=$((e - s)) 2>/dev/null >"$T/slice"
[ "$($JC get 1 text <"$T/out")" = "$(cat "$T/slice")" ] && ok || ko "start/end do not slice the passage"
# Highlights cover the matched words exactly.
h=$($JC get 1 highlights <"$T/out")
[ "$h" != "[]" ] && ok || ko "no highlights"
run search -i "$IX" 'Fonds social européen'; expect_status 0 "human search"
expect_out '\[Fonds\] \[Social\] \[Européen\]' "human output brackets"
expect_out '§ POP School' "human output section"
run search -i "$IX" -n 1 --json 'Qui finance POP School ?'; expect_status 0 "question"
[ "$($JC count <"$T/out")" = 1 ] && ok || ko "-n 1 gives one hit"
# Elision in the query, both apostrophes, and accents.
run search -i "$IX" --json "l’économie sociale"; expect_status 0 "curly elision query"
run search -i "$IX" --json "ECONOMIE"; expect_status 0 "unaccented uppercase finds économie"
$JC get 1 text <"$T/out" | grep -qi 'économie' && ok || ko "ECONOMIE hit text"

# --- query language, typos, explain --------------------------------------------
run search -i "$IX" --json '"écoles du web"'; expect_status 0 "phrase"
$JC get 1 text <"$T/out" | grep -q 'coles du web' && ok || ko "phrase: rank 1 lacks the phrase"
run search -i "$IX" 'formaton'; expect_status 0 "typo"
expect_err "did you mean: formation" "did you mean on stderr"
run search -i "$IX" --json 'formaton'; expect_status 0 "typo json"
[ "$($JC get 1 did_you_mean <"$T/out")" = "formation" ] && ok || ko "did_you_mean in JSON"
run search -i "$IX" --json --explain 'Qui finance POP School ?'; expect_status 0 "explain json"
[ "$($JC count <"$T/out")" -ge 1 ] && ok || ko "explain JSON is valid"
$JC get 1 explain <"$T/out" | grep -q '"how":"stem"' && ok || ko "explain says how a word matched"
run search -i "$IX" --explain 'école numérique'; expect_status 0 "explain human"
expect_out "(accent" "explain shows accent-folded matches"
run search -i "$IX" 'label AND'; expect_status 0 "dangling AND"
run search -i "$IX" '((('; expect_status 1 "only parentheses"
run search -i "$IX" "$(head -c 100000 /dev/zero | tr '\0' 'a' | fold -w 9 | tr '\n' ' ')"
[ "$st" -le 1 ] && ok || ko "100 KB query: exit $st"

# --- exit codes -------------------------------------------------------------------
run search -i "$IX" 'xylophonesque zzzqqq'; expect_status 1 "no hit"; expect_empty_out "no hit output"
run search -i "$IX" --json '"Fonds social'; expect_status 0 "unbalanced quote"
run search -i "$IX" '...'; expect_status 1 "only punctuation"
run search -i "$IX"; expect_status 2 "search without query"; one_line_err "search without query"
run search -i "$T/nowhere" 'Simplon'; expect_status 2 "missing index"; one_line_err "missing index"
expect_err "furet index" "missing index says how to build one"
run search -i "$IX" -n abc 'x'; expect_status 2 "bad -n"; one_line_err "bad -n"
mkdir -p "$T/garbage"; head -c 65536 /dev/urandom >"$T/garbage/data.mdb"
run search -i "$T/garbage" 'Simplon'; expect_status 2 "garbage index"; one_line_err "garbage index"
printf 'not lmdb at all\n' >"$T/garbage/data.mdb"
run search -i "$T/garbage" 'Simplon'; expect_status 2 "text file as index"; one_line_err "text file as index"
expect_err "check -i DIR" "text file as index: the message says what to do"
run check --json -i "$T/garbage"; expect_status 2 "check --json of a text file"
[ "$($JC get 1 ok <"$T/out")" = false ] && $JC get 1 problem <"$T/out" | grep -Eq 'not a furet index|truncated' &&
	ok || ko "check --json of a text file: $(cat "$T/out")"
one_line_err "check --json of a text file"
run check --json -i "$T/nowhere"; expect_status 2 "check a missing index"; expect_empty_out "check a missing index"
expect_err "furet index -i $T/nowhere PATH" "check a missing index says how to build one"
run analyze "$(printf 'caf\351')"; expect_status 2 "analyze Latin-1"; expect_err "iconv" "analyze Latin-1 says to convert"

# --- a failed rebuild leaves the index as it was -----------------------------
$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/before" 2>/dev/null
run index -i "$IX" corpus "$T/does-not-exist"; expect_status 2 "index with a missing path"
expect_err "left unchanged" "missing path message"
one_line_err "index with a missing path"
run index -i "$T/never" "$T/does-not-exist"; expect_status 2 "index of a missing path"
[ ! -e "$T/never" ] && ok || ko "an index was created for a missing path"
fb=$(cd "$B" && pwd)/furet
(cd "$T" && ${FURET_WRAP:-} "$fb" index >"$T/out" 2>"$T/err"); st=$?
expect_status 2 "index without PATH nor ./corpus"; one_line_err "index without PATH nor ./corpus"
expect_err "furet index ~/docs" "index without PATH says what to give"
[ ! -e "$T/index" ] && ok || ko "an index was created without anything to index"
$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/after" 2>/dev/null
cmp -s "$T/before" "$T/after" && ok || ko "index changed after a failed rebuild"
mkdir -p "$T/emptydir"
run index -i "$IX" "$T/emptydir"; expect_status 2 "index of an empty directory"
$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/after" 2>/dev/null
cmp -s "$T/before" "$T/after" && ok || ko "index changed after indexing nothing"

# A rebuild killed with SIGKILL at any moment leaves the previous index whole.
# The batch is large enough (about 40,000 passages) that the kills land
# during analysis and during the write.
mkdir -p "$T/big"
body=$(tr '\n"\\' '   ' <corpus/fabriques-du-numerique.txt)
awk -v body="$body" 'BEGIN { for (i = 0; i < 2500; i++)
	printf "{\"id\":\"big-%d\",\"title\":\"copie %d\",\"text\":\"%s\"}\n", i, i, body }' \
	>"$T/big/big.jsonl"
FURET_TEST_KILL_BEFORE_COMMIT=1 $B/furet index --rebuild -i "$IX" "$T/big" >/dev/null 2>"$T/err"
[ $? -eq 137 ] && ok || ko "the kill hook did not fire"
# That run was long, and stderr was not a terminal: no progress line.
if grep -q "$(printf '\r')" "$T/err"; then ko "progress line written to a file"; else ok; fi
$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/after" 2>/dev/null
cmp -s "$T/before" "$T/after" && ok || ko "index changed after a rebuild killed before its commit"
for delay in 0.05 0.3 0.6 0.8 0.9 1.0 1.1 1.3; do
	$B/furet index -q --rebuild -i "$IX" "$T/big" >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/after" 2>/dev/null
	if cmp -s "$T/before" "$T/after"; then ok; else
		# The kill may come after the commit: then the new index must be whole.
		n=$($FURET stats -i "$IX" --json 2>/dev/null | $JC get 1 documents)
		if [ "$n" = 2500 ]; then ok; $B/furet index -q --rebuild -i "$IX" corpus; else ko "killed rebuild after ${delay}s: index neither old nor new"; fi
	fi
done

# A rebuild written in parts (at --memory 1M what the batch keeps for its
# documents and passages passes a quarter of the budget): killed in its
# second part, with the first one committed beside the index, it leaves the
# previous index; done, it answers as the rebuild in one batch does.
FURET_TEST_KILL_BEFORE_COMMIT=2 $B/furet index --rebuild --memory 1M -i "$IX" "$T/big" >/dev/null 2>&1
[ $? -eq 137 ] && ok || ko "the kill hook did not fire in a rebuild's second part"
$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/after" 2>/dev/null
cmp -s "$T/before" "$T/after" && ok || ko "index changed after a rebuild killed in its second part"
$B/furet index --rebuild --memory 1M --json -i "$T/ixparts" "$T/big" >"$T/parts.json" 2>/dev/null &&
	[ "$($JC get 1 added <"$T/parts.json")" = 2500 ] && ok || ko "rebuild in parts: $(cat "$T/parts.json")"
$B/furet index -q --rebuild -i "$T/ixone" "$T/big"
# same_as_one PARTS ONE WHAT: the index written in parts answers as the one
# written in one transaction, passes furet check, and left no sibling.
same_as_one() {
	for q in 'label grande école du numérique' 'Qui finance POP School ?' 'fonds social européen'; do
		$FURET search -i "$1" --json -n 30 "$q" >"$T/a" 2>&1
		$FURET search -i "$2" --json -n 30 "$q" >"$T/b" 2>&1
		cmp -s "$T/a" "$T/b" && ok || ko "$3 in parts and in one transaction answer $q differently"
	done
	$FURET check -i "$1" >/dev/null 2>&1 && ok || ko "furet check after $3 in parts"
	[ ! -e "$1.rebuild" ] && ok || ko "$3 in parts left its sibling directory"
}
same_as_one "$T/ixparts" "$T/ixone" "a rebuild"

# An incremental run in parts (at --memory 1M, adding the same 2,500
# documents to an index of the corpus): killed in its second part, with the
# first one committed into the copy of the index beside it, it leaves the
# index as it was; done, it answers as the same run in one transaction.
$B/furet index -q -i "$T/incparts" corpus && $B/furet index -q -i "$T/incone" corpus
$FURET search -i "$T/incparts" --json 'label grande école du numérique' >"$T/before2" 2>/dev/null
FURET_TEST_KILL_BEFORE_COMMIT=2 $B/furet index --memory 1M -i "$T/incparts" "$T/big" >/dev/null 2>&1
[ $? -eq 137 ] && ok || ko "the kill hook did not fire in an incremental run's second part"
$FURET search -i "$T/incparts" --json 'label grande école du numérique' >"$T/after2" 2>/dev/null
cmp -s "$T/before2" "$T/after2" && ok || ko "index changed after an incremental run killed in its second part"
$B/furet index --memory 1M --json -i "$T/incparts" "$T/big" >"$T/incparts.json" 2>/dev/null &&
	[ "$($JC get 1 added <"$T/incparts.json")" = 2500 ] && ok || ko "incremental run in parts: $(cat "$T/incparts.json")"
$B/furet index -q -i "$T/incone" "$T/big"
same_as_one "$T/incparts" "$T/incone" "an incremental run"

# --- the progress line of furet index, on a terminal --------------------------------
# script(1) gives furet a pseudo-terminal. The line appears once the reading
# has lasted a second; FURET_TEST_PROGRESS_AFTER=0 shows it at once, so that
# the test does not depend on how fast this machine reads the batch (with
# the analysis's fast paths, 10,000 documents took less than a second).
if command -v script >/dev/null 2>&1; then
	mkdir -p "$T/bigp"
	for k in 0 1 2 3; do
		sed "s/\"id\":\"big-/\"id\":\"big$k-/" "$T/big/big.jsonl"
	done >"$T/bigp/big.jsonl"
	FURET_TEST_PROGRESS_AFTER=0 script -qec "$B/furet index --rebuild -i '$T/ixp' '$T/bigp'" /dev/null >"$T/tty" 2>&1
	grep -q 'indexing  *[0-9]*% \[#*\.*\]  [0-9]* docs  [0-9]* docs/s  [0-9.]* MB/s  ETA [0-9]*:[0-9][0-9]' "$T/tty" && ok ||
		ko "no progress line on a terminal: $(tr '\r' '\n' <"$T/tty" | head -3)"
	tr '\r' '\n' <"$T/tty" | grep -q '^furet: 10000 added' && ok || ko "the progress line is erased before the summary"
	script -qec "$B/furet index -q --rebuild -i '$T/ixp' '$T/big'" /dev/null >"$T/tty" 2>&1
	[ ! -s "$T/tty" ] && ok || ko "furet index -q writes on a terminal: $(head -c 200 "$T/tty")"
	script -qec "$B/furet index -i '$T/ixq' corpus" /dev/null >"$T/tty" 2>&1
	if grep -q 'indexing ' "$T/tty"; then ko "progress line on a short run"; else ok; fi
	# Bold on a terminal, unless NO_COLOR is set.
	esc=$(printf '\033')
	script -qec "$B/furet search -i '$T/ixq' 'Fonds social européen'" /dev/null >"$T/tty" 2>&1
	grep -q "${esc}\[1mFonds${esc}\[0m" "$T/tty" && ok || ko "no bold on a terminal"
	NO_COLOR=1 script -qec "$B/furet search -i '$T/ixq' 'Fonds social européen'" /dev/null >"$T/tty" 2>&1
	if grep -q "$esc" "$T/tty"; then ko "escape sequences with NO_COLOR"; else ok; fi
	grep -q '\[Fonds\]' "$T/tty" && ok || ko "NO_COLOR: matched words not in brackets"
else
	echo "SKIP: progress line and bold (no script(1) to make a terminal)"
fi

# --- FURET_INDEX: the default index directory --------------------------------------
export FURET_INDEX="$IX"
run search 'Fonds social européen'; expect_status 0 "search in \$FURET_INDEX"
run stats --json; [ "$($JC get 1 documents <"$T/out")" = 1 ] && ok || ko "stats of \$FURET_INDEX"
export FURET_INDEX="$T/nowhere"
run search -i "$IX" 'Fonds'; expect_status 0 "-i wins over \$FURET_INDEX"
run search 'Fonds'; expect_status 2 "missing \$FURET_INDEX"
unset FURET_INDEX
expect_err "no index at $T/nowhere" "the message names \$FURET_INDEX's directory"

# --- threads and memory budget: the same index ------------------------------------
# One thread, three, and a 1 MiB budget that spills sorted runs to temporary
# files: statistics and answers are the same (the unit suite test_parallel
# compares every table byte for byte).
cp corpus/fabriques-du-numerique.txt "$T/big/seed.txt"
for cfg in "--threads 1" "--threads 3" "--memory 1M --threads 2"; do
	# shellcheck disable=SC2086
	$B/furet index -q --rebuild -i "$T/par" $cfg "$T/big" 2>"$T/err" || ko "index $cfg failed: $(cat "$T/err")"
	{
		$B/furet stats -i "$T/par" --json | sed 's/"file_bytes":[0-9]*,//; s/"last_update":[0-9]*,//'
		for q in 'label grande école du numérique' 'Qui finance POP School ?' '"Fonds social"' 'copie 1999'; do
			$B/furet search -i "$T/par" --json -n 20 "$q"
		done
	} >"$T/par.out" 2>&1
	if [ "$cfg" = "--threads 1" ]; then cp "$T/par.out" "$T/par.ref"; else
		cmp -s "$T/par.ref" "$T/par.out" && ok || ko "index $cfg differs from one thread"
	fi
done
# (writer.lock comes and goes: a rebuild writes a new directory beside the
# index and swaps it in, and the new one has none until the next writer.)
[ -z "$(ls -A "$T/par" | grep -v -x -e data.mdb -e lock.mdb -e writer.lock)" ] &&
	[ ! -e "$T/par.compact" ] && [ ! -e "$T/par.rebuild" ] && ok ||
	ko "temporary files left in the index: $(ls -A "$T/par" "$T/par.compact" "$T/par.rebuild" 2>&1)"
# Killed while spilling: the index as it was, nothing left behind. Four
# times the big batch, so that the kill lands well before the end: the
# batch alone took 0.6-0.7 s at 1 MiB, and sometimes committed before it.
cp "$T/par.ref" "$T/par.before"
mkdir -p "$T/bigk"
for k in 0 1 2 3; do
	sed "s/\"id\":\"big-/\"id\":\"big$k-/" "$T/big/big.jsonl"
done >"$T/bigk/big.jsonl"
$B/furet index -q --rebuild -i "$T/par" --memory 1M --threads 2 "$T/bigk" corpus >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
$B/furet stats -i "$T/par" --json | sed 's/"file_bytes":[0-9]*,//; s/"last_update":[0-9]*,//' >"$T/par.after"
head -1 "$T/par.ref" | cmp -s - "$T/par.after" && ok || ko "a killed spilling rebuild changed the index"
[ "$(ls -A "$T/par" | tr '\n' ' ')" = "data.mdb lock.mdb writer.lock " ] && ok || ko "a killed rebuild left files: $(ls -A "$T/par")"
# What it wrote went to $T/par.rebuild, which the next rebuild clears.
$B/furet index -q --rebuild -i "$T/par" "$T/big" 2>"$T/err" || ko "rebuild after a killed one: $(cat "$T/err")"
[ ! -e "$T/par.rebuild" ] && ok || ko "the killed rebuild's directory is still there: $(ls -A "$T/par.rebuild")"
run index -i "$T/par" --threads 0 corpus; expect_status 2 "--threads 0"; one_line_err "--threads 0"
run index -i "$T/par" --memory 12 corpus; expect_status 2 "--memory 12"; one_line_err "--memory 12"
run index -i "$T/par" --memory 1X corpus; expect_status 2 "--memory 1X"; one_line_err "--memory 1X"
run index -i "$T/par" --threads 2 --memory 64M corpus; expect_status 0 "--threads 2 --memory 64M"

# --- bad documents --------------------------------------------------------------
D=$T/docs; mkdir -p "$D/sub"
printf 'Le premier document parle de Simplon.\n\nUn second paragraphe sur la formation.\n' >"$D/a.txt"
printf '# Titre Markdown\n\nUn paragraphe en markdown sur les quartiers.\n' >"$D/sub/b.md"
printf 'caf\351 cr\350me en latin-1\n' >"$D/latin1.txt"
printf '\211PNG\r\n\032\n\000\000\000binary' >"$D/image.txt"
: >"$D/empty.txt"
printf '{"id":"j1","title":"Un","text":"Jsonl premier document."}\n{broken\n{"id":2,"text":"id numérique"}\n{"id":"j3","text":"Jsonl troisième."}\n' >"$D/docs.jsonl"
printf 'ignored' >"$D/notes.csv"
printf 'readme' >"$D/README.md"
run index -i "$T/ix2" "$D"; expect_status 2 "index with bad documents"
expect_err "latin1.txt: not UTF-8; read as Windows-1252" "Latin-1 file named"
expect_err "image.txt" "binary file named"
expect_err "docs.jsonl:2" "broken JSON line named"
expect_err "docs.jsonl:3" "numeric id line named"
run stats -i "$T/ix2" --json
[ "$($JC get 1 documents <"$T/out")" = 5 ] && ok || ko "5 good documents indexed (a, b, latin1, j1, j3)"
run search -i "$T/ix2" --json 'quartiers'; expect_status 0 "markdown doc searchable"
[ "$($JC get 1 title <"$T/out")" = "Titre Markdown" ] && ok || ko "markdown title"
run search -i "$T/ix2" 'README'; expect_status 1 "README not indexed"
run search -i "$T/ix2" --json 'café crème'; expect_status 0 "a Latin-1 file is read as such"
$JC get 1 text <"$T/out" | grep -q 'café crème' && ok || ko "Latin-1 text converted to UTF-8"
run search -i "$T/ix2" --json 'troisième'; expect_status 0 "jsonl doc"
[ "$($JC get 1 doc <"$T/out")" = "j3" ] && ok || ko "jsonl id"

# --- metadata: "meta" of any JSON type, kept as JSON, printed back -------------
M=$T/meta; mkdir -p "$M"
cat >"$M/m.jsonl" <<'EOF'
{"id":"m1","text":"Le rucher numéro un.","meta":{"url":"https://exemple.fr/1","prix":0.1,"tags":["a","b"],"vide":{}}}
{"id":"m2","text":"Le rucher numéro deux.","meta":42}
{"id":"m3","text":"Le rucher numéro trois.","meta":"chaîne \"citée\" \u00e9\n"}
{"id":"m4","text":"Le rucher numéro quatre."}
{"id":"m5","text":"Le rucher numéro cinq.","meta":null}
{"id":"m6","text":"Le rucher numéro six.","meta":[true,false,null,-3,1.5e300,3.141592653589793,"\u0000"]}
{"id":"m7","text":"Le rucher numéro sept.","meta":  { "espaces" :  [ 1 , 2 ] }  }
EOF
run index -i "$T/ixm" "$M"; expect_status 0 "index JSONL with meta"
expect_err "7 added" "index JSONL with meta: summary"
run search -i "$T/ixm" --json -n 20 rucher; expect_status 0 "search with meta"
$JC hits <"$T/out" && ok || ko "search --json schema with meta"
# meta: what the line gave, as compact JSON, numbers with the digits they had.
meta_of() { grep "\"doc\":\"$1\"" "$T/out" | sed 's/.*,"meta"://; s/}$//'; }
[ "$(meta_of m1)" = '{"url":"https://exemple.fr/1","prix":0.1,"tags":["a","b"],"vide":{}}' ] && ok || ko "meta object: $(meta_of m1)"
[ "$(meta_of m2)" = 42 ] && ok || ko "meta number: $(meta_of m2)"
[ "$(meta_of m3)" = '"chaîne \"citée\" é\n"' ] && ok || ko "meta string: $(meta_of m3)"
[ "$(meta_of m4)" = null ] && [ "$(meta_of m5)" = null ] && ok || ko "no meta, null meta: $(meta_of m4) $(meta_of m5)"
[ "$(meta_of m6)" = '[true,false,null,-3,1.5e300,3.141592653589793,"\u0000"]' ] && ok || ko "meta array: $(meta_of m6)"
[ "$(meta_of m7)" = '{"espaces":[1,2]}' ] && ok || ko "meta compacted: $(meta_of m7)"
run search -i "$T/ixm" --json 'rucher deux'
[ "$($JC get 1 doc <"$T/out")" = m2 ] && [ "$($JC get 1 meta <"$T/out")" = 42 ] && ok || ko "jsoncheck get meta"
# A change of meta alone is an update; a line gone takes its meta along.
sed -e 's/"meta":42/"meta":43/' -e '/"m3"/d' "$M/m.jsonl" >"$T/m.jsonl" && mv "$T/m.jsonl" "$M/m.jsonl"
run index --json -i "$T/ixm" "$M"; expect_status 0 "index a meta change"
[ "$($JC get 1 updated <"$T/out"),$($JC get 1 removed <"$T/out"),$($JC get 1 unchanged <"$T/out")" = "1,1,5" ] && ok ||
	ko "a meta change is an update: $(cat "$T/out")"
run compact -i "$T/ixm"; expect_status 0 "compact with meta"
run check -i "$T/ixm"; expect_status 0 "check with meta"
run search -i "$T/ixm" --json -n 20 rucher
[ "$(meta_of m2)" = 43 ] && [ -z "$(meta_of m3)" ] &&
	[ "$(meta_of m6)" = '[true,false,null,-3,1.5e300,3.141592653589793,"\u0000"]' ] &&
	ok || ko "meta after update, removal and compaction: $(meta_of m2) $(meta_of m3) $(meta_of m6)"
# Over 64 KiB of JSON: the line is skipped, named, and the run exits 2.
{ printf '{"id":"big","text":"Un rucher lourd.","meta":"'; head -c 70000 /dev/zero | tr '\0' x; printf '"}\n'; } >"$M/big.jsonl"
run index -i "$T/ixm" "$M"; expect_status 2 "meta too big"
expect_err 'big.jsonl:1: "meta" is 70002 bytes of JSON, at most 65536; line skipped' "meta too big named"
run search -i "$T/ixm" 'lourd'; expect_status 1 "a line with too big a meta is not indexed"

# --- terminal safety: escapes from a document never reach the terminal raw ---
printf 'Un texte piégé \033[2J\033]0;titre\007 avec séquence.\n' >"$T/esc.txt"
run index -q -i "$T/ix3" "$T/esc.txt"; expect_status 0 "index escape doc"
run search -i "$T/ix3" 'texte piégé'; expect_status 0 "search escape doc"
if grep -q "$(printf '\033')" "$T/out"; then ko "raw ESC in human output"; else ok; fi
run search -i "$T/ix3" --json 'texte piégé'; $JC hits <"$T/out" && ok || ko "JSON with control characters"

# --- analyze -------------------------------------------------------------------------
run analyze "l'école"; expect_status 0 "analyze"
[ "$(cut -f2-4 "$T/out")" = "$(printf '0\t2\t8')" ] && ok || ko "analyze l'école offsets: $(cat "$T/out")"
run analyze "l’École"; a1=$(cut -f1 "$T/out")
run analyze "école"; [ "$a1" = "$(cut -f1 "$T/out")" ] && ok || ko "l’École and école differ"
run analyze --explain "l’École"; expect_status 0 "analyze --explain"
expect_out "elision	l’" "explain shows the elision"
expect_out "folded	ecol" "explain shows the accent-free key"
expect_out "stem	écol" "explain shows the stem"

# --- batch and eval -------------------------------------------------------------------
printf 'q1\tFonds social européen\nq2\tLePoleS association\nq3\txylophonesque\n' >"$T/q.tsv"
run batch -i "$IX" "$T/q.tsv"; expect_status 0 "batch"
expect_out '^q1 Q0 corpus/fabriques-du-numerique.txt 1 ' "batch TREC line"
[ "$(grep -c '^q1 ' "$T/out")" = 1 ] && ok || ko "batch keeps one passage per document"
printf 'q1\td1\t1\nq1\td2\t2\nq2\tz\t1\nq3\tx\t1\n' >"$T/qrels"
printf 'q1 Q0 c 1 3 t\nq1 Q0 b 2 2 t\nq1 Q0 d2 3 1.5 t\nq1 Q0 d1 4 1 t\nq2 Q0 y 1 1 t\n' >"$T/run"
run eval "$T/qrels" "$T/run"; expect_status 0 "eval"
# q1: first relevant at rank 3 -> 1/3; q2, q3: 0. MRR = 1/9.
# nDCG q1 = (2/log2(4) + 1/log2(5)) / (2 + 1/log2(3)) = 0.543791...; /3 = 0.1813
expect_out "^MRR@10	0.1111" "eval MRR"
expect_out "^nDCG@10	0.1813" "eval nDCG"
expect_out "^Recall@10	0.3333" "eval Recall@10"
run eval "$T/qrels" "$T/missing.run"; expect_status 2 "eval missing file"; one_line_err "eval missing file"
run eval --json "$T/qrels" "$T/run"; expect_status 0 "eval --json"
$JC keys mrr10,ndcg10,recall10,recall100,queries,no_results <"$T/out" && ok || ko "eval --json keys"
awk -v m="$($JC get 1 mrr10 <"$T/out")" -v n="$($JC get 1 ndcg10 <"$T/out")" \
	'BEGIN { exit !(m > 0.11110 && m < 0.11112 && n > 0.18126 && n < 0.18127) }' &&
	ok || ko "eval --json values: $(cat "$T/out")"
[ "$($JC get 1 queries <"$T/out"),$($JC get 1 no_results <"$T/out")" = "3,1" ] && ok ||
	ko "eval --json counts: $(cat "$T/out")"

# --- the example program ----------------------------------------------------------------
${FURET_WRAP:-} $B/examples/search "$IX" 'Qui finance POP School ?' >"$T/out" 2>"$T/err"; st=$?
expect_status 0 "examples/search"
[ "$(wc -l <"$T/out")" = 3 ] && ok || ko "examples/search prints 3 hits"
expect_out '\[financ' "examples/search highlights"
# compose: a phrase required, a word excluded, a title word required, a
# prefix being typed; quotes, AND and parentheses in the parts are text.
EX="${FURET_WRAP:-} $B/examples/compose"
$EX "$IX" -p 'POP School' -x Valenciennes 'numérique' >"$T/out" 2>"$T/err"; st=$?
expect_status 0 "examples/compose -p -x"
[ -s "$T/out" ] && ! cut -f5 "$T/out" | grep -v 'POP School' | grep -q . && ! grep -q Valenciennes "$T/out" &&
	ok || ko "examples/compose -p -x: $(cat "$T/out")"
$EX "$IX" -t fabriques -x '"AND"' 'formaton AND (jeunes)' >"$T/out" 2>"$T/err"; st=$?
expect_status 0 "examples/compose literal text"
expect_err '^did you mean: formation AND (jeunes) -"AND" +title:fabriques$' "examples/compose suggestion"
$EX "$IX" -c 'Qui fina' >"$T/out" 2>"$T/err"; st=$?
expect_status 0 "examples/compose -c"; expect_out 'financ' "examples/compose -c finds the prefix"
$EX "$IX" -t absent formation >"$T/out" 2>"$T/err"; st=$?
expect_status 1 "examples/compose -t absent"; expect_empty_out "examples/compose -t absent"

# --- the library exports only furet_* and the README example compiles --------
bad=$(nm -D --defined-only "$B/libfuret.so" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^furet_/ {print $3}')
[ -z "$bad" ] && ok || ko "libfuret.so exports non-furet symbols: $bad"
nm -D --defined-only "$B/libfuret.so" | grep -q ' T furet_search$' && ok || ko "furet_search not exported"
awk '/^```c$/ {on=1; next} /^```$/ {on=0} on' README.md >"$T/readme.c"
san=""   # a sanitizer build of the library needs its runtime in the program
nm -D "$B/libfuret.so" | grep -q ' U __asan' && san="-fsanitize=address,undefined"
if cc -std=c11 -Wall -Wextra -Werror $san -Iinclude -o "$T/readme" "$T/readme.c" -L"$B" -lfuret 2>"$T/err"; then
	ok
	LD_LIBRARY_PATH=$B ${FURET_WRAP:-} "$T/readme" "$IX" 'Qui finance POP School ?' >"$T/out" 2>"$T/err"; st=$?
	expect_status 0 "README example runs"; expect_out "^1 " "README example prints hits"
else
	ko "README example does not compile"; sed 's/^/    /' "$T/err" >&2
fi

# --- PIAF relevance, when the shared data is here ---------------------------------------
if [ -n "${FURET_WRAP:-}" ]; then
	echo "SKIP: PIAF relevance (not under $FURET_WRAP)"
elif [ -f "$DATA/eval/piaf/passages.jsonl" ]; then
	run index -q -i "$T/piaf" "$DATA/eval/piaf/passages.jsonl"; expect_status 0 "index PIAF"
	$FURET batch -i "$T/piaf" "$DATA/eval/piaf/queries.dev.tsv" >"$T/piaf.run" 2>/dev/null
	$FURET eval "$DATA/eval/piaf/qrels.dev.tsv" "$T/piaf.run" >"$T/out" 2>&1
	ndcg=$(awk -F'\t' '$1=="nDCG@10"{print $2}' "$T/out")
	awk -v v="$ndcg" 'BEGIN { exit !(v >= 0.78) }' && ok || ko "PIAF dev nDCG@10 $ndcg < 0.78"
else
	echo "SKIP: PIAF relevance ($DATA/eval/piaf absent)"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
