"""The coding-length curve in the Re-cluster menu: how the number of albums was chosen, and what Fewer / More
albums would pick.

The engine chooses k where the coding length L(k) of the photos' features is lowest, or where the learned
membership's spectrum shows a clear gap (docs/algorithms.md §4); "Fewer albums" and "More albums" re-cluster
into the next-best k below or above it on the same curve. The chart shows that curve with
the current k marked and the two choices as points on it; clicking a choice re-clusters into it, as the menu
entries do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget, QWidgetAction

from desktop_app.qt_compat import emit

_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 14, 14, 24, 42
_POINT_RADIUS = 4.0
_HIT_RADIUS = 10.0
_FEWER_COLOUR = QColor(214, 120, 30)
_MORE_COLOUR = QColor(40, 150, 90)


class CodingLengthChart(QWidget):
    """A small line chart of L(k) against k, the current k filled, the Fewer / More choices as rings.

    Signals:
        choiceClicked(mode): the Fewer ("fewer") or More ("more") point was clicked.
    """

    choiceClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codingLengthChart")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self._lengths: dict[int, float] = {}
        self._k: int | None = None
        self._automatic = True
        self._choices: dict[str, int] = {}
        self._albums: dict[int, int] = {}  # k → albums, where k makes fewer (small or diffuse clusters go to Other)

    # -- data ------------------------------------------------------------------------------------

    def set_curve(self, curve: Any | None) -> None:
        """Show a `CodingLengthCurve` (k, lengths, fewer, more, automatic); None shows nothing."""
        if curve is None:
            self._lengths, self._k, self._choices, self._albums = {}, None, {}, {}
        else:
            self._lengths = {int(k): float(v) for k, v in sorted(curve.lengths.items())}
            self._k = int(curve.k)
            self._automatic = bool(getattr(curve, "automatic", True))
            self._albums = {int(k): int(n) for k, n in getattr(curve, "albums", {}).items()}
            self._choices = {
                mode: int(k) for mode, k in (("fewer", curve.fewer), ("more", curve.more)) if k is not None
            }
        self.setToolTip(self._tooltip())
        self.update()

    @property
    def has_curve(self) -> bool:
        """Whether there is a curve to show (at least two k were tried)."""
        return len(self._lengths) >= 2

    def choices(self) -> dict[str, int]:
        """The k each choice ("fewer", "more") would re-cluster into."""
        return dict(self._choices)

    def albums_at(self, k: int) -> int:
        """How many albums k makes (k, unless some of its groups go to Other)."""
        return self._albums.get(k, k)

    def _tooltip(self) -> str:
        if not self.has_curve or self._k is None:
            return ""
        tried = len(self._lengths)
        lowest = min(self._lengths, key=lambda k: (self._lengths[k], k))
        now = self.albums_at(self._k)
        if lowest == self._k:
            parts = [f"{now} albums now: the lowest coding length of the {tried} numbers tried."]
        elif self._automatic and self._k > lowest:
            # The engine chose more albums than the lowest point: the photos fall into that many clear groups.
            parts = [
                f"{now} albums now: the photos fall into {self._k} clear groups,"
                f" more than the lowest point of the curve ({self.albums_at(lowest)}) would make."
            ]
        elif self._automatic:
            # Fewer than the lowest point: those albums are more distinct in the photos' features (a split undone).
            parts = [
                f"{now} albums now: fewer than the lowest point of the curve ({self.albums_at(lowest)}) would make,"
                " because these albums are clearly more distinct from one another."
            ]
        else:
            parts = [f"{now} albums now, as you chose; the lowest point of the curve is {self.albums_at(lowest)}."]
        if now < self._k:
            groups = self._k - now
            parts.append(f"The photos of {groups} more group{'s' * (groups != 1)} fit no album and wait in Other.")
        if "fewer" in self._choices:
            parts.append(f"Fewer albums: {self.albums_at(self._choices['fewer'])}.")
        if "more" in self._choices:
            parts.append(f"More albums: {self.albums_at(self._choices['more'])}.")
        return " ".join(parts) + " Click a point to re-cluster into it."

    # -- geometry --------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(300, 160)

    def _plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(_MARGIN_LEFT, _MARGIN_TOP, -_MARGIN_RIGHT, -_MARGIN_BOTTOM)

    def point_of(self, k: int) -> QPointF:
        """Where k's point is drawn, in widget coordinates."""
        area = self._plot_rect()
        ks = list(self._lengths)
        low_k, high_k = min(ks), max(ks)
        low, high = min(self._lengths.values()), max(self._lengths.values())
        x = area.left() + (k - low_k) / max(high_k - low_k, 1) * area.width()
        # Lower coding length is better: drawn lower, so the curve's own best k sits at the bottom of the valley.
        y = area.bottom() - (self._lengths[k] - low) / (high - low or 1.0) * area.height()
        return QPointF(x, y)

    def choice_at(self, position: QPointF) -> str | None:
        """The choice ("fewer" or "more") whose point is under `position`, if any."""
        if not self.has_curve:
            return None
        best: tuple[float, str] | None = None
        for mode, k in self._choices.items():
            delta = self.point_of(k) - position
            distance = (delta.x() ** 2 + delta.y() ** 2) ** 0.5
            if distance <= _HIT_RADIUS and (best is None or distance < best[0]):
                best = (distance, mode)
        return best[1] if best else None

    # -- events ----------------------------------------------------------------------------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self.choice_at(event.position())
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        mode = self.choice_at(event.position()) if event.button() == Qt.MouseButton.LeftButton else None
        if mode is not None:
            emit(self.choiceClicked, mode)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()  # a click on the chart must not close the menu it sits in

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        faint = QColor(text)
        faint.setAlpha(110)
        if not self.has_curve:
            painter.setPen(faint)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No albums yet")
            return
        area = self._plot_rect()
        painter.setPen(QPen(faint, 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        ks = list(self._lengths)
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 16),
            Qt.AlignmentFlag.AlignLeft,
            str(ks[0]),
        )
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 16),
            Qt.AlignmentFlag.AlignRight,
            str(ks[-1]),
        )
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 16),
            Qt.AlignmentFlag.AlignHCenter,
            "albums",
        )
        painter.drawText(
            QRectF(0, 2, self.width(), 16),
            Qt.AlignmentFlag.AlignHCenter,
            "coding length (lower = more compact)",
        )

        path = QPainterPath(self.point_of(ks[0]))
        for k in ks[1:]:
            path.lineTo(self.point_of(k))
        painter.setPen(QPen(text, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setBrush(text)
        painter.setPen(Qt.PenStyle.NoPen)
        for k in ks:
            painter.drawEllipse(self.point_of(k), 1.8, 1.8)

        highlight = palette.color(QPalette.ColorRole.Highlight)
        marks = [(mode, self._choices[mode], colour, False) for mode, colour in self._choice_colours()]
        if self._k is not None and self._k in self._lengths:
            marks.append(("now", self._k, highlight, True))
        for _, k, colour, filled in marks:
            point = self.point_of(k)
            painter.setPen(QPen(colour, 2))
            painter.setBrush(colour if filled else Qt.BrushStyle.NoBrush)
            painter.drawEllipse(point, _POINT_RADIUS + 1, _POINT_RADIUS + 1)
        # The legend under the axis: neighbouring k sit too close on the curve for labels beside them.
        legend = [(f"● {self.albums_at(self._k)} albums now", highlight)] if self._k is not None else []
        legend += [
            (f"○ {mode}: {self.albums_at(self._choices[mode])}", colour) for mode, colour in self._choice_colours()
        ]
        metrics = painter.fontMetrics()
        x = area.left()
        for text_, colour in legend:
            painter.setPen(colour)
            painter.drawText(QPointF(x, area.bottom() + 36), text_)
            x += metrics.horizontalAdvance(text_) + 14

    def _choice_colours(self) -> list[tuple[str, QColor]]:
        return [(m, c) for m, c in (("fewer", _FEWER_COLOUR), ("more", _MORE_COLOUR)) if m in self._choices]


def attach_curve_chart(
    menu: QMenu, curve_source: Callable[[], Any | None], on_choice: Callable[[str], object]
) -> CodingLengthChart:
    """Put a chart at the top of the Re-cluster menu, refreshed each time the menu opens.

    Args:
        menu: the Re-cluster menu.
        curve_source: returns the current `CodingLengthCurve`, or None (the service's `coding_length_curve`).
        on_choice: called with "fewer" or "more" when a point is clicked (the menu closes first).
    """
    chart = CodingLengthChart(menu)
    action = QWidgetAction(menu)
    action.setDefaultWidget(chart)
    first = menu.actions()[0] if menu.actions() else None
    menu.insertAction(first, action)
    separator = menu.insertSeparator(first) if first is not None else menu.addSeparator()

    def refresh() -> None:
        chart.set_curve(curve_source())
        action.setVisible(chart.has_curve)
        separator.setVisible(chart.has_curve)

    def chosen(mode: str) -> None:
        menu.close()
        on_choice(mode)

    menu.aboutToShow.connect(refresh)
    chart.choiceClicked.connect(chosen)
    refresh()
    return chart
