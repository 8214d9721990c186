#!/bin/sh
# bench/index_bench.sh [BUILD_DIR] — what `make bench` runs: indexing speed,
# memory and size on the scale corpus (../shared/data/corpus, 212 MB of
# text), written as a markdown table to BUILD_DIR/bench/results.md.
#
#   - the analysis alone (bench/analyze_bench, one thread) on the same text:
#     the documents' titles and texts, as furet index analyses them (and,
#     for comparison with earlier runs, on the texts alone);
#   - full rebuilds with the default threads and budget, with one thread,
#     and with a 256 MB budget: wall time (best of BENCH_RUNS rounds,
#     default 5, each running the analyses and the three rebuilds: the
#     machine is shared), MB/s of text, the ratio to the analysis alone
#     (best to best, and per round for the default rebuild), peak RSS
#     (/usr/bin/time), CPU time; and per round a control, two analyses at
#     once over one alone, which says whether the host gave both
#     processors (the threaded rebuilds need them, the analysis alone not);
#   - the index size, with and without the stored text (the text table's
#     pages, from mdb_stat);
#   - peak RSS of a rebuild at --memory 128M over the corpus and over 2,
#     4... BENCH_COPIES copies of it (default 8, 0 skips it): whether the
#     budget holds as the corpus grows.
#
#   - query latency on the distractor set (bench/make_distractors.sh: the
#     PIAF passages plus every paragraph of the corpus, about 920,000
#     passages): the index build, then bench/query_bench over the PIAF dev
#     questions (all of them, or BENCH_QUERIES), top 100, one passage per
#     document, after an untimed warm-up pass: p50, p95, p99, max, QPS,
#     with one thread and with one per processor, and the nDCG@10 and
#     MRR@10 of the run (the pruned ranking is the exhaustive one: see
#     test_pruning_exact). BENCH_LATENCY=0 skips it.
#
# With BENCH_PEERS=piaf (the PIAF set), BENCH_PEERS=scale (the peers'
# scale set: spf_qr + legi_codes + kali, 200 queries) or BENCH_PEERS=dist
# (the distractor set above, BENCH_PEER_QUERIES questions, default 1000;
# Xapian takes about 20 minutes to index it), it also runs
# ../shared/bench/peers/peers.py with furet as an external engine
# (build/bench/furet_peer) and the engines of BENCH_ENGINES (default
# xapian,xapian-elision,fts5,fts5-snowball,lucenepp; postgres too if
# listed), and prints every furet figure as a ratio to each peer's. The
# harness is run through a wrapper that adds the p99 latency to its
# figures (peers.py itself reports p50, p95 and the maximum). The scale and
# dist runs take long: once is enough. When fts5 is among the engines,
# FTS5 and furet then index the same passages again in BENCH_PAIRS
# paired rounds (default 5, 0 skips them), the order alternating: a
# ratio from two builds seconds apart, whatever the host's drift; and the
# last round's index sizes, furet's with and without its stored text
# against FTS5's (contentless, it stores none). As
# root, missing Debian packages are installed (as .ci/deps does);
# otherwise the command is printed.
#
# Work files go to BENCH_WORK (default $TMPDIR/furet-bench): the
# decompressed corpus is kept there between runs. Not part of make test:
# benchmarks report figures, they never assert times.
set -eu
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=${FURET_DATA:-$ROOT/../shared/data}
RUNS=${BENCH_RUNS:-5}
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/furet-bench}
PEERS=${BENCH_PEERS:-}
ENGINES=${BENCH_ENGINES:-xapian,xapian-elision,fts5,fts5-snowball,lucenepp}
OUT=$B/bench/results.md
PY=/usr/bin/python3

say() { echo "bench: $*" >&2; }

# need PACKAGE... — installs the missing Debian packages when root.
need() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing missing Debian packages:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 || true
		apt-get install -y -qq$missing >&2 && return 0
	fi
	say "missing Debian packages:$missing (as root: apt-get install -y$missing)"
	return 1
}

[ -d "$D/corpus" ] || { say "no corpus in $D/corpus (set FURET_DATA)"; exit 2; }
need time zstd lmdb-utils || exit 2
for f in "$B/furet" "$B/bench/analyze_bench" "$B/bench/furet_peer" "$B/bench/query_bench"; do
	[ -x "$f" ] || { say "$f is missing: make bench builds it"; exit 2; }
