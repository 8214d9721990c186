#!/bin/sh
# tests/update.sh BUILD_DIR — incremental indexing from the command line
# (issue 5): what `furet index` adds, updates, removes and leaves alone from
# one run to the next; `furet check` on good and damaged indexes; `furet
# stats --json`; `furet compact`; `--no-wait` against a running writer;
# runs killed with SIGKILL at random moments; searches while batches commit.
# $FURET_WRAP (e.g. valgrind) prefixes the furet runs that are not killed.
# Needs $B/furet and $B/tests/jsoncheck; uses ../shared/data when present.
set -u
B=${1:-build}
FURET="${FURET_WRAP:-} $B/furet"
JC=$B/tests/jsoncheck
DATA=${FURET_DATA:-../shared/data}
T=$(mktemp -d "${TMPDIR:-/tmp}/furet-update-XXXXXX")
bg_pids=""
cleanup() {
	for p in $bg_pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pass=0; fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# run ARGS...: runs furet, stdout in $T/out, stderr in $T/err, status in $st
run() { $FURET "$@" >"$T/out" 2>"$T/err"; st=$?; }
expect_status() { [ "$st" -eq "$1" ] && ok || { ko "$2: exit $st, expected $1"; sed 's/^/    /' "$T/err" >&2; }; }
expect_err() { grep -q -- "$1" "$T/err" && ok || { ko "$2: stderr lacks '$1'"; sed 's/^/    /' "$T/err" >&2; }; }
# found WORD / absent WORD: a search in $IX finds it (exit 0) / not (exit 1)
found() { $FURET search -i "$IX" -- "$1" >/dev/null 2>&1; s=$?; [ $s -eq 0 ] && ok || ko "$2: '$1' not found (exit $s)"; }
absent() { $FURET search -i "$IX" -- "$1" >/dev/null 2>&1; s=$?; [ $s -eq 1 ] && ok || ko "$2: '$1' still found (exit $s)"; }
# stat_of DIR KEY: that key of `furet stats --json`
stat_of() { $FURET stats -i "$1" --json 2>/dev/null | $JC get 1 "$2"; }
ms() { date +%s%N | cut -c1-13; }

# --- incremental runs over a directory --------------------------------------
D=$T/docs; IX=$T/ix
mkdir -p "$D" "$T/filler"
# Documents indexed from another path stay through the runs over $D, and
# keep the removed passages under the fifth that triggers auto-compaction.
awk 'BEGIN { for (i = 0; i < 100; i++)
	printf "{\"id\":\"f%d\",\"text\":\"Le document de remplissage numéro %d.\"}\n", i, i }' \
	>"$T/filler/f.jsonl"
run index -i "$IX" "$T/filler"; expect_status 0 "filler"
expect_err "100 added, 0 updated, 0 removed, 0 unchanged" "filler summary"
cp corpus/fabriques-du-numerique.txt "$D/"
printf 'Le pangolin vit dans les forêts tropicales.\n\nIl mange des fourmis la nuit.\n' >"$D/g1.txt"
printf 'L’ornithorynque pond des œufs au bord des rivières.\n' >"$D/g2.txt"
printf 'Le tamanoir possède une très longue langue.\n\nIl dort le jour.\n' >"$D/g3.txt"
run index -i "$IX" "$D"; expect_status 0 "first run"
expect_err "4 added, 0 updated, 0 removed, 0 unchanged" "first run summary"
run index -i "$IX" "$D"; expect_status 0 "second run"
expect_err "0 added, 0 updated, 0 removed, 4 unchanged" "nothing changed"
found pangolin "before the edit"

printf 'Le fennec vit dans le désert.\n\nIl mange des insectes la nuit.\n' >"$D/g1.txt"
run index -i "$IX" "$D"; expect_status 0 "run after an edit"
expect_err "0 added, 1 updated, 0 removed, 3 unchanged" "edited file"
absent pangolin "old wording after the edit"
found fennec "new wording after the edit"

