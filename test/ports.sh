# Free TCP ports on 127.0.0.1 for the servers the project starts: every
# cluster of test/with-cluster (from 5433 up) and those a check starts itself
# (scaleout.sh: two clusters and pgbouncer, from 5641 up). Sourced, not run;
# needs bash, flock (util-linux) and pg_lsclusters (postgresql-common), all of
# which a Debian machine with PostgreSQL has, and nothing else: no ss, no
# python.
#
#   free_ports COUNT FIRST CLAIMS   writes COUNT free ports from FIRST up to the
#                                   file CLAIMS, one a line
#
# A port is free when no cluster of this machine is configured for it (a
# cluster that is down still owns its port), no Unix socket of that number
# exists, nothing accepts a connection on 127.0.0.1 there, and no other run
# has claimed it. The claim matters because a server starts listening seconds
# after its port is chosen: two runs started side by side (the machine is
# shared) would otherwise both choose the same port. Claims are the files
# /tmp/samegoal-*/ports; the caller keeps CLAIMS in a directory of its own
# there and removes it when its servers are gone (a claim left by a killed run
# only makes the next runs skip a port). One lock makes choosing and claiming
# one step across runs.

SG_PORTS_LOCK=/tmp/samegoal-ports.lock

# port_in_use PORT: whether anything on this machine has PORT (see above).
port_in_use() {
    local p=$1
    if [ -e "/var/run/postgresql/.s.PGSQL.$p" ] || [ -e "/tmp/.s.PGSQL.$p" ]; then
        return 0
    fi
    # bash's /dev/tcp: a refused connection (nothing listens) fails at once on
    # loopback; a subshell, so the descriptor closes with it.
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
    return 1
}

free_ports() {
    local count=$1 p=$2 claims=$3 lock taken
    # Opened for reading: whoever made the file (root, or another user), any
    # user can lock it.
    [ -e "$SG_PORTS_LOCK" ] || { : >>"$SG_PORTS_LOCK" && chmod 644 "$SG_PORTS_LOCK"; } 2>/dev/null || true
    exec {lock}<"$SG_PORTS_LOCK"
    flock "$lock"
    # The system's clusters (not the throwaway ones of test/with-cluster, whose
    # running server the connection test sees) and every run's claims, as " 5432 5641 ... ".
    taken=" $(env -u PG_CLUSTER_CONF_ROOT pg_lsclusters -h 2>/dev/null | awk '{ print $3 }' | tr '\n' ' ')"
    taken+="$(cat /tmp/samegoal-*/ports 2>/dev/null | tr '\n' ' ' || true) "
    : >"$claims"
    while [ "$count" -gt 0 ] && [ "$p" -le 65535 ]; do
        case "$taken" in
            *" $p "*) ;;
            *) if ! port_in_use "$p"; then
                   echo "$p" >>"$claims"
                   count=$((count - 1))
               fi ;;
        esac
        p=$((p + 1))
    done
    exec {lock}>&-
    [ "$count" -eq 0 ] || { echo "free_ports: not enough free ports" >&2; return 1; }
}
