#!/usr/bin/env bash
# Runs a command that ends in `deno test`, shows its output, and restates Deno's
# summary line ("ok | 30 passed | 0 failed | 1 ignored (2s)") as the line CI
# reads: "30 passed, 0 failed, 1 skipped". Exits with the command's status.
# See ../shared/TOOLCHAIN.md §5.
set -uo pipefail
export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1
log="$(mktemp)"
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
summary="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)"
rm -f "$log"
if [ -n "$summary" ]; then
  num() { grep -oE "\| [0-9]+ $1" <<<"$summary" | grep -oE '[0-9]+' || echo 0; }
  echo "$(num passed) passed, $(num failed) failed, $(num ignored) skipped"
else
  # Type errors and crashes print no summary: still say so in CI's words.
  echo "0 passed, 1 failed, 0 skipped"
  [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
