#!/usr/bin/env bash
# test/ports.sh, where scaleout.sh takes the ports of its nodes and pgbouncer:
# with an ss that fails when called first in PATH (ss is iproute2's, which
# nothing installs), it skips a port something listens on and a port a
# cluster is configured for, and two runs choosing at the same moment get
# different ports.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "ports: skipped: needs root (like scaleout.sh)"; exit 0; }
source test/ports.sh

mkdir "$WORK/bin"
printf '#!/bin/sh\necho "$*" >>%s/ss.called\nexit 127\n' "$WORK" >"$WORK/bin/ss"
chmod 755 "$WORK/bin/ss"
export PATH="$WORK/bin:$PATH"

# Claims live in /tmp/samegoal-*/ports (one directory per run).
a=$(mktemp -d /tmp/samegoal-ports-check.XXXXXX)
b=$(mktemp -d /tmp/samegoal-ports-check.XXXXXX)
LISTENER=
trap '[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null; rm -rf "$a" "$b"' EXIT
fail() { echo "ports: FAILED: $*" >&2; exit 1; }

# A port something listens on is skipped.
free_ports 1 5641 "$a/ports"
p=$(cat "$a/ports")
rm "$a/ports"
perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
    Listen => 5, ReuseAddr => 1) or die "listen: $!\n"; while (my $c = $s->accept) { close $c }' "$p" &
LISTENER=$!
for _ in $(seq 100); do port_in_use "$p" && break; sleep 0.05; done
port_in_use "$p" || fail "the listener on port $p did not start"
free_ports 1 "$p" "$a/ports"
[ "$(cat "$a/ports")" != "$p" ] || fail "port $p, which a listener holds, was chosen"
echo "ports: $p, held by a listener, skipped: $(cat "$a/ports")"
kill "$LISTENER"
LISTENER=
rm "$a/ports"

# A port a cluster is configured for is skipped, even while that cluster is down.
c=$(env -u PG_CLUSTER_CONF_ROOT pg_lsclusters -h 2>/dev/null | awk 'NR == 1 { print $3 }')
if [ -n "$c" ]; then
    free_ports 1 "$c" "$a/ports"
    [ "$(cat "$a/ports")" != "$c" ] || fail "port $c of a configured cluster was chosen"
    echo "ports: $c, a cluster's, skipped: $(cat "$a/ports")"
    rm "$a/ports"
fi

# Two runs side by side get four different ports.
free_ports 2 5641 "$a/ports" & first=$!
free_ports 2 5641 "$b/ports" & second=$!
wait "$first" && wait "$second" || fail "free_ports failed"
all=$(cat "$a/ports" "$b/ports" | sort -u | wc -l)
[ "$all" -eq 4 ] || fail "two runs side by side share ports: $(cat "$a/ports" "$b/ports" | paste -sd' ')"
echo "ports: two runs side by side: $(paste -sd' ' "$a/ports") and $(paste -sd' ' "$b/ports")"

[ ! -e "$WORK/ss.called" ] || fail "ss was called: $(cat "$WORK/ss.called")"
echo "ports: OK, without ss"
