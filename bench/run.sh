#!/usr/bin/env bash
# Builds the awstunnel CLI (Release) and the benchmarks, runs the end-to-end benchmarks B1-B5
# against real awstunnel processes on loopback, B7 side by side with the reference localproxy
# (only when LOCALPROXY names its binary; skipped with a note otherwise; with the module
# in-process in pwsh as a third pair) and the codec micro-benchmarks (B6), and prints the
# result tables.
#
#   bash bench/run.sh                 # full run (about 5 minutes on 2 cores)
#   bash bench/run.sh --quick         # smoke check with small sizes (about 1 minute)
#   bash bench/run.sh --skip-codec    # only B1-B5, B7;  --skip-e2e: only B6
#   bash bench/run.sh --only B1,B2 --b1-bytes 256M   # other options go to the e2e bench (see --help)
#   LOCALPROXY=/path/to/localproxy bash bench/run.sh --skip-codec --only B7
#
# Tables are also written to bench/.out/e2e.md and bench/.out/codec.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/bench/.out"
QUICK=()
E2E=1
CODEC=1
PASS=()
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=(--quick) ;;
        --skip-codec) CODEC=0 ;;
        --skip-e2e) E2E=0 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) PASS+=("$arg") ;;
    esac
done

mkdir -p "$OUT"
PIDS="$OUT/children.pids"
: > "$PIDS"
rm -f "$OUT/e2e.md" "$OUT/codec.md"

# Fallback clean-up: if the bench dies without killing its children, end them here, by pid,
# and only if the pid still belongs to a process the bench started (awstunnel, a bench worker,
# the reference localproxy of B7, or a pwsh of B7's module pair).
cleanup() {
    local pid
    while read -r pid; do
        [ -n "$pid" ] || continue
        if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qE 'awstunnel\.dll|/awstunnel( |$)|AwsTunnel\.Bench\.dll|/localproxy( |$)|/pwsh\.dll '; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    done < "$PIDS"
}
trap cleanup EXIT INT TERM

# The CLI as the README installs it: `dotnet publish` (native AOT), into a snapshot directory, so
# a rebuild of src/ during the run cannot change the proxies under it. Without the native
# toolchain (clang, zlib1g-dev) the publish fails and the framework-dependent build is measured.
rm -rf "$OUT/cli"
echo "== Publishing the awstunnel CLI (Release, native AOT)" >&2
if dotnet publish "$ROOT/src/AwsTunnel.Cli" -c Release -o "$OUT/cli" -nologo -v quiet >&2 && [ -x "$OUT/cli/awstunnel" ] && [ ! -f "$OUT/cli/awstunnel.dll" ]; then
    CLI="$OUT/cli/awstunnel"
else
    echo "== Native AOT publish failed (install clang and zlib1g-dev); measuring the framework-dependent build instead" >&2
    rm -rf "$OUT/cli"
    dotnet build "$ROOT/src/AwsTunnel.Cli" -c Release -nologo -v quiet >&2
    cp -r "$ROOT/src/AwsTunnel.Cli/bin/Release/net10.0" "$OUT/cli"
    CLI="$OUT/cli/awstunnel.dll"
fi

# B7's third pair, the module in-process: built into a snapshot folder like the CLI, and run by the
# repository's pinned PowerShell (the dotnet tool in .config/dotnet-tools.json), as a user imports it.
MODULE_ARGS=()
if [ "$E2E" = 1 ] && [ -n "${LOCALPROXY:-}" ]; then
    echo "== Building the PowerShell module (Release) for B7's in-process figures" >&2
    rm -rf "$OUT/module"
    PWSH_DLL=""
    if dotnet build "$ROOT/src/AwsTunnel.PowerShell" -c Release -nologo -v quiet -p:AwsTunnelModuleDir="$OUT/module/" >&2 \
        && (cd "$ROOT" && dotnet tool restore >&2); then
        PWSH_DLL="$(cd "$ROOT" && dotnet tool run pwsh -NoLogo -NoProfile -NonInteractive -Command '[System.Reflection.Assembly]::GetEntryAssembly().Location' | tail -1)"
    fi
    if [ -f "$PWSH_DLL" ] && [ -f "$OUT/module/AwsTunnel.psd1" ]; then
        MODULE_ARGS=(--pwsh "$PWSH_DLL" --module "$OUT/module")
    else
        echo "== The module or pwsh could not be prepared; B7 runs without the module's pair" >&2
    fi
fi

echo "== Building the benchmarks (Release)" >&2
dotnet build "$ROOT/bench/AwsTunnel.Bench" -c Release -nologo -v quiet >&2
dotnet build "$ROOT/bench/AwsTunnel.Bench.Codec" -c Release -nologo -v quiet >&2

STATUS=0
if [ "$E2E" = 1 ]; then
    if [ -n "${LOCALPROXY:-}" ]; then
        echo "== End-to-end benchmarks B1-B5, B7 (reference: $LOCALPROXY)" >&2
    else
        echo "== End-to-end benchmarks B1-B5 (B7 skipped: LOCALPROXY is not set)" >&2
    fi
    dotnet "$ROOT/bench/AwsTunnel.Bench/bin/Release/net10.0/AwsTunnel.Bench.dll" \
        --cli "$CLI" --work "$OUT/work" --pid-file "$PIDS" \
        --markdown-out "$OUT/e2e.md" "${QUICK[@]}" "${MODULE_ARGS[@]}" "${PASS[@]}" > /dev/null || STATUS=1
fi

if [ "$CODEC" = 1 ]; then
    echo "== Codec micro-benchmarks B6 (BenchmarkDotNet)" >&2
    (cd "$OUT" && dotnet "$ROOT/bench/AwsTunnel.Bench.Codec/bin/Release/net10.0/AwsTunnel.Bench.Codec.dll" \
        --markdown-out "$OUT/codec.md" "${QUICK[@]}" > "$OUT/codec.log" 2>&1) || { STATUS=1; tail -40 "$OUT/codec.log" >&2; }
fi

echo
[ "$E2E" = 1 ] && [ -f "$OUT/e2e.md" ] && cat "$OUT/e2e.md" && echo
[ "$CODEC" = 1 ] && [ -f "$OUT/codec.md" ] && cat "$OUT/codec.md"
exit "$STATUS"
