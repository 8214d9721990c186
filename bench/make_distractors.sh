#!/bin/sh
# bench/make_distractors.sh OUTDIR — the PIAF dev set with every paragraph of
# ../shared/data/corpus added as a distractor passage (issue 4's "about
# 930,000 passages"): OUTDIR/passages.jsonl, queries.tsv, qrels.tsv, in the
# peers harness's format. A paragraph is a blank-line-separated block of a
# corpus document's text with at least 8 words; its id is DOCID#N and its
# title the document's. Nothing is copied into the repository.
set -eu
OUT=${1:?usage: make_distractors.sh OUTDIR}
D=${FURET_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
mkdir -p "$OUT"
cp "$D/eval/piaf/queries.dev.tsv" "$OUT/queries.tsv"
cp "$D/eval/piaf/qrels.dev.tsv" "$OUT/qrels.tsv"
{
	cat "$D/eval/piaf/passages.jsonl"
	for f in legi_codes kali spf_fiches eltec_fra; do
		zstd -dcq "$D/corpus/$f.jsonl.zst"
	done
} | /usr/bin/python3 -c '
import json, sys
out = open(sys.argv[1], "w", encoding="utf-8")
n = 0
for line in sys.stdin:
    if not line.strip():
        continue
    d = json.loads(line)
    if d["id"].startswith("piaf-"):
        out.write(json.dumps({"id": d["id"], "title": d.get("title") or "",
            "text": d["text"]}, ensure_ascii=False) + "\n")
        n += 1
        continue
    for k, para in enumerate(d["text"].split("\n\n")):
        para = para.strip()
        if len(para.split()) < 8:
            continue
        out.write(json.dumps({"id": "%s#%d" % (d["id"], k),
            "title": d.get("title") or "", "text": para},
            ensure_ascii=False) + "\n")
        n += 1
print("%d passages" % n, file=sys.stderr)
' "$OUT/passages.jsonl"
