<#
.SYNOPSIS
    PhotoAtlas per-user installer for Windows (no administrator rights needed).

.DESCRIPTION
    Creates a private Python environment, installs the PyTorch build that fits the machine (CUDA when an NVIDIA
    driver is present, CPU otherwise), installs PhotoAtlas into it, adds a Start-menu shortcut with the
    PhotoAtlas icon and a `photoatlas` command on the user's PATH. Running it again upgrades in place.
    -Uninstall removes the program, its shortcut and command; it asks before deleting the catalogs and caches
    (never the photos).

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File installer\install.ps1
    powershell -ExecutionPolicy Bypass -File installer\install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    # Where the program lives.
    [string]$Prefix = (Join-Path $env:LOCALAPPDATA "Programs\PhotoAtlas"),
    # What to install: a PhotoAtlas checkout or a wheel (default: this script's checkout).
    [string]$From = (Split-Path -Parent $PSScriptRoot),
    # The Python (3.11 or newer) the private environment is made from (default: the py launcher, else python).
    [string]$Python = "",
    # Which PyTorch build; skip keeps the one the environment can already import.
    [ValidateSet("auto", "cpu", "cuda", "skip")][string]$Torch = "auto",
    # The wheel index to take PyTorch from (default: chosen by -Torch).
    [string]$TorchIndex = $env:PHOTOATLAS_TORCH_INDEX,
    # Reuse the packages of an existing environment's site-packages (e.g. a conda env with PyTorch).
    [string]$WithSitePackages = "",
    # Install PhotoAtlas alone, trusting that its dependencies are importable (with -WithSitePackages).
    [switch]$NoDeps,
    # No Start-menu shortcut and no PATH entry.
    [switch]$NoShortcut,
    # Print what would be done and stop.
    [switch]$DryRun,
    [switch]$Uninstall,
    # With -Uninstall: delete (or keep) catalogs, thumbnails and downloaded models without asking.
    [switch]$Purge,
    [switch]$KeepData
)
$ErrorActionPreference = "Stop"

# Keep in step with pyproject.toml's dependencies.
$TorchReq = "torch>=2.14,<2.15"
$TorchvisionReq = "torchvision>=0.29,<0.30"
# The CUDA builds published for that PyTorch, newest first; a driver runs builds up to its own CUDA version.
$CudaBuilds = if ($env:PHOTOATLAS_CUDA_BUILDS) { $env:PHOTOATLAS_CUDA_BUILDS -split " " } else { @("cu130", "cu128", "cu126") }
$IndexBase = "https://download.pytorch.org/whl"

$Venv = Join-Path $Prefix "venv"
$VPy = Join-Path $Venv "Scripts\python.exe"
$Manifest = Join-Path $Prefix "installed-files"
$BinDir = Join-Path $Prefix "bin"
$Shortcut = Join-Path ([Environment]::GetFolderPath("Programs")) "PhotoAtlas.lnk"

