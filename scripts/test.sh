#!/usr/bin/env bash
# The whole test suite, as the README gives it: `scripts/test.sh`.
#
# 1. Installs the system packages the tests use when they are missing and we can (root + apt):
#    jq (to compare --jq with the real thing), gnome-keyring, dbus and libsecret-tools (the real
#    Secret Service keyring), keyutils (`keyctl`: the kernel keyring seen from outside),
#    python3-venv (schemathesis conformance run), groff-base (man pages render without
#    warnings), bsdutils (`script`: colour tests on a pseudo-terminal) and tmux (`browse` and
#    the prompts in a real terminal). With `CI` set, as CI sets it, a test whose tool is missing
#    fails instead of skipping.
# 2. Runs `cargo test` inside a D-Bus session with an unlocked gnome-keyring when possible, so
#    keyring tests hit the real Secret Service; elsewhere they use the kernel keyutils store.
# 3. Runs the OpenAPI conformance check of the emulator (scripts/conformance.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SEGMENT_ACCESS_TEST_SESSION:-}" ]; then
  missing=()
  command -v jq >/dev/null || missing+=(jq)
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v secret-tool >/dev/null || missing+=(libsecret-tools)
  command -v keyctl >/dev/null || missing+=(keyutils)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  command -v groff >/dev/null || missing+=(groff-base)
  command -v script >/dev/null || missing+=(bsdutils)
  command -v tmux >/dev/null || missing+=(tmux)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "test.sh: installing ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "test.sh: missing system packages: ${missing[*]} (install them, or run as root with apt)" >&2
    fi
  fi

  # `cargo test --no-run` below builds everything the tests and the conformance check run (the
  # benchmark is compiled by `cargo clippy --all-targets` in .ci/run).

  # Most end-to-end tests wait on an emulator or a child process more than they compute: on 2
  # cores, 4 test threads took the end-to-end tests from 112 s to 82 s (6 threads: 87 s).
  if [ -z "${RUST_TEST_THREADS:-}" ] && [ "$(nproc 2>/dev/null || echo 1)" -lt 4 ]; then
    export RUST_TEST_THREADS=4
  fi

  # Keyring tests want a real Secret Service: a private D-Bus session with gnome-keyring.
  if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    export SEGMENT_ACCESS_TEST_SESSION=dbus
    # A throwaway keyring directory: the daemon must never open (or try to unlock) the login
    # keyring of the person running the tests. dbus-daemon hands this to the gnome-keyring it
    # activates, so it has to be set before the session starts.
    keyring_home=$(mktemp -d)
    export SEGMENT_ACCESS_ORIG_XDG_DATA_HOME="${XDG_DATA_HOME:-}"
    status=0
    XDG_DATA_HOME="$keyring_home" dbus-run-session -- bash "$0" "$@" || status=$?
    rm -rf "$keyring_home"
  else
    export SEGMENT_ACCESS_TEST_SESSION=plain
    bash "$0" "$@"
    status=$?
  fi
  exit $status
fi

# --- inside the test session -------------------------------------------------------------------
if [ "$SEGMENT_ACCESS_TEST_SESSION" = dbus ]; then
  # A password on stdin creates and unlocks a fresh login keyring without a prompt. It must not
  # be empty: gnome-keyring 42 then creates no login collection, and the first write asks for a
  # password through a prompter that cannot open without a display.
  keyring_data="${XDG_DATA_HOME:-}"
  start_keyring() {
    eval "$(printf 'segment-access-test\n' \
      | XDG_DATA_HOME="$keyring_data" gnome-keyring-daemon "$@" --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
  }
  start_keyring
  if [ -n "${SEGMENT_ACCESS_ORIG_XDG_DATA_HOME:-}" ]; then
    export XDG_DATA_HOME="$SEGMENT_ACCESS_ORIG_XDG_DATA_HOME"
  else
    unset XDG_DATA_HOME
  fi
  if command -v secret-tool >/dev/null; then
    probe="segment-access-probe-$$"
    probe_keyring() {
      printf 'probe' | secret-tool store --label=probe service "$probe" username probe \
        && [ "$(secret-tool lookup service "$probe" username probe)" = probe ] \
        && secret-tool clear service "$probe" username probe
    }
    # Seen now and then: the first request reaches a gnome-keyring that D-Bus activated on its
    # own, without the unlocked login keyring, before ours took the name. Ours then replaces it.
    working=no
    for attempt in 1 2 3; do
      if probe_keyring; then
        working=yes
        break
      fi
      echo "test.sh: no unlocked login keyring in the session (attempt $attempt); starting gnome-keyring again" >&2
      sleep 1
      start_keyring --replace
    done
    if [ "$working" = yes ]; then
      echo "test.sh: Secret Service: gnome-keyring in a private D-Bus session (checked with secret-tool)"
    else
      echo "test.sh: the Secret Service in the private D-Bus session does not work" >&2
      exit 1
    fi
  else
    echo "test.sh: Secret Service: gnome-keyring in a private D-Bus session (unchecked: no secret-tool)"
  fi
else
  echo "test.sh: no D-Bus session; keyring tests use the kernel keyutils store"
fi

# A whole run checks the emulator against Segment's OpenAPI document too. That check keeps one
# core busy for about 70 s, and the tests leave room beside them, so it runs while they do
# (its output follows theirs). A run with arguments (a filter) leaves it out.
# Everything is built in one cargo run, the library and its unit tests compiling side by side
# (building the binary first and the tests after made a fresh build a minute longer).
cargo test --locked --no-run
conformance_pid=""
if [ $# -eq 0 ]; then
  conformance_log="$(mktemp -t conformance.XXXXXX)"
  # In a process group of its own (setsid), so that a failed or interrupted run stops all of it:
  # schemathesis and the emulator too.
  if command -v setsid >/dev/null; then
    setsid bash scripts/conformance.sh >"$conformance_log" 2>&1 &
  else
    bash scripts/conformance.sh >"$conformance_log" 2>&1 &
  fi
  conformance_pid=$!
  trap 'kill -TERM -- "-$conformance_pid" 2>/dev/null || kill "$conformance_pid" 2>/dev/null || true; rm -f "$conformance_log"' EXIT
fi

status=0
cargo test --locked "$@" || status=$?

if [ "$SEGMENT_ACCESS_TEST_SESSION" = dbus ] && [ "$(uname -s)" = Linux ] && [ $# -eq 0 ]; then
  # The same keyring tests once more against the keyutils fallback, Secret Service switched off.
  echo "test.sh: keyring tests again against the kernel keyutils store"
  SEGMENT_ACCESS_NO_SECRET_SERVICE=1 cargo test --locked --test e2e auth_keyring:: || status=$?
fi

if [ -n "$conformance_pid" ]; then
  conformance_status=0
  wait "$conformance_pid" || conformance_status=$?
  cat "$conformance_log"
  if [ "$conformance_status" -ne 0 ]; then
    echo "test.sh: the conformance check failed (exit $conformance_status)" >&2
    status=$conformance_status
  fi
fi
exit $status
