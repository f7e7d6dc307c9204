#!/usr/bin/env bash
# Measure a built Linux bundle: its size, the time from launch to the first window under Xvfb, and that it
# indexes a small folder of photos with a local checkpoint (no download).
#
#   installer/measure_bundle.sh BUNDLE_DIR PHOTOS_DIR [--model NAME --pretrained FILE --model-config JSON]
#
# BUNDLE_DIR is the folder build_linux.sh made (DIST/PhotoAtlas). The model options default to the toy CLIP
# in ../shared/models/toyclip. Needs xvfb-run and xdotool. Every run uses a fresh temporary HOME, so the
# window opens on an empty default library, as on a first start; "cold" is the first start after the build
# (libraries partly in the page cache still: this script does not drop the system's caches).
set -euo pipefail

bundle=$(cd "${1:?BUNDLE_DIR}" && pwd)
photos=$(cd "${2:?PHOTOS_DIR}" && pwd)
shift 2
toy="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/models/toyclip"
model_options=("$@")
[ ${#model_options[@]} -gt 0 ] || model_options=(--model toyclip --pretrained "$toy/toyclip.safetensors" --model-config "$toy/toyclip.json")
for tool in xvfb-run xdotool; do command -v "$tool" >/dev/null || { echo "measure_bundle.sh: needs $tool" >&2; exit 1; }; done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "bundle:        $bundle"
echo "version:       $("$bundle/photoatlas" --version)"
echo "size:          $(du -sh "$bundle" | cut -f1) ($(du -sb "$bundle" | cut -f1) bytes, $(find "$bundle" -type f | wc -l) files)"

# Seconds from launch until a window titled PhotoAtlas is mapped (xdotool --sync would not time out).
first_window() {
  local home=$1
  mkdir -p "$home"
  HOME=$home XDG_DATA_HOME=$home/share XDG_CACHE_HOME=$home/cache XDG_CONFIG_HOME=$home/config \
    xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
      start=$(date +%s.%N)
      "$0/photoatlas" >"$1/app.log" 2>&1 &
      app=$!
      for _ in $(seq 1 1200); do
        if window=$(xdotool search --onlyvisible --name "^PhotoAtlas" 2>/dev/null | head -n 1) && [ -n "$window" ]; then
          end=$(date +%s.%N)
          title=$(xdotool getwindowname "$window")
          kill "$app"; wait "$app" 2>/dev/null || true
          echo "$start $end" | awk "{printf \"%.2f s\", \$2 - \$1}"
          printf " (\"%s\")" "$title"
          exit 0
        fi
        kill -0 "$app" 2>/dev/null || { echo "the program exited:" >&2; cat "$1/app.log" >&2; exit 1; }
        sleep 0.05
      done
      kill "$app"; echo "no window within 60 s" >&2; exit 1' "$bundle" "$home"
}
echo "first window:  cold $(first_window "$scratch/home1"), warm $(first_window "$scratch/home2")"

start=$(date +%s.%N)
"$bundle/photoatlas" --library "$scratch/library" index "$photos" "${model_options[@]}" --device cpu --no-progress
end=$(date +%s.%N)
count=$("$bundle/photoatlas" --library "$scratch/library" photos --json | grep -o '"embedded": true' | wc -l)
echo "index:         $count photos embedded from $photos in $(echo "$start $end" | awk '{printf "%.1f", $2 - $1}') s"
"$bundle/photoatlas" --library "$scratch/library" cluster --no-progress
"$bundle/photoatlas" --library "$scratch/library" clusters
