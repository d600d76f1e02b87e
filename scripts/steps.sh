# Sourced by setup.sh: runs set-up steps quietly. Each step is one line with its elapsed
# time; its output goes to $STEPS_LOG (path printed once). A long step shows progress: on a
# terminal the line is redrawn every second with the elapsed time and the log's last line; in
# a pipe (CI) a dot every 10 s on the same line. A failed step prints the log's tail and exits
# with the step's status. STEPS_VERBOSE=1 (--verbose) shows every command's output as it comes.

STEPS_LOG="${STEPS_LOG:-$DROVER_STATE/log/setup-$(date -u +%Y%m%dT%H%M%SZ)-$$.log}"
STEPS_VERBOSE="${STEPS_VERBOSE:-0}"
mkdir -p "$(dirname "$STEPS_LOG")"
# Beside the log, not a mktemp removed by an EXIT trap: a step's background subshell could
# run that trap and delete the note before the step's line is printed.
STEPS_NOTE="$STEPS_LOG.note"
: >>"$STEPS_LOG"

# now in tenths of a second, for elapsed times
_steps_now() { local t="${EPOCHREALTIME/./}"; echo $(( ${t:0:-5} )); }
_steps_fmt() { printf '%d.%ds' $(( $1 / 10 )) $(( $1 % 10 )); }

# note TEXT: what the step did (or why it did nothing), shown on its line.
note() { printf '%s' "$*" >"$STEPS_NOTE"; }

steps_begin() {
  STEPS_T0=$(_steps_now)
  echo "$1: full log in $STEPS_LOG" >&2
}

steps_end() {
  rm -f "$STEPS_NOTE"
  echo "$1 in $(_steps_fmt $(( $(_steps_now) - STEPS_T0 )))" >&2
}

# step LABEL CMD...: runs CMD (a function or command) with its output in the log. In the
# background and waited for: a command in an `||` list would run with `set -e` switched off.
step() {
  local label="$1"; shift
  local t0 rc=0 pid ticker="" size
  t0=$(_steps_now)
  : >"$STEPS_NOTE"
  echo "=== $label ($(date -u +%FT%TZ))" >>"$STEPS_LOG"
  size=$(stat -c %s "$STEPS_LOG")
  "$@" >>"$STEPS_LOG" 2>&1 </dev/null & pid=$!
  if [ "$STEPS_VERBOSE" = 1 ]; then
    echo "--- $label" >&2
    tail -c +$(( size + 1 )) -f --pid="$pid" "$STEPS_LOG" >&2 || true
  elif [ -t 2 ]; then
    ( while :; do
        sleep 1
        last="$(tail -n 1 "$STEPS_LOG" 2>/dev/null | tr -d '\r' | cut -c1-50)"
        printf '\r\033[K  %-34s … %s  %s' "$label" "$(_steps_fmt $(( $(_steps_now) - t0 )))" "$last" >&2
      done ) & ticker=$!
  else
    printf '  %-34s ' "$label" >&2
    # The sleep is killed with the ticker: an orphaned sleep would hold stderr open and keep
    # a reader of the pipe waiting for up to 10 s after the set-up ended.
    ( s=; trap '[ -n "$s" ] && kill "$s" 2>/dev/null; exit 0' TERM
      while :; do sleep 10 & s=$!; wait $s; printf '.' >&2; done ) & ticker=$!
  fi
  wait "$pid" || rc=$?
  if [ -n "$ticker" ]; then kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true; fi
  local took extra=""
  took="$(_steps_fmt $(( $(_steps_now) - t0 )))"
  [ -s "$STEPS_NOTE" ] && extra=" ($(cat "$STEPS_NOTE"))"
  if [ -t 2 ]; then printf '\r\033[K  %-34s ' "$label" >&2; elif [ "$STEPS_VERBOSE" = 1 ]; then printf '  %-34s ' "$label" >&2; fi
  if [ "$rc" -ne 0 ]; then
    printf '✗ %s failed (exit %d)%s\n' "$took" "$rc" "$extra" >&2
    if [ "$STEPS_VERBOSE" != 1 ]; then
      echo "--- last 40 lines of $STEPS_LOG:" >&2
      tail -n 40 "$STEPS_LOG" >&2
      echo "--- (full log: $STEPS_LOG)" >&2
    fi
    exit "$rc"
  fi
  printf '✓ %s%s\n' "$took" "$extra" >&2
}
