# Sourced by the bench sections' reports (share-report.sh, peers-report.sh):
# the "BENCH key value" lines of LOG as ALL[key] (every round's value) and
# V[key] (their median), and the helpers that make a table row of them.
declare -A ALL V
while read -r _ k v; do ALL[$k]="${ALL[$k]:+${ALL[$k]}, }$v"; done < <(grep '^BENCH [a-z]' "$LOG" | grep -v '^BENCH error')
for k in "${!ALL[@]}"; do
	V[$k]=$(tr ',' '\n' <<<"${ALL[$k]}" | sort -g | awk -f "$(dirname "${BASH_SOURCE[0]}")/median.awk")
done
ratio() { awk -v a="${V[$1]:-0}" -v b="${V[$2]:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
meets() { awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN { if (r == "n/a") print "n/a"; else print ((op == "<=" && r <= t) || (op == ">=" && r >= t) ? "met" : "missed") }'; }
row() {	# FIGURE KEY_A KEY_B [OP TARGET]: a row with both medians, their rounds, the ratio and the verdict
	local x; x=$(ratio "$2" "$3")
	echo "| $1 | ${V[$2]:-n/a} (${ALL[$2]:-}) | ${V[$3]:-n/a} (${ALL[$3]:-}) | **$x** | ${4:+$4 $5} | ${4:+$(meets "$x" "$4" "$5")} |"
}
errors=$(grep -c '^BENCH error' "$LOG")
errors_list() {	# the run's errors, if any, after the table
	[ "$errors" -gt 0 ] || return 0
	echo
	echo "Errors (a figure with an error is not a measurement):"
	grep '^BENCH error' "$LOG" | sed 's/^BENCH error /- /' | cut -c1-300
}
