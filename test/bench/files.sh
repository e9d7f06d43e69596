#!/usr/bin/env bash
# Benchmark of files stored once (1.3): a transfer shares the sender's content instead of
# copying the bytes. Two databases on one server, loaded with the same rows
# (test/bench/files-data.sql: 1,000 documents of about 20 kB of jsonb and one
# incompressible 200 kB file each): one with version 1.3 of the extension, one with
# 1.2.1 (CREATE EXTENSION ... VERSION '1.2.1', document_files a table; the same module
# serves both). Four measures, each beside its baseline in the same run:
#
#   transfer  sg_transfer_documents of the 1,000 documents (1.3) against INSERT ...
#             SELECT of the same rows and bytes, the files into a table of 1.2's
#             document_files shape (pgbench/files_transfer_plain.sql); one session each,
#             first transaction left out, rolled back, taking turns; target <= 0.10
#   space     the database's growth after that transfer, committed, after a CHECKPOINT,
#             as a share of the file bytes transferred, 1.3 against 1.2.1; target <= 2 %
#   read      the receiver reads a random copy's bytes (pgbench/files_read.sql: a
#             samegoal_app member after sg_act_as), 1.3 against 1.2.1, alternating
#             pgbench runs, the statement's latency; target <= 1.10
#   upload    a teacher inserts a 200 kB file into document_files
#             (pgbench/files_upload.sql), 1.3 against 1.2.1 likewise; target <= 1.10
#
# It reports; it never fails on a figure.
#
#   test/bench/files.sh            a throwaway server of its own (builds and installs
#                                  the extension first)
#   test/bench/files.sh --quick    fewer and shorter runs
#   also run by test/bench/run, against its server: PGHOST set, PGDATABASE the prefix
#   of its two databases (PGDATABASE_13, PGDATABASE_121, dropped at the end);
#   FILES_ROW_FILE, when set, gets the rows for the run's results table
set -euo pipefail
self=$(realpath "$0")
source "$(dirname "$self")/../lib.sh"
cd "$REPO_ROOT"
# Alone: what is missing, the build, then this script again inside a cluster of
# its own, with the settings of test/bench/run's.
if [ -z "${SG_BENCH_CLUSTER:-}" ]; then
    ensure_packages build
    build_and_install -Werror
    SG_BENCH_CLUSTER=files exec "$REPO_ROOT/test/with-cluster" --trust "${SG_BENCH_SETTINGS[@]}" bash "$self" "$@"
fi
export PGHOST=$SG_CLUSTER_SOCKET

QUICK=false
[ "${1:-}" = --quick ] && QUICK=true
DOCS=1000
if $QUICK; then ROUNDS=3 TX=2 SECONDS_PER_RUN=5; else ROUNDS=6 TX=3 SECONDS_PER_RUN=10; fi

