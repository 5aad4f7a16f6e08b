#!/usr/bin/env bash
# Run the simulated suite 20 times in a row under `-n 2`: failures must be zero; prints each wall time and the
# median. Not CI: it measures flakiness (there must be none) and time.
set -u
cd "$(dirname "$0")/.."
times=()
failures=0
for i in $(seq 1 20); do
  start=$(date +%s.%N)
  if ! python -m pytest tests/sim -n 2 -q -p no:cacheprovider >/tmp/sim_suite_run_$i.log 2>&1; then
    failures=$((failures + 1)); echo "run $i FAILED (see /tmp/sim_suite_run_$i.log)"
  fi
  end=$(date +%s.%N)
  t=$(python -c "print(round($end - $start, 1))")
  times+=("$t"); echo "run $i: ${t}s"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "20 runs, ${failures} with failures; wall times: ${times[*]}; median ${median}s"
