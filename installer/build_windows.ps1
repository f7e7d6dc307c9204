<#
.SYNOPSIS
    Build the Windows one-folder bundle of PhotoAtlas with PyInstaller, then its installer with Inno Setup.

.DESCRIPTION
    Needs: Python 3.11+ (python.org or the py launcher), and for the setup program Inno Setup 6 (ISCC.exe on
    PATH or in its default folder). Produces DIST\PhotoAtlas\PhotoAtlas.exe (the window), photoatlas-cli.exe
    (the commands) and, with Inno Setup, DIST\PhotoAtlas-VERSION-setup.exe, a per-user installer with a
    Start-menu entry and an uninstaller (see photoatlas.iss).

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File installer\build_windows.ps1
    powershell -ExecutionPolicy Bypass -File installer\build_windows.ps1 -TorchIndex https://download.pytorch.org/whl/cu128
#>
[CmdletBinding()]
param(
    # Build with this interpreter, whose environment already has PhotoAtlas's dependencies; default: a fresh
    # build environment in -Work with PyTorch from -TorchIndex.
    [string]$Python = "",
    [string]$Dist = (Join-Path (Split-Path -Parent $PSScriptRoot) "dist"),
    [string]$Work = (Join-Path (Split-Path -Parent $PSScriptRoot) "build\bundle"),
    # CPU by default: a CUDA build adds about 3 GB to the bundle.
    [string]$TorchIndex = "https://download.pytorch.org/whl/cpu",
    # Skip the Inno Setup step.
    [switch]$NoSetup
)
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot

function Invoke-Checked {
    $program, $rest = $args
    & $program @rest
    if ($LASTEXITCODE -ne 0) { throw "$program $($rest -join ' ') failed with exit code $LASTEXITCODE" }
}

New-Item -ItemType Directory -Force -Path $Dist, $Work | Out-Null
if (-not $Python) {
    $Python = Join-Path $Work "venv\Scripts\python.exe"
    if (-not (Test-Path $Python)) { Invoke-Checked py -3 -m venv (Join-Path $Work "venv") }
    Invoke-Checked $Python -m pip install --quiet --upgrade pip
    # The same ranges as pyproject.toml's dependencies.
    Invoke-Checked $Python -m pip install --quiet --index-url $TorchIndex "torch>=2.14,<2.15" "torchvision>=0.29,<0.30"
    Invoke-Checked $Python -m pip install --quiet $Root
}
& $Python -c "import PyInstaller" 2>$null
if ($LASTEXITCODE -ne 0) { Invoke-Checked $Python -m pip install --quiet "pyinstaller>=6" }

$watch = [Diagnostics.Stopwatch]::StartNew()
Invoke-Checked $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath $Dist `
    --workpath (Join-Path $Work "pyinstaller") (Join-Path $Root "installer\photoatlas.spec")
$version = ((& (Join-Path $Dist "PhotoAtlas\photoatlas-cli.exe") --version) -split " ")[-1]
"== built PhotoAtlas $version in $([int]$watch.Elapsed.TotalSeconds) s: $Dist\PhotoAtlas"

if (-not $NoSetup) {
    $iscc = Get-Command ISCC.exe -ErrorAction SilentlyContinue
    $candidates = @($iscc.Source, "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")
    $iscc = $candidates | Where-Object { $_ -and (Test-Path $_) } | Select-Object -First 1
    if (-not $iscc) { throw "Inno Setup 6 (ISCC.exe) not found: install it from https://jrsoftware.org, or pass -NoSetup" }
    Invoke-Checked $iscc "/DAppVersion=$version" "/DBundleDir=$Dist\PhotoAtlas" "/DOutputDir=$Dist" `
        "/DIconFile=$Root\resources\icons\photoatlas.ico" (Join-Path $Root "installer\photoatlas.iss")
    "== setup program: $Dist\PhotoAtlas-$version-setup.exe"
}