done
mkdir -p "$WORK/corpus" "$B/bench"

# The corpus, decompressed once.
for z in "$D"/corpus/*.jsonl.zst; do
	j="$WORK/corpus/$(basename "$z" .zst)"
	[ -s "$j" ] || { say "decompressing $z"; zstd -dcq "$z" > "$j"; }
done
CORPUS="$WORK/corpus"

# The analysis alone (one thread, text fields only) and the rebuilds
# (default, one thread, 256 MB budget), one of each per round, RUNS
# rounds: interleaved, so that a machine that slows down or speeds up
# (a shared one does, by up to 2x within minutes) weighs on each the same.
# Each keeps its best wall time (its CPU time is that run's, its peak RSS
# the most of any); the paired ratio is, per round, the default rebuild
# over the analysis just before it.
command -v bc >/dev/null 2>&1 || need bc || exit 2
CFGS="default:: one_thread:--threads_1: 256_MB_budget:--memory_256M:"
IX="$WORK/index"
# analysis FIELDS: one run of analyze_bench over the corpus (its line).
analysis() { cat "$CORPUS"/*.jsonl | "$B/bench/analyze_bench" 1 "$1"; }
# is_less A B: whether A < B, or B is empty (no best yet).
is_less() { [ -z "$2" ] || [ "$(echo "$1 < $2" | bc)" = 1 ]; }
an_best=""
ant_best=""
pairs=""
controls=""
r=0
while [ $r -lt "$RUNS" ]; do
	say "round $((r + 1)) of $RUNS: analysis alone, then the rebuilds"
	set -- $(analysis text)
	ant=$6
	is_less "$ant" "$ant_best" && ant_best=$ant
	set -- $(analysis title,text)
	all_bytes=$2; an=$6; bytes=${12}
	is_less "$an" "$an_best" && an_best=$an
	# A control: two analyses of the texts at once, on the two processors,
	# the slower over the one alone. Near 1, both processors were there;
	# above, the host gave the second one (or both) less, which slows the
	# threaded rebuilds and not the analysis alone.
	analysis text > "$WORK/an2.a" &
	analysis text > "$WORK/an2.b"
	wait
	two=$(cat "$WORK/an2.a" "$WORK/an2.b" | awk '$6 > m {m = $6} END {print m}')
	controls="$controls $(echo "scale=2; $two / $ant" | bc)"
	k=0
	for cfg in $CFGS; do
		rest=${cfg#*:}
		opts=$(echo "${rest%%:*}" | tr _ ' ')
		rm -rf "$IX"
		# shellcheck disable=SC2086
		/usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$B/furet" index -q \
			-i "$IX" --rebuild $opts "$CORPUS" >/dev/null
		read -r w m u s < "$WORK/time"
		eval "bw=\${best_w$k:-}; brss=\${best_rss$k:-0}"
		if is_less "$w" "$bw"; then
			eval "best_w$k=$w; best_cpu$k=$(echo "$u + $s" | bc)"
		fi
		[ "$m" -gt "$brss" ] && eval "best_rss$k=$m"
		[ $k -eq 0 ] && pairs="$pairs $(echo "scale=3; $w / $an" | bc)"
		k=$((k + 1))
	done
	r=$((r + 1))
done
mb=$(echo "scale=1; $bytes / 1000000" | bc)
all_mb=$(echo "scale=1; $all_bytes / 1000000" | bc)
an_mbs=$(echo "scale=1; $all_bytes / 1000000 / $an_best" | bc)
ant_mbs=$(echo "scale=1; $bytes / 1000000 / $ant_best" | bc)
def_text=$(echo "scale=2; $best_w0 / $ant_best" | bc)
pair_med=$(echo $pairs | tr ' ' '\n' | sort -n |
	awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')

rows=""
k=0
for cfg in $CFGS; do
	name=$(echo "${cfg%%:*}" | tr _ ' ')
	eval "wall=\$best_w$k; rss=\$best_rss$k; cpu=\$best_cpu$k"
	mbs=$(echo "scale=1; $bytes / 1000000 / $wall" | bc)
	ratio=$(echo "scale=2; $wall / $an_best" | bc)
	rows="$rows| $name | $wall | $mbs | $ratio | $((rss / 1024)) | $cpu |
"
	k=$((k + 1))
done

# Sizes of the last index (the same whatever the run).
stats=$("$B/furet" stats -i "$IX" --json)
file_bytes=$(echo "$stats" | sed -n 's/.*"file_bytes":\([0-9]*\).*/\1/p')
text_bytes=$(echo "$stats" | sed -n 's/.*"text_bytes":\([0-9]*\).*/\1/p')
psize=$(mdb_stat -e "$IX" | sed -n 's/.*Page size: *\([0-9]*\).*/\1/p')
pages=$(mdb_stat -s text "$IX" | awk '/Branch pages|Leaf pages|Overflow pages/ {n += $NF} END {print n + 0}')
stored=$((pages * psize))
size_mb=$(echo "scale=1; $file_bytes / 1000000" | bc)
stored_mb=$(echo "scale=1; $stored / 1000000" | bc)
notext_mb=$(echo "scale=1; ($file_bytes - $stored) / 1000000" | bc)
textin_mb=$(echo "scale=1; $text_bytes / 1000000" | bc)

