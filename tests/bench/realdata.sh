#!/bin/sh
# realdata.sh DIR: SmokeDetector's sample list files grown to real size in
# DIR, for the one-change benchmarks (change.sh, s3.sh):
# watched_keywords.txt repeated to 38,700 lines (1.9 MB, 57k items), and
# blacklisted_websites.txt some 18,000 items longer.
. tests/lib.sh
SAMPLE=$(hl_samples) || { echo "realdata: no sample lists" >&2; exit 1; }
mkdir -p "$1" || exit 1
cp "$SAMPLE"/*.txt "$SAMPLE"/*.yml "$1/" || exit 1
awk -F '\t' 'NF == 3 { l[n++] = $0 }
    END {
	for (k = 0; k < 258; k++)
		for (i = 0; i < n; i++) {
			if (k == 0) { print l[i]; continue }
			split(l[i], f, "\t")
			printf "%s\t%s\t%s|helios-bench-%d-%d\n", \
			    f[1], f[2], f[3], k, i
		}
    }' "$SAMPLE/watched_keywords.txt" >"$1/watched_keywords.txt"
awk '{ print } END { for (i = 0; i < 18000; i++)
    printf "bench-site-%d\\.example\\.com\n", i }' \
    "$SAMPLE/blacklisted_websites.txt" >"$1/blacklisted_websites.txt"