rm "$D/g2.txt"
run index -i "$IX" "$D"; expect_status 0 "run after a deletion"
expect_err "0 added, 0 updated, 1 removed, 3 unchanged" "deleted file"
absent ornithorynque "deleted file's words"
found tamanoir "the other files stay"

printf '%s\n' '{"id":"x","text":"Le capybara nage dans la rivière."}' \
	'{"id":"y","text":"Le wombat creuse un terrier."}' \
	'{"id":"z","text":"Le koala dort dans l’eucalyptus."}' >"$D/docs.jsonl"
run index -i "$IX" "$D"; expect_status 0 "run with a new jsonl"
expect_err "3 added, 0 updated, 0 removed, 3 unchanged" "jsonl added"
printf '%s\n' '{"id":"x","text":"Le lamantin broute les herbiers."}' \
	'{"id":"z","text":"Le koala dort dans l’eucalyptus."}' >"$D/docs.jsonl"
run index -i "$IX" "$D"; expect_status 0 "run with a rewritten jsonl"
expect_err "0 added, 1 updated, 1 removed, 4 unchanged" "jsonl: x changed, y gone"
absent capybara "jsonl: x's old text"
found lamantin "jsonl: x's new text"
absent wombat "jsonl: y removed"
found koala "jsonl: z kept"

printf '%s\n' '{"id":"w","text":"Le narval plonge sous la banquise."}' \
	'{"id":"w","text":"L’axolotl régénère ses membres."}' >"$D/dup.jsonl"
run index -i "$IX" "$D"
grep -qi 'twice\|repeat\|last one\|duplicate\|already in this batch' "$T/err" && ok ||
	{ ko "an id twice in one run is not mentioned"; sed 's/^/    /' "$T/err" >&2; }
expect_err "1 added" "the repeated id counts once"
absent narval "repeated id: the first text"
found axolotl "repeated id: the last text"
[ "$(stat_of "$IX" documents)" = 106 ] && ok || ko "documents after the updates: $(stat_of "$IX" documents), expected 106"
dead=$(stat_of "$IX" dead_passages)
# The file with the repeated id has not changed: nothing to update.
run index -i "$IX" "$D"; expect_status 0 "re-run with the repeated id"
expect_err "0 added, 0 updated, 0 removed" "re-run of an unchanged file with a repeated id"
[ "$(stat_of "$IX" dead_passages)" = "$dead" ] && ok || ko "re-run of an unchanged file with a repeated id: dead passages $dead -> $(stat_of "$IX" dead_passages)"

run index -q -i "$IX" "$D"; expect_status 0 "-q run"
grep -q 'added\|unchanged' "$T/err" && ko "-q still prints the summary" || ok

# --- check, stats, compact --------------------------------------------------
run check -i "$IX"; expect_status 0 "check after the updates"
run stats -i "$IX" --json; expect_status 0 "stats --json"
for k in documents passages terms postings dead_passages file_bytes format analyzer last_update; do
	$JC get 1 "$k" <"$T/out" >/dev/null && ok || ko "stats --json lacks $k"
done
[ "$($JC get 1 documents <"$T/out")" = 106 ] && ok || ko "stats documents"
dead=$($JC get 1 dead_passages <"$T/out")
[ "${dead:-0}" -gt 0 ] 2>/dev/null && ok || ko "dead_passages after removals is '$dead'"
[ "$($JC get 1 last_update <"$T/out")" -gt 1600000000 ] 2>/dev/null && ok || ko "last_update is not a Unix time"
passages=$($JC get 1 passages <"$T/out")

run compact -i "$IX"; expect_status 0 "compact"
cat "$T/out" "$T/err" >"$T/both"
grep -qi before "$T/both" && grep -qi after "$T/both" && ok || ko "compact does not print the sizes before and after"
[ "$(stat_of "$IX" dead_passages)" = 0 ] && ok || ko "dead_passages after compact: $(stat_of "$IX" dead_passages)"
[ "$(stat_of "$IX" passages)" = "$passages" ] && ok || ko "compact changed the passage count"
run check -i "$IX"; expect_status 0 "check after compact"
found fennec "after compact"; found axolotl "after compact"; absent pangolin "after compact"
run search -i "$IX" --json 'Fonds social européen'; expect_status 0 "corpus search after compact"
[ "$($JC get 1 doc <"$T/out")" = "$D/fabriques-du-numerique.txt" ] && ok || ko "corpus rank 1 after compact"