{
	echo "# furet indexing benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg);" \
		"corpus: $D/corpus ($mb MB of text); best of $RUNS interleaved rounds."
	echo
	echo "Analysis alone (bench/analyze_bench, one thread) of the titles and texts" \
		"($all_mb MB): $an_best s, $an_mbs MB/s. Of the texts alone: $ant_best s," \
		"$ant_mbs MB/s (the default rebuild is $def_text x that)."
	echo "Default rebuild over the analysis (titles and texts) run just before it," \
		"per round:$pairs (median $pair_med). MB/s below are of text."
	echo "Control, per round: two analyses of the texts at once, the slower over" \
		"the one alone (1: both processors were there):$controls."
	echo
	echo "| full rebuild | wall s | MB/s | x analysis alone | peak RSS MB | CPU s (user+sys) |"
	echo "|---|---|---|---|---|---|"
	printf "%s" "$rows"
	echo
	echo "Index: $size_mb MB; stored text $stored_mb MB (of $textin_mb MB of passage text);" \
		"without it $notext_mb MB."
} > "$OUT"

# Peak RSS against the corpus's size at a small budget: rebuilds at
# --memory 128M over the corpus and over 2, 4... up to BENCH_COPIES copies
# of it (default 8, 1.7 GB, about 2.5 minutes in all; 0 skips this), each
# copy's ids prefixed "copyK:" (made once in $WORK/copies, 2 GB for 8).
# What a batch keeps per document must not make the peak grow with the
# corpus: past a quarter of the budget, a rebuild is written in parts
# (writer.c: maybe_part).
COPIES=${BENCH_COPIES:-8}
if [ "$COPIES" -gt 0 ]; then
	mkdir -p "$WORK/copies"
	srows=""
	ns=1
	n=2
	while [ $n -lt "$COPIES" ]; do
		ns="$ns $n"
		n=$((n * 2))
	done
	[ "$COPIES" -gt 1 ] && ns="$ns $COPIES"
	for n in $ns; do
		SD="$WORK/scaled$n"
		rm -rf "$SD"
		mkdir -p "$SD"
		for f in "$CORPUS"/*.jsonl; do
			ln -s "$f" "$SD/$(basename "$f")"
			k=2
			while [ $k -le "$n" ]; do
				g="$WORK/copies/$(basename "$f" .jsonl)_$k.jsonl"
				[ -s "$g" ] || sed "s/^{\"id\": *\"/{\"id\": \"copy$k:/" "$f" > "$g"
				ln -s "$g" "$SD/$(basename "$g")"
				k=$((k + 1))
			done
		done
		say "rebuild at --memory 128M, the corpus $n time(s)"
		rm -rf "$WORK/scaled-index"
		/usr/bin/time -f "%e %M" -o "$WORK/time" "$B/furet" index -q \
			-i "$WORK/scaled-index" --rebuild --memory 128M "$SD" >/dev/null
		read -r sw sm < "$WORK/time"
		sdocs=$("$B/furet" stats -i "$WORK/scaled-index" --json |
			sed -n 's/.*"documents":\([0-9]*\).*/\1/p')
		srows="$srows| $n | $(echo "scale=1; $mb * $n" | bc) | $sdocs | $sw | $(echo "scale=1; $sm / 1024" | bc) | $([ "$sm" -le 131072 ] && echo yes || echo no) |
