#!/usr/bin/env bash
# Acceptance each shortlist size gives (bundles/mtp: the draft heads draft among the N most frequent ids of
# MODEL/draft_shortlist.tsv.gz, made by tools/train/draft_shortlist.py): for each N, one node with
# io.tessera.mtp shortlist=N (0: the whole vocabulary) runs `bench --modes 3` (every head drafting) greedily over
# the held-out Java prompts and prints the acceptance length and each head's acceptance; the tokens are checked
# to equal greedy decoding without drafts. The model is reloaded after the configuration is in place.
#   tools/train/shortlist_acceptance.sh [MAX_TOKENS=96] [N...=0 1024 512 256 128]
set -euo pipefail
cd "$(dirname "$0")/../.."
max=${1:-96}; shift || true
sizes=${*:-0 1024 512 256 128}
conf=$(mktemp -d); trap 'rm -rf "$conf"' EXIT
for n in $sizes; do
    cp distribution/conf/*.cfg "$conf/"
    echo "shortlist=$n" > "$conf/io.tessera.mtp.cfg"
    echo "shortlist $n:"
    TESSERA_OPTS="-Dfelix.fileinstall.dir=$conf" ./tessera -c "model:unload default
model:load --name default distribution/model
bench --modes 3 --prompts tools/train/heldout_prompts.ids -n $max -r 1 -w 0" 2>&1 | grep -E '^ *(k=3|load)'
done