rm "$D/dup.jsonl"
run index --rebuild -i "$IX" "$D"; expect_status 0 "--rebuild"
[ "$(stat_of "$IX" documents)" = 5 ] && ok || ko "documents after --rebuild: $(stat_of "$IX" documents), expected 5"
[ "$(stat_of "$IX" dead_passages)" = 0 ] && ok || ko "dead passages after --rebuild"
found lamantin "after --rebuild"; absent axolotl "after --rebuild without dup.jsonl"
absent remplissage "--rebuild starts from scratch"
run check -i "$IX"; expect_status 0 "check after --rebuild"

# --- a damaged index: check says so, without crashing or hanging -------------
# flip FILE OFFSET COUNT: complements COUNT bytes at OFFSET.
flip() {
	s=""
	for b in $(dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | od -An -v -tu1); do
		s="$s$(printf '\\%03o' $((255 - b)))"
	done
	printf "$s" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
mkdir -p "$T/bad"
cp "$IX/data.mdb" "$T/bad/data.mdb"
size=$(wc -c <"$T/bad/data.mdb")
for tenth in 3 4 5 6 7; do
	flip "$T/bad/data.mdb" $((size * tenth / 10 + 100)) 24
done
# furet walks LMDB's pages before LMDB follows them: no fault even under
# AddressSanitizer (tests/hostile.sh has more damaged indexes).
timeout 30 $FURET check -i "$T/bad" >"$T/out" 2>"$T/err"; st=$?
expect_status 2 "check of a damaged index"
head -n 1 "$T/err" | grep -q '^furet: ' && ok || ko "damaged index: stderr does not start with 'furet: '"
if grep -q 'Sanitizer\|went outside' "$T/err"; then ko "damaged index: a fault"; sed 's/^/    /' "$T/err" >&2; else ok; fi

# --- --no-wait against a running writer --------------------------------------
NW=$T/nw; mkdir -p "$T/big"
awk 'BEGIN { srand(7)
	n = split("commune association budget école quartier formation numérique " \
		"habitant mairie projet jardin bibliothèque atelier subvention région " \
		"emploi transport logement santé culture sport jeunesse solidarité " \
		"environnement réseau service public citoyen entreprise territoire", w, " ")
	for (i = 0; i < 5000; i++) {
		s = ""
		for (j = 0; j < 300; j++)
			s = s w[int(rand() * n) + 1] (j % 60 == 59 ? "\\n\\n" : " ")
		printf "{\"id\":\"big-%d\",\"text\":\"%s mot%d\"}\n", i, s, i
	}
}' >"$T/big/big.jsonl"
printf 'Un autre document.\n' >"$T/other.txt"
$B/furet index -q -i "$NW" "$T/big" >/dev/null 2>"$T/bg.err" &
bgpid=$!; bg_pids="$bg_pids $bgpid"
i=0
while [ $i -lt 50 ] && ! grep -q '[0-9]' "$NW/writer.lock" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
t0=$(ms)
run index --no-wait -i "$NW" "$T/other.txt"; t1=$(ms)
expect_status 2 "--no-wait while another process writes"
expect_err "pid" "--no-wait names the process"
limit=2000; [ -n "${FURET_WRAP:-}" ] && limit=15000
[ $((t1 - t0)) -lt $limit ] && ok || ko "--no-wait took $((t1 - t0)) ms"
wait $bgpid; bst=$?
[ $bst -eq 0 ] && ok || { ko "the background index exited $bst"; sed 's/^/    /' "$T/bg.err" >&2; }
run index --no-wait -i "$NW" "$T/other.txt"; expect_status 0 "--no-wait once the writer is done"
[ "$(stat_of "$NW" documents)" = 5001 ] && ok || ko "documents after both runs"

