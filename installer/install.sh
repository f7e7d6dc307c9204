#!/usr/bin/env bash
# PhotoAtlas per-user installer for Linux and macOS (no administrator rights needed).
#
#   installer/install.sh [OPTIONS]              install, or upgrade in place when already installed
#   installer/install.sh --uninstall [OPTIONS]  remove the program; asks before removing catalogs and caches
#
# It creates a private Python environment, installs the PyTorch build that fits the machine (CUDA when an
# NVIDIA driver is present, Apple's MPS on Apple silicon, CPU otherwise), installs PhotoAtlas into it,
# and adds the `photoatlas` command and a menu entry (Linux) or ~/Applications/PhotoAtlas.app (macOS).
#
# Options:
#   --prefix DIR              where the program lives (default: Linux $XDG_DATA_HOME/photoatlas-app,
#                             i.e. ~/.local/share/photoatlas-app; macOS ~/Library/Application Support/PhotoAtlas-app)
#   --bin-dir DIR             where the `photoatlas` command goes (default: ~/.local/bin)
#   --from SRC                what to install: a PhotoAtlas checkout or a wheel (default: this script's checkout)
#   --python PY               the Python (3.11 or newer) the private environment is made from (default: python3)
#   --torch auto|cpu|cuda|mps|skip
#                             which PyTorch build (default: auto). skip: keep the PyTorch the environment can
#                             already import (see --with-site-packages), install none
#   --torch-index URL         the wheel index to take PyTorch from (default: chosen by --torch; also the
#                             environment variable PHOTOATLAS_TORCH_INDEX)
#   --with-site-packages DIR  let the private environment also import the packages of DIR, the site-packages of
#                             an existing environment (a conda env, a system PyTorch), so that its PyTorch and
#                             other large packages are reused instead of downloaded again
#   --no-deps                 install PhotoAtlas alone, trusting that its dependencies are importable already
#                             (with --with-site-packages); a check that the program starts still runs
#   --no-desktop              no menu entry, icons or application bundle
#   --dry-run                 print what would be done (PyTorch build, index, paths) and stop
#   --check-system            only check for the system libraries the window needs (Linux; also done after
#                             installing) and offer the command that installs the missing ones
#   --uninstall               remove the program, its command and its menu entry; never your photos
#   --purge | --keep-data     with --uninstall: also delete (or keep) catalogs, thumbnails and downloaded models,
#                             instead of asking
#   -h, --help                this text
#
# pip options and settings (PIP_INDEX_URL, PIP_NO_INDEX, PIP_FIND_LINKS, proxies) pass through to pip.
set -euo pipefail

# Keep in step with pyproject.toml's dependencies (tests/integration/test_installer.py checks it).
TORCH_REQ="torch>=2.14,<2.15"
TORCHVISION_REQ="torchvision>=0.29,<0.30"
# The CUDA builds published for that PyTorch, newest first; a driver runs builds up to its own CUDA version.
CUDA_BUILDS=${PHOTOATLAS_CUDA_BUILDS:-"cu130 cu128 cu126"}
TORCH_INDEX_BASE=${PHOTOATLAS_TORCH_INDEX_BASE:-https://download.pytorch.org/whl}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
os=$(uname -s)
arch=$(uname -m)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
if [ "$os" = Darwin ]; then
  prefix="$HOME/Library/Application Support/PhotoAtlas-app"
else
  prefix="$data_home/photoatlas-app"
fi
bin_dir="$HOME/.local/bin"
source_spec="$(dirname "$here")"
python=python3
torch_choice=auto
torch_index=${PHOTOATLAS_TORCH_INDEX:-}
shared_site=""
desktop=1
deps=1
dry_run=0
action=install
purge=ask

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --from) source_spec=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --torch) torch_choice=$2; shift 2 ;;
    --torch-index) torch_index=$2; shift 2 ;;
    --with-site-packages) shared_site=$2; shift 2 ;;
    --no-desktop) desktop=0; shift ;;
    --no-deps) deps=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    --check-system) action=check; shift ;;
    --uninstall) action=uninstall; shift ;;
    --purge) purge=yes; shift ;;
    --keep-data) purge=no; shift ;;
    -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$torch_choice" in auto|cpu|cuda|mps|skip) ;; *) die "--torch must be auto, cpu, cuda, mps or skip" ;; esac

venv="$prefix/venv"
vpy="$venv/bin/python"
manifest="$prefix/installed-files"
launcher="$bin_dir/photoatlas"

