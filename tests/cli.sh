#!/bin/sh
# tests/cli.sh BUILD_DIR — runs the real furet binary on real indexes and
# checks outputs and exit codes. $FURET_WRAP (e.g. valgrind) prefixes every
# furet run. Needs build/tests/jsoncheck (jansson) to read JSON output.
# Uses ../shared/data when present; the checks that need it say SKIP without.
set -u
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
[ "$($JC get 1 passages <"$T/out")" = 17 ] && ok || ko "stats --json passages"

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

# --- a failed rebuild leaves the index as it was -----------------------------
$FURET search -i "$IX" --json 'label grande école du numérique' >"$T/before" 2>/dev/null
run index -i "$IX" corpus "$T/does-not-exist"; expect_status 2 "index with a missing path"
expect_err "left unchanged" "missing path message"
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
FURET_TEST_KILL_BEFORE_COMMIT=1 $B/furet index -q --rebuild -i "$IX" "$T/big" >/dev/null 2>&1
[ $? -eq 137 ] && ok || ko "the kill hook did not fire"
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
[ "$(ls -A "$T/par" | tr '\n' ' ')" = "data.mdb lock.mdb writer.lock " ] && ok || ko "temporary files left in the index: $(ls -A "$T/par")"
# Killed while spilling: the index as it was, nothing left behind.
cp "$T/par.ref" "$T/par.before"
$B/furet index -q --rebuild -i "$T/par" --memory 1M --threads 2 "$T/big" corpus >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
$B/furet stats -i "$T/par" --json | sed 's/"file_bytes":[0-9]*,//; s/"last_update":[0-9]*,//' >"$T/par.after"
head -1 "$T/par.ref" | cmp -s - "$T/par.after" && ok || ko "a killed spilling rebuild changed the index"
[ "$(ls -A "$T/par" | tr '\n' ' ')" = "data.mdb lock.mdb writer.lock " ] && ok || ko "a killed rebuild left files: $(ls -A "$T/par")"
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

# --- the example program ----------------------------------------------------------------
${FURET_WRAP:-} $B/examples/search "$IX" 'Qui finance POP School ?' >"$T/out" 2>"$T/err"; st=$?
expect_status 0 "examples/search"
[ "$(wc -l <"$T/out")" = 3 ] && ok || ko "examples/search prints 3 hits"
expect_out '\[financ' "examples/search highlights"

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