run_psql() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
value() { run_psql -d "$1" -At -c "$2"; }
WORK=$(mktemp -d /tmp/samegoal-bench-files.XXXXXX)
chmod 755 "$WORK"
mkdir "$WORK/samples"
PREFIX=${PGDATABASE:-samegoal_bench_files}
cleanup() {
    run_psql -d postgres -c "DROP DATABASE IF EXISTS ${PREFIX}_13" -c "DROP DATABASE IF EXISTS ${PREFIX}_121" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
NEW=${PREFIX}_13 OLD=${PREFIX}_121

say "loading a 1.3 and a 1.2.1 database (test/bench/files-data.sql)"
for db in "$NEW" "$OLD"; do
    version=1.3; [ "$db" = "$OLD" ] && version=1.2.1
    run_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    run_psql -d "$db" -c 'SET client_min_messages = warning' \
        -c "CREATE EXTENSION samegoal_transfer VERSION '$version' CASCADE"
    run_psql -d "$db" -o /dev/null -f test/bench/files-data.sql -v docs=$DOCS
    run_psql -d "$db" -c 'VACUUM (FREEZE, ANALYZE)' -c CHECKPOINT
    echo "$db: version $(value "$db" "SELECT extversion FROM pg_extension WHERE extname = 'samegoal_transfer'")," \
         "$(value "$db" "SELECT pg_size_pretty(pg_database_size(current_database()))")"
done

# ---------------------------------------------------------------------------
# Space: the sizes of the extension's tables (each with its TOAST table, indexes and
# forks), by kind, and of the database; the one committed transfer in between.
sizes() {
    value "$1" "SELECT coalesce(sum(s) FILTER (WHERE k = 'files'), 0) || ' ' || coalesce(sum(s) FILTER (WHERE k = 'documents'), 0)
                       || ' ' || coalesce(sum(s) FILTER (WHERE k = 'other'), 0) || ' ' || pg_database_size(current_database())
                  FROM (SELECT pg_total_relation_size(c.oid) AS s,
                               CASE WHEN c.relname IN ('files', 'file_contents', 'transfer_files', 'document_files') THEN 'files'
                                    WHEN c.relname IN ('documents', 'transfer_documents') THEN 'documents'
                                    ELSE 'other' END AS k
                          FROM pg_class c
                         WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind IN ('r', 'p', 'm')) t"
}
say "space: a committed transfer of $DOCS documents with their files, on each database"
for db in "$NEW" "$OLD"; do
    tag=new; [ "$db" = "$OLD" ] && tag=old
    run_psql -d "$db" -c CHECKPOINT
    sizes "$db" >"$WORK/samples/size.$tag.before"
    # Committed, as the receiver's teacher will read its copies; the assertions check
    # that every file arrived with all its bytes.
    run_psql -d "$db" -At -o /dev/null <<SQL
BEGIN;
SET LOCAL ROLE bench_app;
SELECT samegoal.sg_act_as('send.bench.example', 'admin');
CREATE TEMP TABLE r ON COMMIT DROP AS
SELECT * FROM samegoal.sg_transfer_documents((SELECT ids FROM bench.id_sets WHERE name = 'big'),
                                             'receive.bench.example', 'R-SIZE', 'teacher');
SELECT bench.assert((SELECT count(*) FILTER (WHERE copied) FROM r) = $DOCS, 'documents copied on $db');
COMMIT;
SQL
    run_psql -d "$db" -c CHECKPOINT
    sizes "$db" >"$WORK/samples/size.$tag.after"
    run_psql -d "$db" -At -o /dev/null <<SQL
SELECT bench.assert(count(*) = $DOCS AND sum(octet_length(f.data)) = $DOCS * 204800::bigint
                    AND bool_and(f.data = o.data), 'the received files on $db')
  FROM samegoal.documents c
  JOIN samegoal.students s ON s.id = c.student_id AND s.sis_student_id = 'R-SIZE'
  JOIN samegoal.document_files f ON f.document_id = c.id
  JOIN samegoal.document_files o ON o.document_id = c.source_document_id;
CREATE TABLE bench.read_ids AS
SELECT row_number() OVER (ORDER BY f.id) AS n, f.id AS file_id
  FROM samegoal.documents c
  JOIN samegoal.students s ON s.id = c.student_id AND s.sis_student_id = 'R-SIZE'
  JOIN samegoal.document_files f ON f.document_id = c.id;
ALTER TABLE bench.read_ids ADD PRIMARY KEY (n);
VACUUM (FREEZE, ANALYZE);
SQL
done
# growth TAG: "total files documents other" growth in bytes
growth() {
    paste -d' ' "$WORK/samples/size.$1.before" "$WORK/samples/size.$1.after" |
        awk '{ print $8 - $4, $5 - $1, $6 - $2, $7 - $3 }'
}
FILE_BYTES=$((DOCS * 204800))
read -r NEW_DB NEW_FILES NEW_DOCS NEW_OTHER <<<"$(growth new)"
read -r OLD_DB OLD_FILES OLD_DOCS OLD_OTHER <<<"$(growth old)"
pct() { awk -v a="$1" -v b="$FILE_BYTES" 'BEGIN { printf "%.2f", 100 * a / b }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f MB", a / 1e6 }'; }
echo "1.3: database +$(mb "$NEW_DB") ($(pct "$NEW_DB") % of $(mb $FILE_BYTES) of files);" \
     "file tables +$(mb "$NEW_FILES"), documents +$(mb "$NEW_DOCS"), other +$(mb "$NEW_OTHER")"
echo "1.2.1: database +$(mb "$OLD_DB") ($(pct "$OLD_DB") %); file table +$(mb "$OLD_FILES")," \
     "documents +$(mb "$OLD_DOCS"), other +$(mb "$OLD_OTHER")"

# ---------------------------------------------------------------------------
# The parties, for the scripts (the same ids in both databases).
parties() {
    local db=$1
    echo -D sender=send.bench.example -D receiver=receive.bench.example -D set=big -D sis=R-BIG \
        -D sd="$(value "$db" "SELECT id FROM samegoal.districts WHERE domain = 'send.bench.example'")" \
        -D rd="$(value "$db" "SELECT id FROM samegoal.districts WHERE domain = 'receive.bench.example'")" \
        -D ss="$(value "$db" "SELECT id FROM samegoal.students WHERE sis_student_id = 'BIG'")" \
        -D rs="$(value "$db" "SELECT id FROM samegoal.students WHERE sis_student_id = 'R-BIG'")" \
        -D ad="$(value "$db" "SELECT u.id FROM samegoal.users u JOIN samegoal.districts d ON d.id = u.district_id
                               WHERE d.domain = 'send.bench.example' AND u.username = 'admin'")" \
        -D ro="$(value "$db" "SELECT u.id FROM samegoal.users u JOIN samegoal.districts d ON d.id = u.district_id
                               WHERE d.domain = 'receive.bench.example' AND u.username = 'teacher'")" \
        -D doc="$(value "$db" "SELECT d.id FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
                                WHERE s.sis_student_id = 'UPLOAD'")" \
        -D files="$(value "$db" "SELECT count(*) FROM bench.read_ids")"
}
read -r -a NEW_PARTIES <<<"$(parties "$NEW")"
read -r -a OLD_PARTIES <<<"$(parties "$OLD")"

# Between pgbench runs: vacuum away what rolled-back runs left, write dirty pages out.
quiesce() { run_psql -d "$1" -c VACUUM -c CHECKPOINT; }

# timed NAME DB SCRIPT USER [pgbench options]: one pgbench session of TX + 1
# transactions; the latency of each but the first (warm-up: each log's first line) is
# added to samples/NAME.
timed() {
    local name=$1 db=$2 script=$3 user=$4 dir
    shift 4
    quiesce "$db"
    dir=$(mktemp -d "$WORK/pgbench.XXXXXX")
    if ! (cd "$dir" && "$PG_BINDIR/pgbench" -n -M prepared -U "$user" -c 1 -t $((TX + 1)) -l "$@" \
            -f "$REPO_ROOT/test/bench/pgbench/$script" "$db") >"$dir/out" 2>&1; then
        cat "$dir/out" >&2
        echo "pgbench failed: $script on $db" >&2
        return 1
    fi
    awk 'FNR > 1 { printf "%.3f\n", $3 / 1000 }' "$dir"/pgbench_log.* >>"$WORK/samples/$name"
}

# statement NAME DB SCRIPT PATTERN [pgbench options]: one pgbench run of
# SECONDS_PER_RUN s, 1 client, as a superuser (the script switches to bench_app);
# the mean latency of the statement whose first line matches PATTERN is added to
# samples/NAME, the transaction's to samples/NAME.tx.
statement() {
    local name=$1 db=$2 script=$3 pattern=$4 dir
    shift 4
    quiesce "$db"
    dir=$(mktemp -d "$WORK/pgbench.XXXXXX")
    if ! "$PG_BINDIR/pgbench" -n -M prepared -U postgres -c 1 -T "$SECONDS_PER_RUN" -r "$@" \
            -f "$REPO_ROOT/test/bench/pgbench/$script" "$db" >"$dir/out" 2>&1; then
        cat "$dir/out" >&2
        echo "pgbench failed: $script on $db" >&2
        return 1
    fi
    awk -v out="$WORK/samples/$name" -v pattern="$pattern" '
        $0 ~ pattern && $1 ~ /^[0-9.]+$/ { print $1 >> out }
        /^latency average = / { print $4 >> (out ".tx") }' "$dir/out"
}

median() { sort -n "$WORK/samples/$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -n "$WORK/samples/$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { f = (hi >= 100) ? "%.0f" : "%.3g"; printf f "–" f, lo, hi }'; }
count() { wc -l <"$WORK/samples/$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "met" : "**missed**" }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f ms", v; else if (v >= 1) printf "%.2f ms", v; else printf "%.3f ms", v }'; }

# ---------------------------------------------------------------------------
say "transfer: $DOCS documents, sg_transfer_documents against INSERT ... SELECT of the bytes, $ROUNDS rounds of $TX"
# The plain copy writes what it says: every document and every byte of the files
# (checked once: its script without the ROLLBACK, run by psql, then counted).
plain_vars() {
    local a
    for a in "${NEW_PARTIES[@]}"; do
        [ "$a" = -D ] || printf -- "-v\n%s\n" "${a%%=*}=$(case ${a%%=*} in set|sender|receiver|sis) echo "'${a#*=}'" ;; *) echo "${a#*=}" ;; esac)"
    done
}
mapfile -t PLAIN_VARS < <(plain_vars)
{ sed '/^ROLLBACK;$/d' test/bench/pgbench/files_transfer_plain.sql
  cat <<SQL
SELECT bench.assert((SELECT count(*) FROM samegoal.documents WHERE student_id = :rs) = $DOCS
    AND (SELECT count(*) FROM bench.plain_document_files) = $DOCS
    AND (SELECT sum(octet_length(data)) FROM bench.plain_document_files) = $DOCS * 204800::bigint,
    'the plain copy');
ROLLBACK;
SQL
} | run_psql -d "$NEW" -At -o /dev/null "${PLAIN_VARS[@]}"
for round in $(seq "$ROUNDS"); do
    timed transfer.fn "$NEW" transfer.sql bench_app "${NEW_PARTIES[@]}"
    timed transfer.sql "$NEW" files_transfer_plain.sql postgres "${NEW_PARTIES[@]}"
    echo "round $round: function $(tail -n $TX "$WORK/samples/transfer.fn" | paste -sd' ') ms," \
         "plain $(tail -n $TX "$WORK/samples/transfer.sql" | paste -sd' ') ms"
done

# ---------------------------------------------------------------------------
say "read and upload: 1.3 against 1.2.1, $ROUNDS rounds of ${SECONDS_PER_RUN} s runs, alternating"
for round in $(seq "$ROUNDS"); do
    # The database measured first changes from round to round.
    order=("$NEW new" "$OLD old"); [ $((round % 2)) -eq 0 ] && order=("$OLD old" "$NEW new")
    for entry in "${order[@]}"; do
        read -r db tag <<<"$entry"
        if [ "$tag" = new ]; then p=("${NEW_PARTIES[@]}"); else p=("${OLD_PARTIES[@]}"); fi
        statement "read.$tag" "$db" files_read.sql 'AS read_file' "${p[@]}"
    done
    for entry in "${order[@]}"; do
        read -r db tag <<<"$entry"
        if [ "$tag" = new ]; then p=("${NEW_PARTIES[@]}"); else p=("${OLD_PARTIES[@]}"); fi
        statement "upload.$tag" "$db" files_upload.sql 'INSERT INTO samegoal.document_files' "${p[@]}"
    done
    for m in read upload; do
        printf '%s\n' "$(ratio "$(tail -n1 "$WORK/samples/$m.new")" "$(tail -n1 "$WORK/samples/$m.old")")" >>"$WORK/samples/$m.ratio"
    done
    echo "round $round: read $(tail -n1 "$WORK/samples/read.new") ms in 1.3, $(tail -n1 "$WORK/samples/read.old") ms in 1.2.1;" \
         "upload $(tail -n1 "$WORK/samples/upload.new") ms, $(tail -n1 "$WORK/samples/upload.old") ms"
done

# ---------------------------------------------------------------------------
ROWS=()
FN=$(median transfer.fn) SQL=$(median transfer.sql); R=$(ratio "$FN" "$SQL")
ROWS+=("| Files stored once: transfer of 1,000 documents (20 kB jsonb + 200 kB file each), one transaction; plain: INSERT ... SELECT of the same rows, the bytes into a table of 1.2's document_files shape | $(fmt_ms "$FN") | $(fmt_ms "$SQL") | $R | ≤ 0.10: $(verdict "$R" 0.10) | $(count transfer.fn) runs each; $(spread transfer.fn) ms against $(spread transfer.sql) ms |")
R=$(ratio "$(pct "$NEW_DB")" "$(pct "$OLD_DB")")
ROWS+=("| Files stored once: database growth after that transfer, committed, after a CHECKPOINT, per file byte transferred ($(mb $FILE_BYTES)); plain: the same transfer in 1.2.1 | $(pct "$NEW_DB") % ($(mb "$NEW_DB")) | $(pct "$OLD_DB") % ($(mb "$OLD_DB")) | $R | ≤ 2 %: $(verdict "$(pct "$NEW_DB")" 2) (file tables alone: $(verdict "$(pct "$NEW_FILES")" 2)) | pg_database_size; 1.3: file tables (files, file_contents, transfer_files) +$(mb "$NEW_FILES") ($(pct "$NEW_FILES") %), documents and transfer_documents +$(mb "$NEW_DOCS"), other +$(mb "$NEW_OTHER"); 1.2.1: document_files +$(mb "$OLD_FILES"), documents +$(mb "$OLD_DOCS") (pg_total_relation_size) |")
NEW_R=$(median read.new) OLD_R=$(median read.old); R=$(ratio "$(median read.ratio)" 1)
ROWS+=("| Files stored once: the receiver reads a copy's 200 kB (SELECT data FROM document_files WHERE id = \$1, random ids) as a samegoal_app member after sg_act_as; plain: the same in 1.2.1 | $(fmt_ms "$NEW_R") | $(fmt_ms "$OLD_R") | $R | ≤ 1.10: $(verdict "$R" 1.10) | statement latency, pgbench -M prepared, 1 client, alternating runs of ${SECONDS_PER_RUN} s, median of $(count read.ratio) per-round ratios; transactions $(fmt_ms "$(median read.new.tx)") against $(fmt_ms "$(median read.old.tx)") |")
NEW_U=$(median upload.new) OLD_U=$(median upload.old); R=$(ratio "$(median upload.ratio)" 1)
ROWS+=("| Files stored once: a teacher uploads a 200 kB file (INSERT INTO document_files, the bytes a parameter) as a samegoal_app member; 1.3 hashes it; plain: the same in 1.2.1 | $(fmt_ms "$NEW_U") | $(fmt_ms "$OLD_U") | $R | ≤ 1.10: $(verdict "$R" 1.10) | statement latency, rolled back, as the read; median of $(count upload.ratio) per-round ratios; transactions $(fmt_ms "$(median upload.new.tx)") against $(fmt_ms "$(median upload.old.tx)") |")

cat <<EOF

Files stored once: $DOCS documents (about 20 kB jsonb and one incompressible 200 kB file
each), version 1.3 against a plain copy and against version 1.2.1; medians.

| measure | samegoal | plain SQL | ratio | target | notes |
|---|---|---|---|---|---|
EOF
printf '%s\n' "${ROWS[@]}"
if [ -n "${FILES_ROW_FILE:-}" ]; then
    printf '%s\n' "${ROWS[@]}" >>"$FILES_ROW_FILE"
fi
