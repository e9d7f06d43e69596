#!/usr/bin/env bash
# The README's examples, run as written. A new database is prepared exactly as
# examples/demo prepares its own (examples/data.sql, then the walkthrough
# examples/demo.sql: its intended errors must show the SQLSTATEs SG004 and
# SG010), then every ```sql block of README.md runs in order, each in
# a psql session of its own:
#
#   - by default as the application: as the demo's login demo_app (SET ROLE), with
#     psql -v ON_ERROR_STOP=1, so any error fails the check;
#   - after a line <!-- superuser -->: as PGUSER, the superuser, the same way;
#   - after a line <!-- fails: CODE [CODE...] -->: as the application, without
#     ON_ERROR_STOP, as a user typing the block into psql would; the errors it
#     raises must be exactly those SQLSTATEs, in that order.
#
# A ```sh block after a line <!-- run --> runs too (bash -e), in a scratch
# directory, with the database names samegoal_demo and samegoal_copy* replaced
# by this check's own; the other ```sh blocks (installation, psql) are not run.
# Databases restored by those blocks must hold the same rows as the source.
#
# Runs against the server in PGHOST/PGPORT/PGUSER (a superuser) where the
# extension is installed; WORK is a scratch directory. Creates its databases
# and the roles the examples use, and drops them at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

WORK=${WORK:-$(mktemp -d)}
DIR=$WORK/readme
PREFIX=sg_readme_
DB=${PREFIX}demo
APP=demo_app
ROLES="demo_app my_app"

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@" </dev/null; }
fail() { echo "readme: FAILED: $*" >&2; exit 1; }

# Roles the examples create: dropped at the end only when this check made them.
made_roles=
for r in $ROLES; do
    [ -n "$(q -c "SELECT 1 FROM pg_roles WHERE rolname = '$r'")" ] || made_roles="$made_roles $r"
done
drop_databases() {
    local db
    for db in $(q -c "SELECT datname FROM pg_database WHERE datname LIKE '${PREFIX}%'"); do
        q -c "DROP DATABASE $db"
    done
}
cleanup() {
    set +e
    drop_databases 2>/dev/null
    local r
    for r in $made_roles; do q -c "DROP ROLE IF EXISTS $r" 2>/dev/null; done
}
trap cleanup EXIT
drop_databases

rm -rf "$DIR"
mkdir -p "$DIR"
echo "readme: preparing $DB as examples/demo does (examples/data.sql, examples/demo.sql)"
q -c "CREATE DATABASE $DB"
for f in examples/data.sql examples/demo.sql; do
    psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$f" >>"$DIR/prepare.log" 2>&1 </dev/null \
        || { cat "$DIR/prepare.log"; fail "$f did not load"; }
done
# The walkthrough's intended errors show the SQLSTATEs the README names.
codes=$(sed -n 's/^ *^ SQLSTATE \(.*\)$/\1/p' "$DIR/prepare.log" | paste -sd' ')
[ "$codes" = "SG004 SG010" ] || fail "examples/demo.sql shows the SQLSTATEs '$codes', not 'SG004 SG010'"