"
	done
	rm -rf "$WORK/scaled-index"
	{
		echo
		echo "## Peak RSS against the corpus's size, at --memory 128M"
		echo
		echo "| copies of the corpus | MB of text | documents | wall s | peak RSS MiB | within 128 MiB |"
		echo "|---|---|---|---|---|---|"
		printf "%s" "$srows"
	} >> "$OUT"
fi

# Query latency on the distractor set.
DIST="$WORK/dist"
if [ "${BENCH_LATENCY:-1}" != 0 ] || [ "$PEERS" = dist ]; then
	if [ ! -s "$DIST/passages.jsonl" ]; then
		say "making the distractor set in $DIST"
		FURET_DATA=$D sh "$ROOT/bench/make_distractors.sh" "$DIST" >&2
	fi
	if [ -n "${BENCH_QUERIES:-}" ]; then
		head -n "$BENCH_QUERIES" "$DIST/queries.tsv" > "$WORK/dist-q.tsv"
	else
		cp "$DIST/queries.tsv" "$WORK/dist-q.tsv"
	fi
	# The judgements of those questions only (eval averages over the
	# questions its qrels name).
	awk -F'\t' 'NR == FNR {q[$1] = 1; next} $1 in q' "$WORK/dist-q.tsv" \
		"$DIST/qrels.tsv" > "$WORK/dist-qrels.tsv"
fi
if [ "${BENCH_LATENCY:-1}" != 0 ]; then
	DIX="$WORK/dist-index"
	say "indexing the distractor set"
	rm -rf "$DIX"
	/usr/bin/time -f "%e %M" -o "$WORK/time" "$B/furet" index -q -i "$DIX" \
		--rebuild "$DIST/passages.jsonl" >/dev/null
	read -r dwall drss < "$WORK/time"
	dstats=$("$B/furet" stats -i "$DIX" --json)
	dpass=$(echo "$dstats" | sed -n 's/.*"passages":\([0-9]*\).*/\1/p')
	ddocs=$(echo "$dstats" | sed -n 's/.*"documents":\([0-9]*\).*/\1/p')
	dbytes=$(echo "$dstats" | sed -n 's/.*"file_bytes":\([0-9]*\).*/\1/p')
	nq=$(wc -l < "$WORK/dist-q.tsv")
	lrows=""
	for t in 1 $(nproc); do
		say "query latency, $t thread(s), $nq questions"
		lj=$("$B/bench/query_bench" "$DIX" "$WORK/dist-q.tsv" 100 "$t" "$WORK/dist.run")
		ev=$("$B/furet" eval "$WORK/dist-qrels.tsv" "$WORK/dist.run")
		ndcg=$(echo "$ev" | awk -F'\t' '$1 == "nDCG@10" {print $2}')
		mrr=$(echo "$ev" | awk -F'\t' '$1 == "MRR@10" {print $2}')
		f() { echo "$lj" | sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"; }
		lrows="$lrows| $t | $(f p50_ms) | $(f p95_ms) | $(f p99_ms) | $(f max_ms) | $(f qps) | $ndcg | $mrr |
"
		[ "$t" = "$(nproc)" ] && break
	done
	{
		echo
		echo "## Query latency on the distractor set"
		echo
		echo "$ddocs documents, $dpass passages ($(echo "scale=1; $dbytes / 1000000" | bc) MB index," \
			"built in $dwall s, peak RSS $((drss / 1024)) MB); $nq PIAF dev questions," \
			"top 100, one passage per document, after a warm-up pass."
		echo
		echo "| threads | p50 ms | p95 ms | p99 ms | max ms | QPS | nDCG@10 | MRR@10 |"
		echo "|---|---|---|---|---|---|---|---|"
		printf "%s" "$lrows"
	} >> "$OUT"
fi

if [ -n "$PEERS" ]; then
	PD="$ROOT/../shared/bench/peers"
	[ -d "$PD" ] || { say "no $PD"; exit 2; }
	pk="python3-xapian python3-stemmer python3-snowballstemmer sqlite3"
	case ",$ENGINES," in *,lucenepp,*)
		pk="$pk g++ make pkg-config liblucene++-dev libboost-dev libboost-system-dev";; esac
	case ",$ENGINES," in *,postgres*)
		pk="$pk python3-psycopg2 postgresql-15 postgresql-contrib";; esac
	# shellcheck disable=SC2086
	need $pk || exit 2
	rm -rf "$WORK/peers" "$WORK/peers-out"
	cp -r "$PD" "$WORK/peers"
	chmod -R u+w "$WORK/peers"
	case ",$ENGINES," in *,lucenepp,*) make -s -C "$WORK/peers/lucenepp" >&2;; esac
	extra=""
	case $PEERS in
	piaf)
		P=$D/eval/piaf/passages.jsonl; Q=$D/eval/piaf/queries.dev.tsv
		R=$D/eval/piaf/qrels.dev.tsv;;
	scale)
		FURET_DATA=$D sh "$WORK/peers/scale/make_scale.sh" >&2
		P=$WORK/peers/scale/passages.jsonl; Q=$WORK/peers/scale/queries.tsv
		R=$WORK/peers/scale/qrels.tsv; extra="--max-queries 200 --warmup 50";;
	dist)
		head -n "${BENCH_PEER_QUERIES:-1000}" "$WORK/dist-q.tsv" > "$WORK/dist-peer-q.tsv"
		P=$DIST/passages.jsonl; Q=$WORK/dist-peer-q.tsv; R=$DIST/qrels.tsv
		extra="--warmup 100";;
	*)
		say "BENCH_PEERS is piaf, scale or dist"; exit 2;;
	esac
	say "peers.py on $PEERS ($ENGINES and furet)"
	# peers.py with p99 added to its latency figures (nearest rank, as its
	# p95), without changing the harness.
	# shellcheck disable=SC2086
	$PY - "$WORK/peers" --passages "$P" --queries "$Q" --qrels "$R" \
		--out "$WORK/peers-out" --engines "$ENGINES" \
		--ext "furet=$ROOT/$B/bench/furet_peer" $extra >&2 <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
