#!/usr/bin/env bash
# Runs the comparison in interleaved rounds and prints benchstat's tables
# and the within-round ratios to the floors, and for the presigned PUTs to
# the peers (see ../README.md, "Method").
#
#   ROUNDS     rounds of every Sign and PresignPut benchmark (default 5)
#   BENCHTIME  -benchtime of each benchmark in a round (default 1s)
#   VERIFY     1 (default) also runs BenchmarkVerify once, after the rounds;
#              0 skips it
#
# Writes results/bench.txt (raw output, rounds marked "# round N"),
# results/benchstat.txt, results/ratios.txt, results/verify.txt and
# results/machine.txt, and prints them. Usage, from anywhere:
#   ROUNDS=10 BENCHTIME=1s bash benchmarks/scripts/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-5}
benchtime=${BENCHTIME:-1s}
verify=${VERIFY:-1}
case $rounds in '' | *[!0-9]* | 0) echo "ROUNDS must be a positive integer" >&2; exit 2 ;; esac

mkdir -p results
bench=results/bench.txt
: >"$bench"

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }

{
  echo "## Machine"
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//') ($(grep -m1 -o -w 'sha_ni' /proc/cpuinfo 2>/dev/null || echo 'no sha_ni'), $(grep -m1 -o -w 'avx512f' /proc/cpuinfo 2>/dev/null || echo 'no avx512f'))"
  echo "- nproc: $(nproc), GOMAXPROCS: ${GOMAXPROCS:-default}"
  echo "- $(go version)"
  echo "- library: $(git -C .. rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C .. diff --quiet HEAD -- 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- load average at start (1, 5, 15 min): $(load)"
  echo "- rounds: $rounds, benchtime: $benchtime"
} >results/machine.txt
cat results/machine.txt
echo

# One binary for every round: the same code is measured throughout.
go test -c -o results/benchmarks.test .

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds (load $(load))" >&2
  {
    echo "# round $r"
    echo "# load $(load)"
  } >>"$bench"
  # POSTPOLICY_BENCH_ROUND rotates the order of the implementations.
  POSTPOLICY_BENCH_ROUND=$r ./results/benchmarks.test -test.run '^$' \
    -test.bench '^(BenchmarkSign(Parallel)?|BenchmarkPresignPut)$' -test.count 1 \
    -test.benchtime "$benchtime" -test.benchmem >>"$bench"
done
echo "- load average at end: $(load)" | tee -a results/machine.txt
echo

{
  echo "## benchstat (all rounds)"
  echo
  echo '```'
  go tool benchstat -table .name -row /impl "$bench"
  echo '```'
} | tee results/benchstat.txt
echo

{
  echo "## Within-round ratios"
  echo
  go run ./cmd/ratios -bench '^BenchmarkSign(Parallel)?$' "$bench"
  echo
  # The presigned PUTs have no floor: divided by each peer, so that the
  # postpolicy row reads postpolicy ÷ minio-go and ÷ aws-sdk-go-v2.
  go run ./cmd/ratios -bench '^BenchmarkPresignPut$' -base minio-go,aws-sdk-go-v2,postpolicy "$bench"
} | tee results/ratios.txt

if [ "$verify" = 1 ]; then
  echo
  echo "BenchmarkVerify (load $(load))" >&2
  ./results/benchmarks.test -test.run '^$' -test.bench '^BenchmarkVerify$' \
    -test.count 1 -test.benchtime "$benchtime" -test.benchmem >results/verify.txt
  {
    echo "## Verifier, streamed uploads (one run)"
    echo
    echo '```'
    go tool benchstat -table .name -row /size results/verify.txt
    echo '```'
  } | tee -a results/ratios.txt
fi