# The blocks, in order: block-NNN.sql / block-NNN.sh, and a manifest of
# number, language, README line and the marker line before the fence.
awk -v dir="$DIR" '
    inblock {
        if ($0 == "```") { inblock = 0; if (file != "") close(file); prev = $0; next }
        if (file != "") print > file
        next
    }
    /^```/ {
        inblock = 1; file = ""; lang = substr($0, 4)
        if (lang == "sql" || lang == "sh") {
            n++
            file = sprintf("%s/block-%03d.%s", dir, n, lang)
            printf "" > file
            marker = "-"
            if (prev ~ /^<!-- .* -->$/) { marker = prev; sub(/^<!-- */, "", marker); sub(/ *-->$/, "", marker) }
            printf "%03d\t%s\t%d\t%s\n", n, lang, NR, marker > (dir "/manifest")
        }
        prev = $0; next
    }
    { prev = $0 }
' README.md
[ -s "$DIR/manifest" ] || fail "no sql or sh blocks found in README.md"

# Every row of every table of the extension, and the sequences: one text to
# compare a restored database with its source. Of directory_states, the states
# alone: a version only has to change with its state's directory, and a
# restore's triggers count their own (one per district in replica mode).
snapshot() {
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT format('%s: %s rows, %s', c.relname,
              (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM samegoal.%I', c.relname), false, true, '')))[1],
              (xpath('/row/h/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(%s, E''\n'' ORDER BY %s), '''')) AS h FROM samegoal.%I t',
                                                          v.row_text, v.row_text, c.relname), false, true, '')))[1])
  FROM pg_class c
 CROSS JOIN LATERAL (SELECT CASE c.relname WHEN 'directory_states' THEN 't.state' ELSE 't::text' END AS row_text) v
 WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind = 'r' ORDER BY 1;
SELECT format('sequence %s: last %s', sequencename, last_value) FROM pg_sequences WHERE schemaname = 'samegoal' ORDER BY 1;
SQL
}

ran=0 failed_as_expected=0 shell=0 skipped=0
while IFS=$'\t' read -r n lang line marker <&3; do
    f=$DIR/block-$n.$lang
    where="README.md:$line"
    case "$lang:$marker" in
        sql:-|sql:superuser)
            run=$f
            if [ "$marker" = - ]; then
                run=$DIR/block-$n.app.sql
                { echo "SET ROLE $APP;"; cat "$f"; } >"$run"
            fi
            if ! psql -X -v ON_ERROR_STOP=1 -d "$DB" -f "$run" >"$DIR/block-$n.out" 2>&1 </dev/null; then
                cat "$DIR/block-$n.out"
                fail "the sql block at $where failed"
            fi
            ran=$((ran + 1)) ;;
        sql:fails:*)
            want=$(echo "${marker#fails:}" | xargs)
            run=$DIR/block-$n.app.sql
            { echo "SET ROLE $APP;"; cat "$f"; } >"$run"
            psql -X -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -d "$DB" -f "$run" >"$DIR/block-$n.out" 2>&1 </dev/null \
                || { cat "$DIR/block-$n.out"; fail "psql could not run the sql block at $where"; }
            got=$(sed -n 's/^psql:[^ ]* ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' "$DIR/block-$n.out" | xargs)
            if [ "$got" != "$want" ]; then
                cat "$DIR/block-$n.out"
                fail "the sql block at $where raised [${got}], expected [${want}]"
            fi
            echo "readme: $where fails as shown: $want"
            failed_as_expected=$((failed_as_expected + 1)) ;;
        sh:run)
            # the source as the recipes dump it (later blocks may change it)
            [ -e "$DIR/source.snapshot" ] || snapshot "$DB" >"$DIR/source.snapshot"
            sed -E "s/\\bsamegoal_(demo|copy[0-9]*)\\b/${PREFIX}\\1/g" "$f" >"$DIR/block-$n.run.sh"
            if ! (cd "$DIR" && bash -e -o pipefail "block-$n.run.sh") >"$DIR/block-$n.out" 2>&1 </dev/null; then
                cat "$DIR/block-$n.out"
                fail "the sh block at $where failed"
            fi
            echo "readme: $where ran: $(grep -v '^$' "$DIR/block-$n.run.sh" | tr '\n' ';' | sed 's/;$//')"
            shell=$((shell + 1)) ;;
        sh:-)
            skipped=$((skipped + 1)) ;;
        *)
            fail "unknown marker \"$marker\" before the $lang block at $where" ;;
    esac
done 3<"$DIR/manifest"

# Every database the recipes restored holds what the source held when dumped.
copies=0
for copy in $(q -c "SELECT datname FROM pg_database WHERE datname LIKE '${PREFIX}copy%' ORDER BY 1"); do
    snapshot "$copy" >"$DIR/$copy.snapshot"
    diff -u "$DIR/source.snapshot" "$DIR/$copy.snapshot" \
        || fail "$copy, restored by the README's recipe, differs from the source"
    copies=$((copies + 1))
done

echo "readme: $ran sql blocks ran, $failed_as_expected failed as shown, $shell sh blocks ran" \
     "($copies restored databases identical to the source), $skipped sh blocks not run"
