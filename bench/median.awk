# The median of numbers read one a line, sorted (sort -g): of an even count
# the mean of the middle two (the lower one alone made a two-round run's
# times optimistic and its throughputs pessimistic). bench/report.sh, ab.sh.
{ v[NR] = $1 }
END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }
