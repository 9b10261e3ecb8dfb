#!/usr/bin/env bash
# The reference page (docs/errors.html) in headless Chromium, at 1280 px and
# at a phone's 390 px, in light and dark colour schemes:
# - no horizontal scrolling at either width;
# - a linked row (every code's anchor, and each category heading) opens
#   below the top edge with its column names in view: the sticky table head
#   above it at 1280 px, the cell labels of its card at 390 px;
# - every anchor of the catalog (codes, aliases, categories, precedence) is
#   on the page;
# - prefers-color-scheme: dark gives the dark background.
# Screenshots of each width and scheme go to $OUT (default
# target/reference-page/) for people to look at.
# Installs Debian's chromium when it is missing.
# Usage: scripts/reference-page-check.sh   (PAGE=old.html OUT=dir to override)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-target/reference-page}
# PAGE=FILE checks another copy of the page (an older one, to see the check fail).
PAGE=${PAGE:-docs/errors.html}
mkdir -p "$OUT"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

chrome() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --no-first-run \
    --disable-sync --user-data-dir="$(mktemp -d -p "$WORK")" --hide-scrollbars \
    --virtual-time-budget=5000 "$@" 2>/dev/null
}

# The probe: the page in an iframe of the given width (headless windows have
# a minimum width; an iframe's media queries follow its own width), measured
# from outside, the result written into the DOM that --dump-dom prints.
python3 - "$WORK" "$PAGE" <<'PY'
import html, json, pathlib, sys
work = pathlib.Path(sys.argv[1])
page = pathlib.Path(sys.argv[2]).read_text()
catalog = json.loads(pathlib.Path("docs/catalog.json").read_text())
anchors = [c["anchor"] for c in catalog["codes"]]
ids = anchors + [a for c in catalog["codes"] for a in c.get("anchor_aliases", [])]
ids += [c["slug"] for c in catalog["categories"]] + ["precedence"]
for width in (1280, 390):
    probe = f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<iframe id="f" style="border:0;width:{width}px;height:844px" srcdoc="{html.escape(page, quote=True)}"></iframe>
<script>
const ANCHORS = {json.dumps(anchors)}, IDS = {json.dumps(ids)};
document.getElementById('f').addEventListener('load', () => {{
  const win = document.getElementById('f').contentWindow, doc = win.document;
  const result = {{width: win.innerWidth, scrollWidth: doc.documentElement.scrollWidth,
    dark: win.matchMedia('(prefers-color-scheme: dark)').matches,
    background: win.getComputedStyle(doc.body).backgroundColor,
    missing: IDS.filter(id => !doc.getElementById(id)), rows: []}};
  for (const anchor of ANCHORS) {{
    const row = doc.getElementById(anchor);
    row.scrollIntoView({{block: 'start'}});
    const top = row.getBoundingClientRect().top;
    const head = row.closest('table').querySelector('thead th').getBoundingClientRect();
    const label = win.getComputedStyle(row.querySelector('td'), '::before').content;
    // Column names in view: the sticky head sits fully above the row, or the
    // row's own cells carry them.
    const headInView = head.top >= 0 && head.bottom <= top + 1;
    const labelled = label === '"Status"';
    if (!(top >= 0 && top < win.innerHeight - 40 && (headInView || labelled)))
      result.rows.push({{anchor, top, headTop: head.top, headBottom: head.bottom, label}});
  }}
  const pre = document.createElement('pre');
  pre.id = 'probe-result';
  pre.textContent = JSON.stringify(result);
  document.body.append(pre);
}});
</script></body></html>"""
    (work / f"probe-{width}.html").write_text(probe)
PY

fail=0
for scheme in light dark; do
  flags=()
  [ "$scheme" = dark ] && flags=(--force-dark-mode)
  for width in 1280 390; do
    result=""
    for attempt in 1 2 3; do
      result=$(chrome "${flags[@]}" --window-size=1400,900 --dump-dom "file://$WORK/probe-$width.html" \
        | sed -n 's:.*<pre id="probe-result">\(.*\)</pre>.*:\1:p')
      [ -n "$result" ] && break
    done
    if [ -z "$result" ]; then
      echo "FAIL $width px $scheme: the probe printed nothing"
      fail=1
      continue
    fi
    verdict=$(python3 - "$width" "$scheme" "$result" <<'PY'
import html, json, sys
width, scheme, r = int(sys.argv[1]), sys.argv[2], json.loads(html.unescape(sys.argv[3]))
problems = []
if r["width"] != width:
    problems.append(f"viewport is {r['width']} px, not {width}")
if r["scrollWidth"] > r["width"]:
    problems.append(f"the page is {r['scrollWidth']} px wide in a {r['width']} px viewport")
if r["missing"]:
    problems.append(f"anchors missing: {r['missing']}")
for row in r["rows"][:3]:
    problems.append(f"#{row['anchor']} opens at {row['top']:.0f} px with its column names out of view ({row})")
if len(r["rows"]) > 3:
    problems.append(f"... and {len(r['rows']) - 3} more rows like these")
dark = r["background"] == "rgb(13, 17, 23)"
if (scheme == "dark") != (r["dark"] and dark):
    problems.append(f"{scheme} scheme: prefers-color-scheme dark={r['dark']}, background {r['background']}")
print("\n".join(f"FAIL {width} px {scheme}: {p}" for p in problems) or
      f"ok   {width} px {scheme}: {r['scrollWidth']} px wide, every row opens with its column names in view, background {r['background']}")
PY
)
    echo "$verdict"
    case "$verdict" in FAIL*) fail=1 ;; esac
    chrome "${flags[@]}" --window-size="$width",900 --screenshot="$OUT/errors-$width-$scheme.png" \
      "file://$(realpath "$PAGE")" >/dev/null || true
    if [ ! -s "$OUT/errors-$width-$scheme.png" ] || [ "$(stat -c %s "$OUT/errors-$width-$scheme.png")" -lt 20000 ]; then
      echo "FAIL $width px $scheme: the screenshot $OUT/errors-$width-$scheme.png is missing or blank"
      fail=1
    fi
  done
done
echo "screenshots: $OUT/errors-{1280,390}-{light,dark}.png"
exit "$fail"