# The CUDA version the NVIDIA driver supports ("12.6"), or nothing without a working driver.
driver_cuda_version() {
  command -v nvidia-smi >/dev/null 2>&1 || return 0
  nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n 1
}

# Sets torch_build (cpu, cuXYZ, mps, default, skip) and, unless given, torch_index.
choose_torch() {
  local want=$torch_choice cuda="" build
  if [ "$want" = auto ]; then
    if [ "$os" = Darwin ]; then
      want=$([ "$arch" = arm64 ] && echo mps || echo cpu)
    else
      cuda=$(driver_cuda_version)
      want=$([ -n "$cuda" ] && echo cuda || echo cpu)
    fi
  fi
  torch_build=$want
  if [ "$want" = cuda ]; then
    [ -n "$cuda" ] || cuda=$(driver_cuda_version)
    [ -n "$cuda" ] || die "--torch cuda: no working NVIDIA driver found (nvidia-smi); use --torch cpu"
    torch_build=""
    local driver=$(( ${cuda%%.*} * 10 + ${cuda#*.} ))
    for build in $CUDA_BUILDS; do  # newest build the driver can run
      if [ "${build#cu}" -le "$driver" ]; then torch_build=$build; break; fi
    done
    if [ -z "$torch_build" ]; then
      warn "the NVIDIA driver supports CUDA $cuda, older than PyTorch's CUDA builds ($CUDA_BUILDS): installing the CPU build; update the driver for GPU speed"
      torch_build=cpu
    fi
  fi
  if [ -z "$torch_index" ]; then
    case "$torch_build" in
      mps|skip) torch_index="" ;;  # macOS wheels on PyPI include MPS
      cpu) [ "$os" = Darwin ] && torch_index="" || torch_index="$TORCH_INDEX_BASE/cpu" ;;
      *) torch_index="$TORCH_INDEX_BASE/$torch_build" ;;
    esac
  fi
}

# The folders where PhotoAtlas keeps the user's catalogs and caches (engine/paths.py, via platformdirs).
user_data_dirs() {
  if [ -x "$vpy" ] && "$vpy" -c "import engine.paths" >/dev/null 2>&1; then
    "$vpy" - <<'PY'
from engine.paths import default_library_dir, model_cache_dir
print(default_library_dir().parent)
print(model_cache_dir().parent)
PY
  elif [ "$os" = Darwin ]; then
    printf '%s\n' "$HOME/Library/Application Support/PhotoAtlas" "$HOME/Library/Caches/PhotoAtlas"
  else
    printf '%s\n' "$data_home/PhotoAtlas" "${XDG_CACHE_HOME:-$HOME/.cache}/PhotoAtlas"
  fi
}

record() { printf '%s\n' "$1" >>"$manifest.new"; }

# Qt's X11 window needs system libraries that a fresh Linux lacks; desktop_app/platform_check.py knows which
# (it asks ldd about PySide6's X11 plugin) and the packages that hold them. Says what is missing and offers the
# install command, run only after a yes on a terminal (it uses sudo). Status 1 when something is still missing.
check_system_libraries() {
  [ "$os" = Linux ] || return 0
  local check=() report status=0 command reply words=()
  if [ -x "$vpy" ] && "$vpy" -c "import desktop_app.platform_check" >/dev/null 2>&1; then
    check=("$vpy" -m desktop_app.platform_check --any-session)
  elif [ -f "$source_spec/desktop_app/platform_check.py" ]; then
    # -P: the script's folder (desktop_app) must not shadow standard modules
    check=("$python" -P "$source_spec/desktop_app/platform_check.py" --any-session)
  else
    return 0
  fi
  report=$("${check[@]}") || status=$?
  [ "$status" = 0 ] && return 0
  if [ "$status" != 1 ] || [ -z "$report" ]; then
    warn "could not check the system libraries the window needs"
    return 0
  fi
  say "$report"
  command=$("${check[@]}" --command) || true
  [ -n "$command" ] || return 1
  [ "$(id -u)" = 0 ] && command=${command#sudo }
  if [ ! -t 0 ]; then
    say "Run that command in a terminal (it needs administrator rights); the commands of photoatlas work meanwhile."
    return 1
  fi
  printf 'Run "%s" now? [y/N] ' "$command"
  reply=""
  read -r reply || true
  case "$reply" in
    [yY]|[yY][eE][sS]) ;;
    *) say "Not installed. Run that command later; the commands of photoatlas work meanwhile."; return 1 ;;
  esac
  read -r -a words <<<"$command"
  if "${words[@]}" && "${check[@]}" >/dev/null; then
    say "The system libraries are installed; the window can start."
    return 0
  fi
  warn "the system libraries are still missing (see above)"
  return 1
}

