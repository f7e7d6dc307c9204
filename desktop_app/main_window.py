"""The main window: album sidebar, thumbnail grid, toolbar (add, re-cluster, undo, redo, search), status bar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.about import app_icon, show_about
from desktop_app.album_actions import AlbumActions
from desktop_app.coding_length_chart import attach_curve_chart
from desktop_app.duplicates_view import DuplicatesView
from desktop_app.history_actions import HistoryActions
from desktop_app.messages import show_error
from desktop_app.model_banner import ModelBanner
from desktop_app.models import (
    ALBUM_ORDER_KEY,
    ALBUM_ORDERS,
    DEFAULT_ALBUM_ORDER,
    AlbumListModel,
    PhotoGridModel,
    SidebarEntry,
)
from desktop_app.notice_bar import NoticeBar
from desktop_app.operation_bar import OperationBar
from desktop_app.photo_actions import PhotoActions
from desktop_app.pickers import ask_yes_no, choose_folders
from desktop_app.service import LibraryService, ReclusterMode
from desktop_app.settings_dialog import (
    CACHE_MB_KEY,
    WATCH_KEY,
    SettingsChoice,
    SettingsDialog,
    memory_budget_mb,
)
from desktop_app.sidebar import AlbumSidebar
from desktop_app.skipped_dialog import SkippedFilesDialog
from desktop_app.thumbnail_grid import DEFAULT_ZOOM, ThumbnailGrid
from desktop_app.thumbnails import ThumbnailLoader
from desktop_app.welcome import WelcomeView
from desktop_app.wording import summary_for_window

ALL_PHOTOS = ("all", None)
MODEL_CHECK_DELAY_MS = 500


def describe_watching(modes: dict[object, str]) -> tuple[str, str]:
    """The status-bar text and tooltip for how the folders are watched ("" when not watching)."""
    if not modes:
        return "", ""
    count = len(modes)
    polled = sum(mode == "polling" for mode in modes.values())
    away = sum(mode == "unavailable" for mode in modes.values())
    text = f"Watching {count} folder{'s' if count != 1 else ''}"
    notes = [
        f"{polled} polled (no change events there, e.g. a network drive)" if polled else "",
        f"{away} not available (unplugged?): its photos are kept" if away else "",
    ]
    notes = [n for n in notes if n]
    if notes:
        text += " · " + ", ".join(notes)
    tip = "\n".join(f"{folder}: {mode}" for folder, mode in modes.items())
    return text, tip


class MainWindow(QMainWindow):
    """The PhotoAtlas window over one `LibraryService`.

    Args:
        service: the window's only way to the engine.
        settings: where window geometry is remembered (the application's QSettings by default).
    """

    def __init__(self, service: LibraryService, settings: QSettings | None = None) -> None:
        super().__init__()
        self.service = service
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle(service.directory.name)  # Qt appends " — PhotoAtlas", the display name
        self.setWindowIcon(app_icon())
        self._search_query: str | None = None
        self._search_ids: list[int] = []  # the last results shown, to come back to from an opened stack
        self._before_search: tuple[str, int | None] = ALL_PHOTOS
        self._reloading = False

        self.loader = ThumbnailLoader(
            service.thumbnail_file, max_bytes=memory_budget_mb(self.settings) * 1024 * 1024, parent=self
        )
        self.album_model = AlbumListModel(service, self.loader, self)
        self.album_model.set_order(str(self.settings.value(ALBUM_ORDER_KEY, DEFAULT_ALBUM_ORDER)))
        self.grid_model = PhotoGridModel(self.loader, service.photo_path, self, badge=service.photo_badge)
        self.sidebar = AlbumSidebar(self.album_model)
        self.grid = ThumbnailGrid(self.loader, self.grid_model)
        # Beside the sidebar: the photo grid, or the Duplicates list (a list of files, not of photos).
        self.duplicates_view = DuplicatesView(service)
        self.content = QStackedWidget()
        self.content.addWidget(self.grid)
        self.content.addWidget(self.duplicates_view)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.content)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 900])
        self.welcome = WelcomeView()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.splitter)
        self.model_banner = ModelBanner()
        self.recluster_notice = NoticeBar("Re-cluster now")
        self.recluster_notice.setObjectName("reclusterNotice")
        self.summary_notice = NoticeBar(None, "OK")
        self.summary_notice.setObjectName("summaryNotice")
        self.show_skipped_button = self.summary_notice.add_button("Show skipped files")
        self.show_skipped_button.clicked.connect(self.open_skipped_files)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.model_banner)
        column.addWidget(self.recluster_notice)
        column.addWidget(self.summary_notice)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.album_actions = AlbumActions(service, self.sidebar, self)
        self.history_actions = HistoryActions(service, self.statusBar(), self.summary_notice, self)
        self.undo_action = self.history_actions.undo
        self.redo_action = self.history_actions.redo
        self.photo_actions = PhotoActions(
            service, self.grid, self._grid_entry, lambda: self.album_model.entries(), self
        )
        self._build_toolbar()
        self._build_menus()
        self.operation_bar = OperationBar(service)
        self.statusBar().addPermanentWidget(self.operation_bar)
        self.watch_label = QLabel()
        self.watch_label.setObjectName("watchLabel")
        self.statusBar().addPermanentWidget(self.watch_label)

        service.photosChanged.connect(self._on_photos_changed)
        service.albumsChanged.connect(self._on_albums_changed)
        service.operationFinished.connect(self._on_finished)
        service.operationFailed.connect(lambda message, details: show_error(self, message, details=details))
        service.operationCancelled.connect(lambda message: self.statusBar().showMessage(message, 10_000))
        service.searchFinished.connect(self._show_search_results)
        service.busyChanged.connect(self._on_busy)
        service.modelMissing.connect(
            lambda reason: self.model_banner.show_missing(reason, self.service.settings.offline)
        )
        service.modelReady.connect(self.model_banner.hide)
        # With the weights here, albums whose naming a stop interrupted get their names now.
        service.modelReady.connect(service.name_pending_albums)
        self.model_banner.downloadRequested.connect(self.service.download_model)
        self.model_banner.fileChosen.connect(self.service.use_weights_file)
        service.watchReported.connect(self._on_watch_report)
        service.watchingChanged.connect(self._show_watch_state)
        self.recluster_notice.accepted.connect(lambda: self.recluster("auto"))
        self.sidebar.selectionModel().currentChanged.connect(self._on_current_changed)
        self.sidebar.clicked.connect(lambda _index: self._show_entry(self.sidebar.current_entry()))
        self.welcome.chooseFoldersRequested.connect(self.add_folder)
        self.sidebar.photosDropped.connect(self._on_photos_dropped)
        self.sidebar.albumsDropped.connect(self._on_albums_dropped)
        self.grid.view.selectionModel().selectionChanged.connect(lambda *_: self.photo_actions.update_enabled())
        self.grid.backRequested.connect(self._leave_stack)

        self._restore_geometry()
        self._update_page()
        self.sidebar.select_key(ALL_PHOTOS)
        # After the first paint: the check imports open_clip on a pool thread.
        self._model_check = QTimer(self, singleShot=True, interval=MODEL_CHECK_DELAY_MS)
        self._model_check.timeout.connect(self.service.check_model)
        self._model_check.start()
        self._ensure_watching()

    # -- construction ----------------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(toolbar)

        self.add_folder_action = QAction("Add folder…", self)
        self.add_folder_action.setShortcut(QKeySequence.StandardKey.Open)
        self.add_folder_action.triggered.connect(self.add_folder)
        toolbar.addAction(self.add_folder_action)

        self.recluster_action = QAction("Re-cluster", self)
        self.recluster_action.setToolTip("Sort the photos into albums again; your names, merges and pins stay")
        self.recluster_action.triggered.connect(lambda: self.recluster("auto"))
        menu = QMenu(self)
        for text, mode in (("Auto", "auto"), ("Fewer albums", "fewer"), ("More albums", "more")):
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False, m=mode: self.recluster(m))
        menu.addSeparator()
        self.refine_action = menu.addAction("Refine from your corrections (DAC)")
        self.refine_action.setToolTip("Learn from the photos you moved and sort the others like them")
        self.refine_action.triggered.connect(self.service.refine)
        self.curve_chart = attach_curve_chart(menu, self.service.coding_length_curve, self.recluster)
        self.recluster_button = QToolButton()
        self.recluster_button.setDefaultAction(self.recluster_action)
        self.recluster_button.setMenu(menu)
        self.recluster_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        toolbar.addWidget(self.recluster_button)

        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)

        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search photos, e.g. dog on a beach")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setFixedWidth(300)
        self.search_box.returnPressed.connect(self.search)
        self.search_box.textChanged.connect(self._on_search_text)
        toolbar.addWidget(self.search_box)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.add_folder_action)
        self.rescan_action = file_menu.addAction("Rescan folders")
        self.rescan_action.setShortcut(QKeySequence("F5"))
        self.rescan_action.setToolTip("Look for new, changed and removed photos in your folders and analyse them")
        self.rescan_action.triggered.connect(self.service.rescan)
        self.skipped_action = file_menu.addAction("Skipped files…")
        self.skipped_action.setToolTip("Files that were not added, and why; try them again once fixed")
        self.skipped_action.triggered.connect(self.open_skipped_files)
        file_menu.addSeparator()
        self.settings_action = file_menu.addAction("Settings…")
        # QKeySequence.Preferences is bound on macOS only: Ctrl+, everywhere, shown in the menu.
        shortcuts = [QKeySequence("Ctrl+,")]
        shortcuts += [k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences) if k not in shortcuts]
        self.settings_action.setShortcuts(shortcuts)
        self.settings_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.settings_action.triggered.connect(self.open_settings)
        self.download_action = file_menu.addAction("Download the CLIP model")
        self.download_action.triggered.connect(self.service.download_model)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addAction(self.history_actions.history)
        edit_menu.addSeparator()
        find = edit_menu.addAction("Search…")
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason))
        album_menu = bar.addMenu("&Album")
        for action in (self.album_actions.rename, self.album_actions.merge, self.album_actions.pin):
            album_menu.addAction(action)
        album_menu.addAction(self.album_actions.export)
        album_menu.addSeparator()
        order_menu = album_menu.addMenu("Sort albums by")
        group = QActionGroup(self)
        self.album_order_actions: list[QAction] = []
        for order, text in ALBUM_ORDERS.items():
            action = order_menu.addAction(text)
            action.setData(order)
            action.setCheckable(True)
            action.setChecked(order == self.album_model.order)
            action.setActionGroup(group)
            action.triggered.connect(lambda _checked=False, o=order: self.set_album_order(o))
            self.album_order_actions.append(action)
        album_menu.addSeparator()
        album_menu.addAction(self.recluster_action)
        self.refine_names_action = album_menu.addAction("Refine album names")
        self.refine_names_action.triggered.connect(self.service.refine_names)
        album_menu.aboutToShow.connect(self.album_actions.update_enabled)
        album_menu.aboutToShow.connect(self._update_naming_item)
        photo_menu = bar.addMenu("&Photo")
        actions = self.photo_actions
        for action in (actions.open, actions.new_album, actions.remove, actions.set_cover):
            photo_menu.addAction(action)
        photo_menu.addSeparator()
        photo_menu.addAction(actions.show_folder)
        photo_menu.addAction(actions.open_external)
        photo_menu.aboutToShow.connect(actions.update_enabled)
        help_menu = bar.addMenu("&Help")
        self.about_action = help_menu.addAction("About PhotoAtlas")
        self.about_action.triggered.connect(lambda: show_about(self, self.service.directory))

    def _update_naming_item(self) -> None:
        """The Album menu's naming item: Name albums while the albums wait for their first names, else Refine
        album names; enabled only when it has something to do."""
        due = self.service.naming_offered()
        if due == "quick":
            self.refine_names_action.setText("Name albums")
            self.refine_names_action.setToolTip("Give the albums names from the vocabulary; names you gave stay")
        else:
            self.refine_names_action.setText("Refine album names")
            self.refine_names_action.setToolTip(
                "Name the albums again from every way of describing each term (slower, better names); "
                "names you gave stay"
            )
        self.refine_names_action.setEnabled(due is not None)

    # -- commands --------------------------------------------------------------------------------

    def add_folder(self) -> None:
        folders = choose_folders(self)
        if folders:
            self.service.index_folders(folders)

    def set_album_order(self, order: str) -> None:
        """Sort the sidebar's albums by "name", "date" or "size" (remembered), keeping the selection."""
        self.settings.setValue(ALBUM_ORDER_KEY, order)
        for action in self.album_order_actions:
            action.setChecked(action.data() == order)
        self._keep_selection(lambda: self.album_model.set_order(order))

    def _keep_selection(self, change: Callable[[], None]) -> bool:
        """Run a change of the sidebar's rows, then select again what was selected; False if the current is gone."""
        current = self.sidebar.current_entry()
        key = current.key if current is not None else ALL_PHOTOS
        selected = [e.key for e in self.sidebar.selected_entries()]
        self._reloading = True
        try:
            change()
            if self._search_query is not None:
                return True
            if not self.sidebar.select_key(key):
                self.sidebar.select_key(ALL_PHOTOS)
                return False
            flag = QItemSelectionModel.SelectionFlag.Select
            for other in selected:
                row = self.album_model.row_of(other)
                if other != key and row is not None:
                    self.sidebar.selectionModel().select(self.album_model.index(row), flag)
            return True
        finally:
            self._reloading = False

    def open_skipped_files(self) -> SkippedFilesDialog:
        """The Skipped files window (one at a time)."""
        dialog = self.findChild(SkippedFilesDialog)
        if dialog is None:
            dialog = SkippedFilesDialog(self.service, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def remove_folder(self, folder: str) -> bool:
        """Stop following a photo folder, after asking; its files stay on disk."""
        count = len(self.service.folder_photo_ids(folder))
        question = (
            f"Remove {folder} from the library?\n\nIts {count} photo{'s' if count != 1 else ''} leave PhotoAtlas; "
            "the files themselves are not touched, and adding the folder again brings them back to their albums."
        )
        return ask_yes_no(self, "Remove folder", question) and self.service.remove_folder(folder)

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(
            self.service.settings,
            self.service.photo_folders(),
            self.service.thumbnail_directory,
            self.settings,
            self,
            describe_device=self.service.describe_device,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.addFolderRequested.connect(self.add_folder)
        dialog.removeFolderRequested.connect(self.remove_folder)
        dialog.folder_source = self.service.photo_folders
        self.service.photosChanged.connect(dialog.reload_folders)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.choice()))
        dialog.open()
        return dialog

    def apply_settings(self, choice: SettingsChoice) -> None:
        """The window's own settings at once; the engine's unless a long operation is running (it says so)."""
        self.settings.setValue(CACHE_MB_KEY, choice.memory_mb)
        self.settings.setValue(WATCH_KEY, choice.watch)
        self.loader.set_memory_budget(choice.memory_mb * 1024 * 1024)
        if choice.watch:
            self._ensure_watching()
        else:
            self.service.stop_watching()
            self._show_watch_state()
        if choice.engine != self.service.settings:
            # A new model is tried on one photo first, then embeds the photos (the note in Settings says so).
            self.service.apply_settings(choice.engine)

    def recluster(self, mode: ReclusterMode) -> None:
        self.service.recluster(mode)

    def search(self) -> None:
        query = " ".join(self.search_box.text().split())
        current = self.sidebar.current_entry()
        if query and self.service.search(query):
            if current is not None:
                self._before_search = current.key
            self._search_query = query

    # -- reactions -------------------------------------------------------------------------------

    def _grid_entry(self) -> SidebarEntry | None:
        """The sidebar entry the grid shows; None while it shows search results."""
        return None if self._search_query is not None else self.sidebar.current_entry()

    def _on_photos_dropped(self, photo_ids: list[int], target: SidebarEntry) -> None:
        if target.kind == "other":
            done = self.service.remove(photo_ids)
        elif target.album_id is not None:
            done = self.service.move(photo_ids, target.album_id)
        else:
            return
        if done:
            count = len(photo_ids)
            where = "Other" if target.kind == "other" else f"“{target.title}”"
            self.statusBar().showMessage(f"Moved {count} photo{'s' if count != 1 else ''} to {where}", 6_000)

    def _on_albums_dropped(self, album_ids: list[int], target: SidebarEntry) -> None:
        sources = [a for a in album_ids if a != target.album_id]
        if target.album_id is not None and sources and self.service.merge(sources, target.album_id):
            self.sidebar.select_key(target.key)
            self.statusBar().showMessage(f"Merged into “{target.title}” (Ctrl+Z undoes it)", 6_000)

    def _on_photos_changed(self) -> None:
        self.loader.clear()  # a re-indexed photo may have a new thumbnail under the same id
        self.grid.view.viewport().update()

    def _ensure_watching(self) -> None:
        """Watch the photo folders (unless the user turned it off) once the library has any."""
        enabled = self.settings.value(WATCH_KEY, True, type=bool)
        if enabled and not self.service.watching and self.service.has_photo_folders():
            self.service.start_watching()
        self._show_watch_state()

    def _show_watch_state(self) -> None:
        """ "Watching 3 folders" in the status bar, saying which are polled (network) or not there (unplugged)."""
        modes = self.service.watch_modes()
        text, tip = describe_watching(modes)
        self.watch_label.setText(text)
        self.watch_label.setToolTip(tip)

    def _on_watch_report(self, lines: list[str], suggest_recluster: bool) -> None:
        self._show_watch_state()
        if lines:
            self.statusBar().showMessage(lines[0], 10_000)
        if suggest_recluster:
            self.recluster_notice.show_notice(
                "Many new photos fit no album yet and wait in Other. Re-clustering sorts them; "
                "your names, merges, moves and pins stay as they are."
            )

    def _on_albums_changed(self) -> None:
        selected_photos = self.grid.selected_photo_ids()
        self._keep_selection(self.album_model.reload)
        self._update_page()
        self._ensure_watching()
        if self._search_query is None:
            self._show_entry(self.sidebar.current_entry())
            self.grid.select_photo_ids(selected_photos)  # those still shown stay selected

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._reloading and current.isValid():
            self._show_entry(self.album_model.entry(current.row()))

    def _show_entry(self, entry: SidebarEntry | None) -> None:
        if entry is None:
            return
        if self._search_query is not None:  # leaving the search results for an album
            self._search_query = None
            self.search_box.blockSignals(True)
            self.search_box.clear()
            self.search_box.blockSignals(False)
        if entry.kind == "duplicates":
            self.duplicates_view.reload()
            self.content.setCurrentWidget(self.duplicates_view)
            self.album_actions.update_enabled()
            return
        self.content.setCurrentWidget(self.grid)
        if entry.kind == "all":
            ids = self.service.all_photo_ids()
        elif entry.kind == "folder":
            assert entry.folder is not None
            ids = self.service.folder_photo_ids(entry.folder)
        elif entry.kind == "year":
            ids = self.service.photos_by_year().get(entry.year or "", [])
        elif entry.kind == "place" and entry.place is not None:
            ids = self.service.place_photo_ids(entry.place.country, entry.place.city)
        else:
            album = self.service.album(entry.album.id if entry.album else None)
            ids = album.members if album else []
        # A burst or a set of copies shows as one tile with a count; opening it shows the rest.
        self.grid.show_photos(self.service.fold(ids), entry.title, "No photos here.", count=len(ids))
        self.album_actions.update_enabled()

    def _leave_stack(self) -> None:
        """Back from an opened stack to the album, folder, place or search results it was opened from."""
        if self._search_query is not None:
            self._show_search_results(self._search_query, self._search_ids)
        else:
            self._show_entry(self.sidebar.current_entry())

    def _show_search_results(self, query: str, ids: list[int]) -> None:
        if query != self._search_query:
            return  # the user has moved on
        self._search_ids = ids
        self.sidebar.selectionModel().clearCurrentIndex()
        self.sidebar.clearSelection()
        self.service.unfold()  # the best matches one by one, copies included
        self.content.setCurrentWidget(self.grid)
        self.grid.show_photos(
            ids, f"Search: “{query}”", f"No good matches for “{query}”.\nTry other words, or fewer of them."
        )

    def _on_search_text(self, text: str) -> None:
        if not text.strip() and self._search_query is not None:
            self._search_query = None
            if not self.sidebar.select_key(self._before_search):
                self.sidebar.select_key(ALL_PHOTOS)
            self._show_entry(self.sidebar.current_entry())

    def _on_finished(self, lines: list[str]) -> None:
        """A long operation's summary: its first sentence in the status bar, its sentences in a strip to read, and
        the engine's lines of counts and seconds behind the strip's "Show details"."""
        if lines:
            shown, details = summary_for_window(lines)
            shown = shown or lines
            self.statusBar().showMessage(shown[0], 15_000)
            self.statusBar().setToolTip("\n".join(lines))
            self.summary_notice.show_notice("\n".join(shown), "\n".join(details))
            self.show_skipped_button.setVisible(any(line.startswith("skipped ") for line in lines))

    def _on_busy(self, _busy: bool) -> None:
        self._update_actions()

    def _update_page(self) -> None:
        self.pages.setCurrentWidget(self.splitter if self.service.has_photo_folders() else self.welcome)
        self._update_actions()

    def _update_actions(self) -> None:
        idle = not self.service.busy
        has_photos = self.pages.currentWidget() is self.splitter
        self.add_folder_action.setEnabled(idle)
        self.rescan_action.setEnabled(idle and self.service.has_photo_folders())
        self.welcome.button.setEnabled(idle)
        self.recluster_action.setEnabled(idle and has_photos)
        self.recluster_button.setEnabled(idle and has_photos)
        self.search_box.setEnabled(has_photos)
        self.history_actions.update_enabled()

    # -- geometry --------------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 780)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        self.grid.set_zoom(int(self.settings.value("grid/zoom", DEFAULT_ZOOM)))

    def save_geometry(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("grid/zoom", self.grid.zoom.value())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._model_check.stop()
        self.save_geometry()
        self.loader.wait_for_done()
        super().closeEvent(event)