function Invoke-Checked {
    # Run a program with the remaining arguments; stop when it fails (native programs do not throw).
    # A plain function: its arguments, "-m" included, arrive untouched in $args.
    $program, $rest = $args
    & $program @rest
    if ($LASTEXITCODE -ne 0) { throw "$program $($rest -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-DriverCudaVersion {
    $smi = Get-Command nvidia-smi -ErrorAction SilentlyContinue
    if (-not $smi) { return $null }
    $text = (& $smi.Source 2>$null) -join "`n"
    if ($text -match "CUDA Version:\s*(\d+)\.(\d+)") { return [int]$Matches[1] * 10 + [int]$Matches[2] }
    return $null
}

function Select-Torch {
    $build = $Torch
    if ($build -eq "auto") { $build = if (Get-DriverCudaVersion) { "cuda" } else { "cpu" } }
    if ($build -eq "cuda") {
        $driver = Get-DriverCudaVersion
        if (-not $driver) { throw "-Torch cuda: no working NVIDIA driver found (nvidia-smi); use -Torch cpu" }
        $build = $CudaBuilds | Where-Object { [int]$_.Substring(2) -le $driver } | Select-Object -First 1
        if (-not $build) {
            Write-Warning "the NVIDIA driver is older than PyTorch's CUDA builds: installing the CPU build"
            $build = "cpu"
        }
    }
    $index = $TorchIndex
    if (-not $index -and $build -ne "skip") { $index = "$IndexBase/$build" }
    return @{ Build = $build; Index = $index }
}

function Get-UserDataDirs {
    # Where PhotoAtlas keeps catalogs and caches (engine/paths.py, via platformdirs).
    if (Test-Path $VPy) {
        $dirs = & $VPy -c "from engine.paths import default_library_dir as d, model_cache_dir as m; print(d().parent); print(m().parent)" 2>$null
        if ($LASTEXITCODE -eq 0 -and $dirs) { return @($dirs) }
    }
    return @((Join-Path $env:LOCALAPPDATA "PhotoAtlas"))
}

function Find-Python {
    if ($Python) { return @($Python) }
    if (Get-Command py -ErrorAction SilentlyContinue) { return @("py", "-3") }
    return @("python")
}

function Install-PhotoAtlas {
    $plan = Select-Torch
    if ($DryRun) {
        "pytorch build: $($plan.Build)"
        "pytorch index: $(if ($plan.Index) { $plan.Index } else { 'PyPI' })"
        "program:       $Prefix"
        "from:          $From"
        return
    }
    $py = Find-Python
    $pyArgs = @($py | Select-Object -Skip 1)
    & $py[0] @pyArgs -c "import sys; sys.exit(sys.version_info < (3, 11))"
    if ($LASTEXITCODE -ne 0) { throw "PhotoAtlas needs Python 3.11 or newer (https://www.python.org); pass one with -Python" }
    if (-not (Test-Path $From)) { throw "nothing to install at $From (-From a checkout or a wheel)" }
    New-Item -ItemType Directory -Force -Path $Prefix, $BinDir | Out-Null
    $created = New-Object System.Collections.Generic.List[string]

    if (Test-Path $VPy) { "== upgrading PhotoAtlas in $Prefix" } else {
        "== installing PhotoAtlas into $Prefix"
        Invoke-Checked $py[0] @pyArgs -m venv $Venv
    }
    & $VPy -m pip install --quiet --upgrade pip 2>$null | Out-Null
    $site = (& $VPy -c "import sysconfig; print(sysconfig.get_path('purelib'))").Trim()
    $pth = Join-Path $site "photoatlas-shared-site.pth"
    if ($WithSitePackages) { Set-Content -Path $pth -Value (Resolve-Path $WithSitePackages).Path -Encoding ASCII }
    elseif (Test-Path $pth) { Remove-Item $pth }

    if ($plan.Build -ne "skip") {
        "== PyTorch: $($plan.Build) build from $($plan.Index)"
        $installed = (& $VPy -c "import torch; print(torch.__version__)" 2>$null)
        if ($installed -and -not $installed.EndsWith("+$($plan.Build)")) {
            Invoke-Checked $VPy -m pip uninstall --quiet --yes torch torchvision  # the build changed
        }
        Invoke-Checked $VPy -m pip install --quiet --index-url $plan.Index $TorchReq $TorchvisionReq
    }

    "== PhotoAtlas from $From"
    $wheel = $From
    $tmp = $null
    if (Test-Path $From -PathType Container) {
        $tmp = Join-Path ([IO.Path]::GetTempPath()) ("photoatlas-" + [guid]::NewGuid())
        Invoke-Checked $VPy -m pip wheel --quiet --no-deps --wheel-dir $tmp $From
        $wheel = (Get-ChildItem $tmp -Filter "photoatlas-*.whl" | Select-Object -First 1).FullName
    }
    if (-not $NoDeps) { Invoke-Checked $VPy -m pip install --quiet --upgrade $wheel }
    # Same version number, newer code: replace the package files all the same.
    Invoke-Checked $VPy -m pip install --quiet --force-reinstall --no-deps $wheel
    if ($tmp) { Remove-Item -Recurse -Force $tmp }
    $version = (& (Join-Path $Venv "Scripts\photoatlas.exe") --version)
    if ($LASTEXITCODE -ne 0) { throw "the installed program does not start" }

    # The command for terminals, on the user's PATH.
    $cmd = Join-Path $BinDir "photoatlas.cmd"
    Set-Content -Path $cmd -Encoding ASCII -Value "@`"%~dp0..\venv\Scripts\photoatlas.exe`" %*"
    $created.Add($cmd)
    if (-not $NoShortcut) {
        $userPath = [Environment]::GetEnvironmentVariable("Path", "User")
        if (-not (($userPath -split ";") -contains $BinDir)) {
            [Environment]::SetEnvironmentVariable("Path", (($userPath, $BinDir) -ne "" -join ";"), "User")
        }
        $created.Add("path $BinDir")
        # The Start-menu shortcut opens the window without a console (pythonw).
        $resources = (& $VPy -c "import engine, pathlib; print(pathlib.Path(engine.__file__).resolve().parent.parent / 'resources')").Trim()
        $link = (New-Object -ComObject WScript.Shell).CreateShortcut($Shortcut)
        $link.TargetPath = Join-Path $Venv "Scripts\pythonw.exe"
        $link.Arguments = "-m desktop_app.launcher"
        $link.WorkingDirectory = $env:USERPROFILE
        $link.IconLocation = (Join-Path $resources "icons\photoatlas.ico") + ",0"
        $link.Description = "PhotoAtlas: organise your photos into albums"
        $link.Save()
        $created.Add($Shortcut)
    }
    foreach ($dir in Get-UserDataDirs) { $created.Add("data $dir") }
    Set-Content -Path $Manifest -Value $created -Encoding UTF8
    "== $version installed. Start it from the Start menu, or run photoatlas in a new terminal."
}

function Uninstall-PhotoAtlas {
    if (-not (Test-Path $Manifest)) { throw "no PhotoAtlas installation at $Prefix (use -Prefix if it was installed elsewhere)" }
    $data = Get-UserDataDirs
    foreach ($line in Get-Content $Manifest) {
        if ($line.StartsWith("data ")) { continue }
        if ($line.StartsWith("path ")) {
            $dir = $line.Substring(5)
            $userPath = [Environment]::GetEnvironmentVariable("Path", "User")
            [Environment]::SetEnvironmentVariable("Path", (($userPath -split ";") -ne $dir -join ";"), "User")
            continue
        }
        if (Test-Path $line) { Remove-Item -Recurse -Force $line }
    }
    Remove-Item -Recurse -Force $Prefix
    "PhotoAtlas is uninstalled. Your photos were not touched."

    $existing = @($data | Where-Object { Test-Path $_ })
    if ($existing.Count -eq 0) { return }
    $answer = if ($Purge) { "y" } elseif ($KeepData) { "n" } else {
        Write-Host "PhotoAtlas's own data is still here: catalogs (albums, names, search index), thumbnails, downloaded models:"
        $existing | ForEach-Object { Write-Host "  $_" }
        Read-Host "Delete it too? Your photos are elsewhere and are not touched. [y/N]"
    }
    if ($answer -match "^(y|yes)$") {
        $existing | ForEach-Object { Remove-Item -Recurse -Force $_ }
        "Deleted the catalogs and caches."
    } else {
        "Kept the catalogs and caches; a later install finds them again."
    }
}

if ($Uninstall) { Uninstall-PhotoAtlas } else { Install-PhotoAtlas }
