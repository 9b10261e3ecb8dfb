#!/usr/bin/env bash
# Downloads one asset of a release and verifies it against the release's
# SHA256SUMS before it is installed.
#
#   scripts/fetch-release-asset.sh BASE_URL ASSET DEST
#
# BASE_URL is where the release's files are, with no trailing slash:
# https://github.com/OWNER/REPO/releases/download/v1.2.3 (what action.yml
# passes), or file:///some/dir, or http://127.0.0.1:PORT for a test.
# BASE_URL/SHA256SUMS lists `<sha256 hex>  <file name>` lines (sha256sum's
# output, as .github/workflows/release.yml writes it); BASE_URL/ASSET is the
# binary. DEST is the file to install it as (mode 0755). Nothing is written
# to DEST unless the checksum matches.
#
# Exit codes, so a caller can tell "nothing to download" from "refused":
#   0  downloaded, verified and installed
#   1  refused: the binary does not match its checksum, the checksum line is
#      malformed, or the release lists the asset but does not serve it.
#      Never fall back to something else on this: the release is broken or
#      tampered with.
#   3  no such release, or the release has no checksum for this asset (not
#      built for this platform): the caller may build from source instead
#   2  usage
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 BASE_URL ASSET DEST" >&2
  exit 2
fi
base=${1%/}
asset=$2
dest=$3
case "$asset" in
  */* | "" | .*)
    echo "error: asset name '$asset' must be a plain file name" >&2
    exit 2
    ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --fail turns an HTTP error into exit 22; a missing file:// is 37. Redirects
# are followed (GitHub serves assets from another host), within https, and
# any download is bounded: a binary over 256 MiB is not ours.
fetch() {
  curl --silent --show-error --fail --location --proto '=https,http,file' \
    --proto-redir '=https' --max-filesize 268435456 --retry 2 \
    --connect-timeout 20 --max-time 600 --output "$2" "$1"
}

status=0
fetch "$base/SHA256SUMS" "$work/SHA256SUMS" 2>"$work/err" || status=$?
if [ "$status" -ne 0 ]; then
  echo "no release checksums at $base/SHA256SUMS ($(tr -d '\n' <"$work/err" | cut -c1-200))" >&2
  exit 3
fi

# The line for this asset: `<hex>  <name>` or `<hex> *<name>` (binary mode).
expected=$(awk -v name="$asset" '
  { file = $2; sub(/^\*/, "", file) }
  file == name { print $1; found = 1; exit }
  END { if (!found) exit 1 }
' "$work/SHA256SUMS") || {
  echo "the release at $base has no checksum for $asset (not built for this platform?)" >&2
  exit 3
}
expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
if ! printf '%s' "$expected" | grep -Eq '^[0-9a-f]{64}$'; then
  echo "error: refusing $asset: its SHA256SUMS line does not hold a SHA-256 digest" >&2
  exit 1
fi

status=0
fetch "$base/$asset" "$work/asset" 2>"$work/err" || status=$?
if [ "$status" -ne 0 ]; then
  echo "error: refusing $asset: SHA256SUMS lists it but it cannot be downloaded ($(tr -d '\n' <"$work/err" | cut -c1-200))" >&2
  exit 1
fi

if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$work/asset" | cut -d' ' -f1)
else
  actual=$(shasum -a 256 "$work/asset" | cut -d' ' -f1)
fi
if [ "$actual" != "$expected" ]; then
  echo "error: refusing $asset: SHA-256 checksum mismatch (SHA256SUMS says $expected, the download is $actual); the release asset was altered or corrupted" >&2
  exit 1
fi

mkdir -p "$(dirname "$dest")"
install -m 0755 "$work/asset" "$dest"
echo "verified $asset (sha256 $actual)"
