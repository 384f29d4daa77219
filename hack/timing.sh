# timing.sh: sourced by the scripts of make test, to say where its time
# goes. timed NAME CMD... runs CMD and, when FAIR_TIMINGS names a file,
# appends "NAME<TAB>SECONDS" to it; timings prints that file as a table.
timed() {
	local name=$1 start rc=0
	shift
	start=$(date +%s%N)
	"$@" || rc=$?
	if [ -n "${FAIR_TIMINGS:-}" ]; then
		local ms=$((($(date +%s%N) - start) / 1000000))
		printf '%s\t%d.%d\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) >>"$FAIR_TIMINGS"
	fi
	return $rc
}

# timings prints the table of $FAIR_TIMINGS with a total; a step whose
# name starts with "(beside" ran at the same time as others and is not
# added to it.
timings() {
	[ -s "${FAIR_TIMINGS:-}" ] || return 0
	awk -F'\t' '{ printf "  %-58s %8.1f s\n", $1, $2; if ($1 !~ /^\(beside/) t += $2 } END { printf "  %-58s %8.1f s (%.1f min)\n", "total", t, t / 60 }' "$FAIR_TIMINGS"
}