install_linux_desktop() {
  local resources=$1 size icons="$data_home/icons/hicolor" apps="$data_home/applications"
  mkdir -p "$apps"
  for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$resources/icons/photoatlas-$size.png" "$icons/${size}x${size}/apps/photoatlas.png"
    record "$icons/${size}x${size}/apps/photoatlas.png"
  done
  mkdir -p "$icons/scalable/apps"
  cp "$resources/icons/photoatlas.svg" "$icons/scalable/apps/photoatlas.svg"
  record "$icons/scalable/apps/photoatlas.svg"
  # The entry runs the launcher by its full path (~/.local/bin is not on every desktop session's PATH), quoted
  # and escaped as the Desktop Entry Specification asks.
  "$vpy" - "$resources/photoatlas.desktop" "$apps/photoatlas.desktop" "$launcher" <<'PY'
import sys

template, entry, launcher = sys.argv[1:]
argument = launcher.replace("%", "%%")
if any(c in argument for c in " \t\n\"'\\><~|&;$*?#()`"):
    argument = '"' + "".join("\\" + c if c in '"`$\\' else c for c in argument) + '"'
lines = []
for line in open(template, encoding="utf-8"):
    if line.startswith("Exec="):
        line = "Exec=" + argument.replace("\\", "\\\\") + "\n"
    elif line.startswith("TryExec="):
        line = "TryExec=" + launcher.replace("\\", "\\\\") + "\n"
    lines.append(line)
with open(entry, "w", encoding="utf-8") as out:
    out.writelines(lines)
PY
  record "$apps/photoatlas.desktop"
  if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate "$apps/photoatlas.desktop" || warn "the menu entry does not validate (see above)"
  fi
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
}

install_macos_app() {
  local resources=$1 app="$HOME/Applications/PhotoAtlas.app" version
  version=$("$vpy" -c "import engine; print(engine.__version__)")
  rm -rf "$app"
  mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
  cp "$resources/icons/photoatlas.icns" "$app/Contents/Resources/photoatlas.icns"
  cat >"$app/Contents/MacOS/PhotoAtlas" <<EOF
#!/bin/sh
exec "$venv/bin/photoatlas" "\$@"
EOF
  chmod +x "$app/Contents/MacOS/PhotoAtlas"
  cat >"$app/Contents/Info.plist" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>CFBundleName</key><string>PhotoAtlas</string>
  <key>CFBundleDisplayName</key><string>PhotoAtlas</string>
  <key>CFBundleIdentifier</key><string>org.photoatlas.PhotoAtlas</string>
  <key>CFBundleExecutable</key><string>PhotoAtlas</string>
  <key>CFBundleIconFile</key><string>photoatlas.icns</string>
  <key>CFBundlePackageType</key><string>APPL</string>
  <key>CFBundleShortVersionString</key><string>$version</string>
  <key>NSHighResolutionCapable</key><true/>
</dict></plist>
EOF
  record "$app"
}