# --- searches while batches commit -------------------------------------------
CC=$T/cc; mkdir -p "$T/ccin"
for k in 0 1 2 3 4 5 6 7 8; do
	printf '%s\n' "{\"id\":\"h$k\",\"text\":\"Un hippocampe numéro $k nage.\"}" \
		"{\"id\":\"a$k\",\"text\":\"Une anguille numéro $k.\"}" \
		"{\"id\":\"c$k\",\"text\":\"Un crabe numéro $k.\"}" >"$T/ccin/b$k.jsonl"
done
$FURET index -q -i "$CC" "$T/ccin/b0.jsonl" >/dev/null 2>&1 && ok || ko "concurrency: first batch"
searcher() {
	i=0
	while [ ! -e "$T/cc.stop" ] && [ $i -lt 1000 ]; do
		$FURET search -i "$CC" --json -n 100 hippocampe >"$1.json" 2>/dev/null; s=$?
		n=$($JC count <"$1.json"); c=$?
		echo "$s $c $n" >>"$1"
		i=$((i + 1))
	done
}
spids=""
for r in 1 2 3; do
	: >"$T/cc.$r"
	searcher "$T/cc.$r" &
	spids="$spids $!"
done
bg_pids="$bg_pids $spids"
for k in 1 2 3 4 5 6 7 8; do
	$FURET index -q -i "$CC" "$T/ccin/b$k.jsonl" >/dev/null 2>&1 || ko "concurrency: batch $k failed"
	sleep 0.25
done
touch "$T/cc.stop"
for p in $spids; do wait "$p"; done
for r in 1 2 3; do
	if awk 'BEGIN { last = 0; bad = 0 }
		{ if ($1 != 0 || $2 != 0 || $3 < last || $3 < 1 || $3 > 9) { if (bad++ < 5) print "    line " NR ": " $0 } last = $3 }
		END { exit bad || NR == 0 }' "$T/cc.$r" >&2; then ok
	else ko "concurrency: searcher $r saw a failure, bad JSON or a count going down"; fi
done
[ "$($FURET search -i "$CC" --json -n 100 hippocampe 2>/dev/null | $JC count)" = 9 ] && ok || ko "concurrency: 9 hits at the end"

# --- runs killed with SIGKILL at random moments ------------------------------
# A slice of the scale corpus (else generated documents): index its first
# 500 documents, then 20 times: start indexing the whole slice, kill -9 it
# at a random moment in [0, 1.5] s, and the index must pass check and answer
# either as before the run or as a complete run does.
CR=$T/crash; mkdir -p "$CR/in"
if [ -f "$DATA/corpus/spf_fiches.jsonl.zst" ] && command -v zstd >/dev/null; then
	zstd -dc "$DATA/corpus/spf_fiches.jsonl.zst" 2>/dev/null | head -n 1500 >"$CR/slice.jsonl"
	q1="crédit d'impôt cotisations syndicales"; q2="carte grise changement d'adresse"; q3="allocation logement étudiant"
else
	echo "SKIP: $DATA/corpus/spf_fiches.jsonl.zst absent; generated documents instead"
	awk 'BEGIN { srand(11)
		n = split("crédit impôt cotisation syndicale carte grise adresse allocation " \
			"logement étudiant famille retraite salarié employeur permis conduire " \
			"passeport mairie déclaration revenu aide demande dossier délai", w, " ")
		for (i = 0; i < 3000; i++) {
			s = ""
			for (j = 0; j < 400; j++)
				s = s w[int(rand() * n) + 1] (j % 50 == 49 ? "\\n\\n" : " ")
			printf "{\"id\":\"gen-%d\",\"title\":\"Fiche %d\",\"text\":\"%s\"}\n", i, i, s
		}
	}' >"$CR/slice.jsonl"
	q1="crédit impôt cotisation"; q2="carte grise adresse"; q3="allocation logement étudiant"
