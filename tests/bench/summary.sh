# summary.sh: sourced by the benchmark scripts; bench_fact KEY VALUE
# appends one figure to the file run.sh's summary page is printed from
# (BENCH_SUMMARY; summary.py names the keys it reads).  Without
# BENCH_SUMMARY, as when a script is run alone, it does nothing.
bench_fact() {
	[ -n "${BENCH_SUMMARY:-}" ] && [ -n "$2" ] &&
	    printf '%s\t%s\n' "$1" "$2" >>"$BENCH_SUMMARY"
	return 0
}