sys.argv = [sys.argv[1] + "/peers.py"] + sys.argv[2:]
import peers
base = peers.lat_stats
def lat_stats(lats):
    r = base(lats)
    r["p99_ms"] = 1000 * peers.pct(sorted(lats), 99) if lats else float("nan")
    return r
peers.lat_stats = lat_stats
peers.main()
PY
	$PY - "$WORK/peers-out/results.json" "$PEERS" >> "$OUT" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))
ds, recs = res["dataset"], res["engines"]
cols = [("index s", lambda r: r["index_s"]),
        ("MB/s", lambda r: r["index_text_MB_per_s"]),
        ("index MB", lambda r: r["size_bytes"] / 1e6),
        ("QPS", lambda r: r["latency"]["qps"]),
        ("p50 ms", lambda r: r["latency"]["median_ms"]),
        ("p95 ms", lambda r: r["latency"]["p95_ms"]),
        ("p99 ms", lambda r: r["latency"]["p99_ms"]),
        ("MRR@10", lambda r: r["metrics"]["MRR@10"]),
        ("nDCG@10", lambda r: r["metrics"]["nDCG@10"]),
        ("R@100", lambda r: r["metrics"]["Recall@100"])]
ok = [r for r in recs if "error" not in r]
fu = next((r for r in ok if r["engine"] == "furet"), None)
print("\n## Peers (%s: %d passages, %.1f MB title+text)\n" % (
    sys.argv[2], ds["n_passages"], ds["raw_text_bytes_title_plus_text"] / 1e6))
print("| engine | " + " | ".join(c for c, _ in cols) + " |")
print("|---" * (len(cols) + 1) + "|")
for r in ok:
    print("| %s | " % r["engine"] + " | ".join("%.4g" % f(r) for _, f in cols) + " |")
for r in recs:
    if "error" in r:
        print("| %s | error: %s |" % (r["engine"], r["error"].splitlines()[-1][:80]))
