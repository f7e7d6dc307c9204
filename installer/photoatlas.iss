; Inno Setup 6 script: a per-user Windows installer for the PyInstaller bundle of PhotoAtlas.
; Built by installer/build_windows.ps1, which passes the defines below:
;   ISCC /DAppVersion=0.1.0 /DBundleDir=dist\PhotoAtlas /DOutputDir=dist /DIconFile=resources\icons\photoatlas.ico photoatlas.iss
; Installs without administrator rights into %LOCALAPPDATA%\Programs\PhotoAtlas, adds a Start-menu entry (and
; optionally a desktop icon), registers an uninstaller that asks before deleting the user's catalogs and caches
; (%LOCALAPPDATA%\PhotoAtlas), and never touches photos.

#ifndef AppVersion
  #error Pass /DAppVersion=X.Y.Z (build_windows.ps1 does)
#endif
#ifndef BundleDir
  #define BundleDir "..\dist\PhotoAtlas"
#endif
#ifndef OutputDir
  #define OutputDir "..\dist"
#endif
#ifndef IconFile
  #define IconFile "..\resources\icons\photoatlas.ico"
#endif

[Setup]
AppId={{6E0F3B8A-2C1D-4E5F-9A7B-5D4C3B2A1F0E}
AppName=PhotoAtlas
AppVersion={#AppVersion}
AppVerName=PhotoAtlas {#AppVersion}
AppPublisher=PhotoAtlas
DefaultDirName={localappdata}\Programs\PhotoAtlas
DefaultGroupName=PhotoAtlas
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir={#OutputDir}
OutputBaseFilename=PhotoAtlas-{#AppVersion}-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\PhotoAtlas.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; An upgrade replaces the whole program folder, so files of an older version cannot linger.
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\PhotoAtlas"; Filename: "{app}\PhotoAtlas.exe"; WorkingDir: "{userdocs}"
Name: "{autodesktop}\PhotoAtlas"; Filename: "{app}\PhotoAtlas.exe"; WorkingDir: "{userdocs}"; Tasks: desktopicon

[Run]
Filename: "{app}\PhotoAtlas.exe"; Description: "{cm:LaunchProgram,PhotoAtlas}"; Flags: nowait postinstall skipifsilent

[Code]
// Catalogs, thumbnails and downloaded models live in the user's data folder, not in {app}: keep them unless
// the user says otherwise. Photos are never in there and are never touched.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataDir: String;
begin
  if CurUninstallStep = usPostUninstall then
  begin
    DataDir := ExpandConstant('{localappdata}\PhotoAtlas');
    if DirExists(DataDir) and not UninstallSilent() then
      if MsgBox('Also delete PhotoAtlas''s catalogs (albums, names, search index), thumbnails and downloaded models in '
          + DataDir + '?' + #13#10 + #13#10 + 'Your photos are elsewhere and are not touched.',
          mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
        DelTree(DataDir, True, True, True);
  end;
end;
