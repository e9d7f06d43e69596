#!/usr/bin/env bash
# META.json (the PGXN metadata) is valid JSON and in step with the control file:
# its version and the version it provides equal the control file's
# default_version, written as PGXN's semantic version ('1.1' is 1.1.0).
# Needs no server; needs jq (test/packages, which test/run-tests installs).
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() { echo "meta: FAILED: $*" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || fail "jq is not installed (test/packages: test/install-packages tests)"

jq empty META.json || fail "META.json is not valid JSON"

control=$(sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" samegoal_transfer.control)
[ -n "$control" ] || fail "no default_version in samegoal_transfer.control"
case "$control" in
    *.*.*) want=$control ;;
    *.*) want=$control.0 ;;
    *) want=$control.0.0 ;;
esac

name=$(jq -r '.name' META.json)
version=$(jq -r '.version' META.json)
provided=$(jq -r '.provides[.name].version // "none"' META.json)
[ "$name" = samegoal_transfer ] || fail "META.json names \"$name\", not samegoal_transfer"
[ "$version" = "$want" ] || fail "META.json version $version, the control file's default_version '$control' (want $want)"
[ "$provided" = "$want" ] || fail "META.json provides version $provided, want $want"
# The Debian package's version is the same one (debian/changelog's first entry).
debian=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
[ "$debian" = "$want" ] || fail "debian/changelog's version $debian, want $want"
for key in abstract maintainer license; do
    [ "$(jq -r --arg k "$key" 'has($k)' META.json)" = true ] || fail "META.json has no $key"
done

# The PostgreSQL versions: a PGXN version range from debian/pgversions' first
# version (15+) to above the newest one tested (test/releases).
range=$(jq -r '.prereqs.runtime.requires.PostgreSQL // "none"' META.json)
first=$(sed -n 's/^\([0-9][0-9]*\)+$/\1/p' debian/pgversions)
newest=$(awk '$1 !~ /^#/ && NF == 2 { print $2 }' test/releases | sort -n | tail -1)
[[ $range =~ ^\>=\ ([0-9]+)\.0\.0,\ \<\ ([0-9]+)\.0\.0$ ]] \
    || fail "META.json requires PostgreSQL \"$range\", not a range \">= A.0.0, < B.0.0\""
[ "${BASH_REMATCH[1]}" = "$first" ] || fail "META.json's range starts at ${BASH_REMATCH[1]}, debian/pgversions at $first"
[ "${BASH_REMATCH[2]}" -gt "$newest" ] || fail "META.json's range ends below $newest, a tested version"
echo "meta: META.json version $version, in step with default_version '$control'; PostgreSQL $range"