fi
head -n 500 "$CR/slice.jsonl" >"$CR/in/docs.jsonl"
$FURET index -q -i "$CR/ix0" "$CR/in" >/dev/null 2>&1 && ok || ko "crash: first part"
$FURET index -q -i "$CR/ref" "$CR/in" >/dev/null 2>&1 && ok || ko "crash: reference, first part"
for q in 1 2 3; do
	eval "qq=\$q$q"
	$FURET search -i "$CR/ix0" --json -n 20 -- "$qq" >"$CR/old.$q" 2>/dev/null
done
cp "$CR/slice.jsonl" "$CR/in/docs.jsonl"
$FURET index -q -i "$CR/ref" "$CR/in" >/dev/null 2>&1 && ok || ko "crash: reference, whole slice"
for q in 1 2 3; do
	eval "qq=\$q$q"
	$FURET search -i "$CR/ref" --json -n 20 -- "$qq" >"$CR/new.$q" 2>/dev/null
done
[ -s "$CR/old.1" ] && [ -s "$CR/new.1" ] && ok || ko "crash: no hits recorded for query 1"
cmp -s "$CR/old.1" "$CR/new.1" && ko "crash: query 1 does not tell the two states apart"
n_old=0; n_new=0; round=0
while [ $round -lt 20 ]; do
	round=$((round + 1))
	rm -rf "$CR/ix"; cp -r "$CR/ix0" "$CR/ix"
	delay=$(awk -v r=$round 'BEGIN { srand(); srand(srand() + r * 7919); printf "%.3f", rand() * 1.5 }')
	$B/furet index -q -i "$CR/ix" "$CR/in" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	timeout 60 $FURET check -i "$CR/ix" >"$T/out" 2>"$T/err"; st=$?
	expect_status 0 "crash round $round (killed after ${delay}s): check"
	is_old=1; is_new=1
	for q in 1 2 3; do
		eval "qq=\$q$q"
		$FURET search -i "$CR/ix" --json -n 20 -- "$qq" >"$CR/got" 2>/dev/null
		cmp -s "$CR/got" "$CR/old.$q" || is_old=0
		cmp -s "$CR/got" "$CR/new.$q" || is_new=0
	done
	if [ $is_old = 1 ]; then n_old=$((n_old + 1)); ok
	elif [ $is_new = 1 ]; then n_new=$((n_new + 1)); ok
	else ko "crash round $round (killed after ${delay}s): searches answer neither as before nor as a complete run"; fi
done
echo "crash: $n_old rounds left the index as it was, $n_new found it complete"

# --- compaction while other processes search -----------------------------------
# Compaction swaps the index directory whole (data and lock file together):
# searches that start before, during and after it all succeed and agree.
CP=$T/cp; mkdir -p "$CP/in"
i=1; while [ $i -le 200 ]; do
	echo "Document $i sur les abeilles et le miel, version zéro." >"$CP/in/d$i.txt"
	i=$((i + 1))
done
$B/furet index -q -i "$CP/ix" "$CP/in"
(
	k=0; bad=0
	while [ $k -lt 60 ]; do
		n=$($B/furet search -i "$CP/ix" -n 500 --json abeilles 2>/dev/null | $JC count) || bad=$((bad + 1))
		[ "$n" = 200 ] || bad=$((bad + 1))
		k=$((k + 1))
	done
	echo $bad >"$CP/bad"
) &
searcher=$!
r=1
while [ $r -le 4 ]; do
	i=$r; while [ $i -le 200 ]; do
		echo "Document $i sur les abeilles et le miel, version $r." >"$CP/in/d$i.txt"
		i=$((i + 4))
	done
	$B/furet index -q -i "$CP/ix" "$CP/in" >/dev/null 2>&1
	run compact -i "$CP/ix"; expect_status 0 "compaction $r while searching"
	r=$((r + 1))
done
wait $searcher
[ "$(cat "$CP/bad")" = 0 ] && ok || ko "searches during compactions: $(cat "$CP/bad") failed or saw a wrong count"
run check -i "$CP/ix"; expect_status 0 "check after compactions under searches"
[ ! -e "$CP/ix.compact" ] && ok || ko "compaction left its temporary directory"

echo "update: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
