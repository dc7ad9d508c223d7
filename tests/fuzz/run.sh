#!/usr/bin/env bash
# Fuzzes the tunneling frame reassembler, message parser and validator (AwsTunnel.Engine's
# FrameDecoder + MessageRules) with AFL++ and SharpFuzz. Not part of CI: it runs open-ended.
#
#   tests/fuzz/run.sh [SECONDS]            install, build, instrument, fuzz SECONDS (default 600), print AFL's stats
#   tests/fuzz/run.sh --replay [PATH...]   run corpus/ and findings/ (or PATHs) through the target with plain
#                                          `dotnet run`: no AFL, no instrumentation; prints each failure's stack
#   tests/fuzz/run.sh --minimize FILE      afl-tmin a crashing input to FILE.min (the property must still fail)
#   tests/fuzz/run.sh --write-corpus       regenerate corpus/ (seeds and the crafted regression inputs)
#
# Environment: FINDINGS (default tests/fuzz/findings; an existing one is resumed),
# AWSTUNNEL_FUZZ_ALLOC_FACTOR (per-frame allocation budget in frames, default 64).
# Exit status of a fuzzing run: 0 when AFL saved no crash and no hang, 1 otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project="$here/AwsTunnel.Fuzz"
out="$here/out"
findings="${FINDINGS:-$here/findings}"
target="$out/bin/AwsTunnel.Fuzz.dll"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=1

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_tools() {
  if ! command -v afl-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing AFL++ (Debian package afl++)"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y afl++
  fi
  # SharpFuzz.CommandLine, pinned in tests/fuzz/dotnet-tools.json.
  (cd "$here" && dotnet tool restore >/dev/null)
}

# Publishes the harness to out/bin and instruments the copies of the engine and Google.Protobuf
# there. The source tree's build output is never instrumented.
build_instrumented() {
  rm -rf "$out/bin"
  dotnet publish "$project" -c Release -o "$out/bin" -v quiet --nologo
  for dll in AwsTunnel.Engine.dll Google.Protobuf.dll; do
    echo "fuzz: instrumenting out/bin/$dll"
    (cd "$here" && dotnet tool run sharpfuzz "$out/bin/$dll")
  done
}

afl_env() {
  export AFL_SKIP_BIN_CHECK=1                    # the target is `dotnet`; SharpFuzz speaks the fork-server protocol itself
  export AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1   # containers: no cpufreq governor, maybe no free core to bind
  export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 # a piped core_pattern on the host is no concern for .NET crashes
}

stat_of() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$2"; }

fuzz() {
  local seconds=$1
  install_tools
  build_instrumented
  afl_env
  export AFL_AUTORESUME=1                        # an existing findings folder is resumed, its crashes kept

  # Seeds: the top-level corpus files; corpus/regressions/ holds known failures, which AFL would skip anyway.
  rm -rf "$out/seeds"
  mkdir -p "$out/seeds"
  find "$here/corpus" -maxdepth 1 -type f -name '*.bin' -exec cp {} "$out/seeds/" \;

  local log="$out/afl-fuzz.log"
  echo "fuzz: afl-fuzz for $seconds s; findings in $findings; log in $log"
  local status=0
  if [ -t 1 ]; then
    afl-fuzz -V "$seconds" -i "$out/seeds" -o "$findings" -x "$here/tunnel.dict" -t 5000 -m none -- dotnet "$target" || status=$?
  else
    AFL_NO_UI=1 afl-fuzz -V "$seconds" -i "$out/seeds" -o "$findings" -x "$here/tunnel.dict" -t 5000 -m none -- dotnet "$target" >"$log" 2>&1 || status=$?
    tail -n 5 "$log"
  fi
  if [ "$status" -ne 0 ]; then
    echo "fuzz: afl-fuzz exited with $status (see $log; the input being run is $findings/default/.cur_input)" >&2
  fi

  local stats="$findings/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    echo "fuzz: no $stats: afl-fuzz did not start" >&2
    exit 1
  fi

  local crashes hangs
  crashes=$(stat_of saved_crashes "$stats"); crashes=${crashes:-$(stat_of unique_crashes "$stats")}
  hangs=$(stat_of saved_hangs "$stats"); hangs=${hangs:-$(stat_of unique_hangs "$stats")}
  echo
  echo "fuzz: run time        $(stat_of run_time "$stats") s"
  echo "fuzz: executions      $(stat_of execs_done "$stats")"
  echo "fuzz: execs/s         $(stat_of execs_per_sec "$stats")"
  echo "fuzz: corpus (paths)  $(stat_of corpus_count "$stats") ($(stat_of corpus_found "$stats") found by AFL)"
  echo "fuzz: edges / map     $(stat_of edges_found "$stats") edges, $(stat_of bitmap_cvg "$stats") of the map, stability $(stat_of stability "$stats")"
  echo "fuzz: crashes         ${crashes:-?}"
  echo "fuzz: hangs           ${hangs:-?}"

  if [ "${crashes:-0}" != 0 ] || [ "${hangs:-0}" != 0 ]; then
    echo "fuzz: replaying the findings without instrumentation:"
    replay "$findings/default/crashes" "$findings/default/hangs" || true
    exit 1
  fi
}

replay() {
  local paths=("$@")
  if [ ${#paths[@]} -eq 0 ]; then
    paths=("$here/corpus")
    if [ -d "$findings" ]; then paths+=("$findings"); fi
  fi
  dotnet run --project "$project" -c Debug -- --replay "${paths[@]}"
}

minimize() {
  local input=$1
  install_tools
  [ -f "$target" ] || build_instrumented
  afl_env
  afl-tmin -i "$input" -o "$input.min" -t 5000 -m none -- dotnet "$target"
  echo "fuzz: minimized to $input.min ($(wc -c <"$input.min") bytes); replaying it:"
  replay "$input.min" || true
}

case "${1:-600}" in
  --replay) shift; replay "$@" ;;
  --minimize) [ $# -eq 2 ] || { echo "usage: $0 --minimize FILE" >&2; exit 2; }; minimize "$2" ;;
  --write-corpus) rm -f "$here"/corpus/*.bin; dotnet run --project "$project" -c Debug -- --write-corpus "$here/corpus" ;;
  ''|*[!0-9]*) echo "usage: $0 [SECONDS] | --replay [PATH...] | --minimize FILE | --write-corpus" >&2; exit 2 ;;
  *) fuzz "$1" ;;
esac
