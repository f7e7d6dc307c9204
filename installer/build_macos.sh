#!/usr/bin/env bash
# Build PhotoAtlas.app with PyInstaller (installer/photoatlas.spec) and pack it in a .dmg, on macOS.
#
#   installer/build_macos.sh [--python PY] [--dist DIR] [--work DIR] [--sign IDENTITY]
#
# Needs: macOS 12+, Xcode command line tools (hdiutil, codesign), Python 3.11+.
# --python PY      build with this interpreter, whose environment already has PhotoAtlas's dependencies;
#                  default: a fresh build environment in WORK/venv with PyTorch from PyPI (includes Apple MPS)
# --dist DIR       output folder (default dist/): DIR/PhotoAtlas.app and DIR/PhotoAtlas-VERSION-macos-ARCH.dmg
# --work DIR       PyInstaller's work folder and the build environment (default build/bundle)
# --sign IDENTITY  sign the app with this Developer ID ("Developer ID Application: ..."); notarize the .dmg
#                  afterwards with `xcrun notarytool submit DMG --wait` and `xcrun stapler staple DMG`.
#                  Unsigned, Gatekeeper asks the user to open it with right-click > Open the first time.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=""
dist="$root/dist"
work="$root/build/bundle"
identity=""
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --sign) identity=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_macos.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(uname -s)" = Darwin ] || { echo "build_macos.sh: run this on macOS" >&2; exit 1; }
mkdir -p "$dist" "$work"
dist=$(cd "$dist" && pwd)
work=$(cd "$work" && pwd)

if [ -z "$python" ]; then
  [ -x "$work/venv/bin/python" ] || python3 -m venv "$work/venv"
  python="$work/venv/bin/python"
  "$python" -m pip install --quiet --upgrade pip
  # The same ranges as pyproject.toml's dependencies; macOS wheels on PyPI carry MPS support.
  "$python" -m pip install --quiet "torch>=2.14,<2.15" "torchvision>=0.29,<0.30"
  "$python" -m pip install --quiet "$root"
fi
"$python" -c "import PyInstaller" 2>/dev/null || "$python" -m pip install --quiet "pyinstaller>=6"

start=$(date +%s)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work/pyinstaller" "$root/installer/photoatlas.spec"
app="$dist/PhotoAtlas.app"
version=$("$app/Contents/MacOS/photoatlas" --version)
version=${version#photoatlas }
echo "== built $app ($version) in $(( $(date +%s) - start )) s, $(du -sh "$app" | cut -f1)"

if [ -n "$identity" ]; then
  codesign --force --deep --options runtime --timestamp --sign "$identity" "$app"
  codesign --verify --deep --strict "$app"
fi

# The disk image: the app next to a link to /Applications, to drag it onto.
staging="$work/dmg"
rm -rf "$staging"
mkdir -p "$staging"
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
dmg="$dist/PhotoAtlas-$version-macos-$(uname -m).dmg"
rm -f "$dmg"
hdiutil create -volname "PhotoAtlas $version" -srcfolder "$staging" -ov -format UDZO "$dmg" >/dev/null
[ -z "$identity" ] || codesign --sign "$identity" --timestamp "$dmg"
echo "== disk image: $dmg ($(du -sh "$dmg" | cut -f1))"
