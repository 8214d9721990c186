#!/bin/sh
# bench/index_bench.sh [BUILD_DIR] — what `make bench` runs: indexing speed,
# memory and size on the scale corpus (../shared/data/corpus, 212 MB of
# text), written as a markdown table to BUILD_DIR/bench/results.md.
#
#   - the analysis alone (bench/analyze_bench, one thread) on the same text;
#   - full rebuilds with the default threads and budget, with one thread,
#     and with a 256 MB budget: wall time (best of BENCH_RUNS, default 3:
#     the machine is shared), MB/s of text, the ratio to the analysis alone,
#     peak RSS (/usr/bin/time), CPU time;
#   - the index size, with and without the stored text (the text table's
#     pages, from mdb_stat).
#
# With BENCH_PEERS=piaf (the PIAF set) or BENCH_PEERS=scale (the peers'
# scale set: spf_qr + legi_codes + kali, 200 queries), it also runs
# ../shared/bench/peers/peers.py with furet as an external engine
# (build/bench/furet_peer) and the engines of BENCH_ENGINES (default
# xapian,xapian-elision,fts5,fts5-snowball,lucenepp; postgres too if
# listed), and prints every furet figure as a ratio to each peer's. The
# scale run takes long: once is enough. As root, missing Debian packages
# are installed (as .ci/deps does); otherwise the command is printed.
#
# Work files go to BENCH_WORK (default $TMPDIR/furet-bench): the
# decompressed corpus is kept there between runs. Not part of make test:
# benchmarks report figures, they never assert times.
set -eu
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
D=${FURET_DATA:-$ROOT/../shared/data}
RUNS=${BENCH_RUNS:-3}
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
for f in "$B/furet" "$B/bench/analyze_bench" "$B/bench/furet_peer"; do
	[ -x "$f" ] || { say "$f is missing: make all $B/bench/analyze_bench"; exit 2; }
done
mkdir -p "$WORK/corpus" "$B/bench"

# The corpus, decompressed once.
for z in "$D"/corpus/*.jsonl.zst; do
	j="$WORK/corpus/$(basename "$z" .zst)"
	[ -s "$j" ] || { say "decompressing $z"; zstd -dcq "$z" > "$j"; }
done
CORPUS="$WORK/corpus"

# best_of DIR CMD... — runs CMD RUNS times under /usr/bin/time, DIR removed
# before each (a fresh build each time); prints "best_wall max_rss_kb
# user+sys_of_best".
best_of() {
	dir=$1; shift
	best=""; rss=0; cpu=""
	i=0
	while [ $i -lt "$RUNS" ]; do
		rm -rf "$dir"
		/usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >/dev/null
		read -r w m u s < "$WORK/time"
		if [ -z "$best" ] || [ "$(echo "$w < $best" | bc)" = 1 ]; then
			best=$w; cpu=$(echo "$u + $s" | bc)
		fi
		[ "$m" -gt "$rss" ] && rss=$m
		i=$((i + 1))
	done
	echo "$best $rss $cpu"
}
command -v bc >/dev/null 2>&1 || need bc || exit 2

# The analysis alone: one thread, text fields only.
say "analysis alone, best of $RUNS"
an_best=""
i=0
while [ $i -lt "$RUNS" ]; do
	line=$(cat "$CORPUS"/*.jsonl | "$B/bench/analyze_bench")
	set -- $line
	bytes=$2; secs=$6
	if [ -z "$an_best" ] || [ "$(echo "$secs < $an_best" | bc)" = 1 ]; then
		an_best=$secs
	fi
	i=$((i + 1))
done
mb=$(echo "scale=1; $bytes / 1000000" | bc)
an_mbs=$(echo "scale=1; $bytes / 1000000 / $an_best" | bc)

IX="$WORK/index"
rows=""
for cfg in "default::" "one thread:--threads 1:" "256 MB budget:--memory 256M:"; do
	name=${cfg%%:*}
	rest=${cfg#*:}
	opts=${rest%%:*}
	say "rebuild ($name), best of $RUNS"
	# shellcheck disable=SC2086
	r=$(best_of "$IX" "$B/furet" index -q -i "$IX" --rebuild $opts "$CORPUS")
	set -- $r
	wall=$1; rss=$2; cpu=$3
	mbs=$(echo "scale=1; $bytes / 1000000 / $wall" | bc)
	ratio=$(echo "scale=2; $wall / $an_best" | bc)
	rows="$rows| $name | $wall | $mbs | $ratio | $((rss / 1024)) | $cpu |
"
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
		"corpus: $D/corpus ($mb MB of text); best of $RUNS runs."
	echo
	echo "Analysis alone (bench/analyze_bench, one thread): $an_best s, $an_mbs MB/s."
	echo
	echo "| full rebuild | wall s | MB/s | x analysis alone | peak RSS MB | CPU s (user+sys) |"
	echo "|---|---|---|---|---|---|"
	printf "%s" "$rows"
	echo
	echo "Index: $size_mb MB; stored text $stored_mb MB (of $textin_mb MB of passage text);" \
		"without it $notext_mb MB."
} > "$OUT"

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
	*)
		say "BENCH_PEERS is piaf or scale"; exit 2;;
	esac
	say "peers.py on $PEERS ($ENGINES and furet)"
	# shellcheck disable=SC2086
	$PY "$WORK/peers/peers.py" --passages "$P" --queries "$Q" --qrels "$R" \
		--out "$WORK/peers-out" --engines "$ENGINES" \
		--ext "furet=$ROOT/$B/bench/furet_peer" $extra >&2
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
fi
cat "$OUT"
