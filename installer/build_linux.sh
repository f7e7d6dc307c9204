#!/usr/bin/env bash
# Build the Linux one-folder bundle of PhotoAtlas with PyInstaller (installer/photoatlas.spec).
#
#   installer/build_linux.sh [--python PY] [--dist DIR] [--work DIR] [--torch-index URL] [--tarball]
#
# --python PY        build with this interpreter, whose environment already has PhotoAtlas's dependencies
#                    (e.g. the dev .venv/bin/python); PyInstaller is added to it if missing.
#                    Default: a fresh build environment in WORK/venv with the CPU build of PyTorch, so that
#                    the bundle does not carry the 3 GB of CUDA libraries a PyPI torch brings on Linux.
# --dist DIR         where the bundle goes (default: dist/ in the checkout): DIR/PhotoAtlas/photoatlas
# --work DIR         PyInstaller's work folder and the build environment (default: build/bundle)
# --torch-index URL  the PyTorch wheel index of the default build environment
#                    (default https://download.pytorch.org/whl/cpu)
# --tarball          also pack DIR/PhotoAtlas-VERSION-linux-ARCH.tar.gz
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=""
dist="$root/dist"
work="$root/build/bundle"
torch_index=${PHOTOATLAS_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
tarball=0
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --torch-index) torch_index=$2; shift 2 ;;
    --tarball) tarball=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_linux.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dist" "$work"
dist=$(cd "$dist" && pwd)
work=$(cd "$work" && pwd)

if [ -z "$python" ]; then
  echo "== build environment: $work/venv (PyTorch from $torch_index)"
  [ -x "$work/venv/bin/python" ] || python3 -m venv "$work/venv"
  python="$work/venv/bin/python"
  "$python" -m pip install --quiet --upgrade pip
  # torch/torchvision versions: the same ranges as pyproject.toml's dependencies.
  "$python" -m pip install --quiet --index-url "$torch_index" "torch>=2.14,<2.15" "torchvision>=0.29,<0.30"
  "$python" -m pip install --quiet "$root"
fi
"$python" -c "import PyInstaller" 2>/dev/null || "$python" -m pip install --quiet "pyinstaller>=6"

echo "== pyinstaller (into $dist/PhotoAtlas)"
start=$(date +%s)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work/pyinstaller" "$root/installer/photoatlas.spec"
end=$(date +%s)

version=$("$dist/PhotoAtlas/photoatlas" --version)
echo "== built: $version in $((end - start)) s; $(du -sh "$dist/PhotoAtlas" | cut -f1) in $dist/PhotoAtlas"
if [ "$tarball" = 1 ]; then
  archive="$dist/PhotoAtlas-${version#photoatlas }-linux-$(uname -m).tar.gz"
  tar -C "$dist" -czf "$archive" PhotoAtlas
  echo "== archive: $archive ($(du -sh "$archive" | cut -f1))"
fi