do_install() {
  choose_torch
  if [ "$dry_run" = 1 ]; then
    say "platform:      $os $arch"
    say "pytorch build: $torch_build"
    say "pytorch index: ${torch_index:-PyPI, the default index}"
    say "program:       $prefix"
    say "command:       $launcher"
    say "from:          $source_spec"
    [ -n "$shared_site" ] && say "reusing:       $shared_site"
    return 0
  fi
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "PhotoAtlas needs Python 3.11 or newer; pass one with --python (found: $("$python" --version 2>&1 || echo none))"
  [ -e "$source_spec" ] || die "nothing to install at $source_spec (--from a checkout or a wheel)"
  mkdir -p "$prefix" "$bin_dir"
  : >"$manifest.new"

  if [ -x "$vpy" ]; then say "== upgrading PhotoAtlas in $prefix"; else say "== installing PhotoAtlas into $prefix"; fi
  [ -x "$vpy" ] || "$python" -m venv "$venv"
  "$vpy" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || warn "could not upgrade pip; going on with $("$vpy" -m pip --version | cut -d' ' -f1,2)"
  local site
  site=$("$vpy" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  if [ -n "$shared_site" ]; then
    [ -d "$shared_site" ] || die "--with-site-packages: $shared_site is not a folder"
    # A .pth line appends the folder to sys.path, after the environment's own packages.
    (cd "$shared_site" && pwd) >"$site/photoatlas-shared-site.pth"
  else
    rm -f "$site/photoatlas-shared-site.pth"
  fi

  if [ "$torch_build" = skip ]; then
    "$vpy" -c "import torch, torchvision" 2>/dev/null || warn "--torch skip, and no PyTorch importable: pip will pick one from its index"
  else
    say "== PyTorch: $torch_build build from ${torch_index:-PyPI}"
    local index_args=()
    [ -n "$torch_index" ] && index_args=(--index-url "$torch_index")
    local installed
    installed=$("$vpy" -c "import torch; print(torch.__version__)" 2>/dev/null || true)
    # Replace PyTorch when the build changed (e.g. CPU to CUDA after a driver was installed).
    local replace=1
    case "$torch_build:$installed" in
      *:) replace=0 ;;
      cpu:*+cpu|mps:*) replace=0 ;;
      cpu:*) [ "$os" = Darwin ] && replace=0 ;;
      cu*:*+"$torch_build") replace=0 ;;
    esac
    [ "$replace" = 1 ] && "$vpy" -m pip uninstall --quiet --yes torch torchvision
    "$vpy" -m pip install --quiet "${index_args[@]}" "$TORCH_REQ" "$TORCHVISION_REQ"
  fi

  say "== PhotoAtlas from $source_spec"
  local wheel=$source_spec tmp=""
  if [ -d "$source_spec" ]; then
    tmp=$(mktemp -d)
    "$vpy" -m pip wheel --quiet --no-deps --wheel-dir "$tmp" "$source_spec"
    wheel=$(ls "$tmp"/photoatlas-*.whl)
  fi
  [ "$deps" = 1 ] && "$vpy" -m pip install --quiet --upgrade "$wheel"
  # Same version number, newer code (a checkout after `git pull`): replace the package files all the same.
  "$vpy" -m pip install --quiet --force-reinstall --no-deps "$wheel"
  [ -n "$tmp" ] && rm -rf "$tmp"
  local version
  version=$("$venv/bin/photoatlas" --version) || die "the installed program does not start"

  cat >"$launcher" <<EOF
#!/bin/sh
# PhotoAtlas launcher, written by installer/install.sh (uninstall: install.sh --uninstall)
exec "$venv/bin/photoatlas" "\$@"
EOF
  chmod +x "$launcher"
  record "$launcher"

  if [ "$desktop" = 1 ]; then
    local resources
    resources=$("$vpy" -c "import engine, pathlib; print(pathlib.Path(engine.__file__).resolve().parent.parent / 'resources')")
    if [ "$os" = Darwin ]; then install_macos_app "$resources"; else install_linux_desktop "$resources"; fi
  fi
  user_data_dirs | sed 's/^/data /' >>"$manifest.new"
  mv "$manifest.new" "$manifest"
  say "== $version installed. Start it from the applications menu, or run: $launcher"
  case ":$PATH:" in *":$bin_dir:"*) ;; *) say "   ($bin_dir is not on your PATH: add it to run plain \`photoatlas\`)" ;; esac
  check_system_libraries || true
}

do_uninstall() {
  [ -f "$manifest" ] || die "no PhotoAtlas installation at $prefix (use --prefix if it was installed elsewhere)"
  local data=() line
  while IFS= read -r line; do [ -n "$line" ] && data+=("$line"); done < <(user_data_dirs)
  while IFS= read -r line; do
    case "$line" in
      "data "*) ;;
      /*) rm -rf -- "$line" ;;
    esac
  done <"$manifest"
  rm -rf -- "$venv" "$manifest"
  rmdir -- "$prefix" 2>/dev/null || true
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" 2>/dev/null || true
  say "PhotoAtlas is uninstalled. Your photos were not touched."

  local existing=() dir
  for dir in "${data[@]}"; do [ -d "$dir" ] && existing+=("$dir"); done
  [ ${#existing[@]} -gt 0 ] || return 0
  local answer=$purge
  if [ "$answer" = ask ]; then
    say "PhotoAtlas's own data is still here: catalogs (albums, names, search index), thumbnails, downloaded models:"
    printf '  %s\n' "${existing[@]}"
    printf 'Delete it too? Your photos are elsewhere and are not touched. [y/N] '
    answer=no
    if read -r reply; then case "$reply" in [yY]|[yY][eE][sS]) answer=yes ;; esac; fi
    [ -t 0 ] || printf '\n'
  fi
  if [ "$answer" = yes ]; then
    rm -rf -- "${existing[@]}"
    say "Deleted the catalogs and caches."
  else
    say "Kept the catalogs and caches; a later install finds them again."
  fi
}

case "$action" in
  uninstall) do_uninstall ;;
  check) check_system_libraries ;;
  *) do_install ;;
esac