if fu:
    print("\nfuret as a ratio to each peer (furet / peer; above 1 is more for"
          " MB/s, QPS and the relevance figures, more time or size otherwise):\n")
    print("| peer | " + " | ".join(c for c, _ in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for r in ok:
        if r is fu:
            continue
        cells = []
        for _, f in cols:
            try:
                cells.append("%.2f" % (f(fu) / f(r)))
            except (ZeroDivisionError, KeyError, TypeError):
                cells.append("n/a")
        print("| %s | " % r["engine"] + " | ".join(cells) + " |")
PY
	case ",$ENGINES," in *,fts5,*) pairs_fts5=1;; *) pairs_fts5=0;; esac
	if [ "$pairs_fts5" = 1 ] && [ "${BENCH_PAIRS:-5}" -gt 0 ]; then
		say "paired indexing rounds: FTS5 and furet, ${BENCH_PAIRS:-5} rounds"
		$PY - "$WORK/peers" "$P" "$ROOT/$B/bench/furet_peer" "$WORK/pairs" \
			"${BENCH_PAIRS:-5}" "$PEERS" >> "$OUT" <<'PY'
# FTS5 (as peers.py builds it) and furet (furet_peer, as peers.py runs
# an external engine) index the same passages one after the other, in
# alternating order, BENCH_PAIRS rounds: each round's ratio compares two
# builds a few seconds apart, so that a host whose speed drifts (this
# one's does, by up to 1.7x between runs) weighs on both alike.
import os, shutil, statistics, sys
sys.path.insert(0, sys.argv[1])
import engines, peers
passages, furet, work, rounds = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
docs, _, raw = peers.load_passages(passages)
rows = []
for r in range(rounds):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fts5, ext = engines.Fts5Engine(), engines.ExternalEngine("furet", furet)
    def run_fts5():
        s = fts5.build(docs, work)["index_s"]
        fts5.close()
        return s
    def run_furet():
        return ext.build_external(passages, work)["index_s"]
    if r % 2 == 0:
        f, u = run_fts5(), run_furet()
    else:
        u, f = run_furet(), run_fts5()
    rows.append((r + 1, "FTS5, furet" if r % 2 == 0 else "furet, FTS5", f, u))
    print("bench: round %d: FTS5 %.2f s, furet %.2f s" % (r + 1, f, u), file=sys.stderr)
# The last round's indexes: FTS5's (contentless: no text) against furet's
# with and without its stored text (the text table's pages).
import subprocess
def mdb_stat(*args):
    return subprocess.run(["mdb_stat"] + list(args), capture_output=True,
                          text=True, check=True).stdout
fts5_mb = os.path.getsize(os.path.join(work, "fts5.sqlite")) / 1e6
ix = ext.index_dir
furet_mb = engines.dir_size(ix) / 1e6
psize = int(mdb_stat("-e", ix).split("Page size:")[1].split()[0])
pages = sum(int(l.split()[-1]) for l in mdb_stat("-s", "text", ix).splitlines()
            if any(k in l for k in ("Branch pages", "Leaf pages", "Overflow pages")))
notext_mb = furet_mb - pages * psize / 1e6
shutil.rmtree(work, ignore_errors=True)
ratios = [f / u for _, _, f, u in rows]
print("\n## Indexing, FTS5 and furet paired (%s: %d passages, %.1f MB)\n" % (
    sys.argv[6], len(docs), raw / 1e6))
print("%d rounds, the order alternating; ratio = FTS5's index s over furet's "
      "(furet's throughput over FTS5's, above 1 is faster).\n" % rounds)
print("| round | order | FTS5 s | furet s | ratio |")
print("|---|---|---|---|---|")
for (n, order, f, u), q in zip(rows, ratios):
    print("| %d | %s | %.2f | %.2f | %.2f |" % (n, order, f, u, q))
print("\nMedian ratio **%.2f**; lowest %.2f, highest %.2f." % (
    statistics.median(ratios), min(ratios), max(ratios)))
print("\nThe last round's indexes: FTS5 %.1f MB (contentless, no text); furet "
      "%.1f MB, without its stored text %.1f MB (**%.2f x** FTS5's)." % (
          fts5_mb, furet_mb, notext_mb, notext_mb / fts5_mb))
PY
	fi
fi
cat "$OUT"
