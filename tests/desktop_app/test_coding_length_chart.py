"""The coding-length curve in the Re-cluster menu: drawn, the current k marked, Fewer / More clickable."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidgetAction

from desktop_app.coding_length_chart import CodingLengthChart
from engine import CodingLengthCurve
from engine.library import Library

CURVE = CodingLengthCurve(k=4, lengths={2: 90.0, 3: 70.0, 4: 50.0, 5: 55.0, 6: 60.0, 8: 80.0}, fewer=3, more=5)


def store_clustering(directory: Path, k: int, lengths: dict[int, float]) -> None:
    """A current clustering with this curve, written as a re-cluster would (members left out)."""
    with Library(directory, create=False) as library:
        catalog = library.catalog
        model_id = catalog.model_id("test-model", 4)
        with catalog.transaction():
            catalog.clusterings.replace(model_id, None, k, lengths, (b"", "{}"), [])


def test_chart_draws_the_curve_and_clicks_choose_fewer_or_more(qtbot) -> None:
    chart = CodingLengthChart()
    qtbot.addWidget(chart)
    chart.resize(chart.sizeHint())
    assert not chart.has_curve
    chart.set_curve(CURVE)
    assert chart.has_curve and chart.choices() == {"fewer": 3, "more": 5}
    assert "4 albums now" in chart.toolTip()
    # The chosen k has the lowest coding length: it is drawn lowest.
    assert max(chart.point_of(k).y() for k in CURVE.lengths) == chart.point_of(4).y()
    assert "the lowest coding length" in chart.toolTip()

    image = QImage(chart.size(), QImage.Format.Format_ARGB32)
    image.fill(0)
    chart.render(image)  # paints without error, and paints something
    assert any(image.pixel(x, y) != 0 for x in range(0, image.width(), 3) for y in range(0, image.height(), 3))

    chart.show()
    qtbot.waitExposed(chart)
    for mode, k in (("fewer", 3), ("more", 5)):
        with qtbot.waitSignal(chart.choiceClicked) as clicked:
            qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.point_of(k).toPoint())
        assert clicked.args == [mode]
    with qtbot.assertNotEmitted(chart.choiceClicked):
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.point_of(8).toPoint())
    assert chart.choice_at(QPointF(-50, -50)) is None


def test_chart_without_choices_on_one_side(qtbot) -> None:
    chart = CodingLengthChart()
    qtbot.addWidget(chart)
    chart.set_curve(CodingLengthCurve(k=2, lengths={2: 10.0, 3: 12.0}, fewer=None, more=3))
    assert chart.choices() == {"more": 3}
    chart.set_curve(None)
    assert not chart.has_curve and chart.toolTip() == ""


def test_recluster_menu_shows_the_stored_curve_and_reclusters_on_a_click(window, small_library, qtbot) -> None:
    menu = window.recluster_button.menu()
    chart = window.curve_chart
    menu.aboutToShow.emit()
    (chart_action,) = [a for a in menu.actions() if isinstance(a, QWidgetAction) and a.defaultWidget() is chart]
    assert not chart.has_curve and not chart_action.isVisible()  # no clustering yet: the chart is hidden

    store_clustering(small_library.directory, 4, dict(CURVE.lengths))
    curve = window.service.coding_length_curve()
    assert curve == CURVE  # Fewer / More are the next-best k below / above on the curve
    menu.aboutToShow.emit()
    assert chart.has_curve and chart.choices() == {"fewer": 3, "more": 5} and chart_action.isVisible()

    modes: list[str] = []
    window.service.recluster = lambda mode="auto": modes.append(mode) or True  # type: ignore[method-assign]
    chart.choiceClicked.emit("more")
    assert modes == ["more"]


def test_a_k_off_the_lowest_point_says_why(qtbot) -> None:
    chart = CodingLengthChart()
    qtbot.addWidget(chart)
    # The engine's own choice above the lowest point: the photos' clear groups (the spectral gap).
    chart.set_curve(CodingLengthCurve(k=5, lengths=CURVE.lengths, fewer=4, more=6))
    assert "5 albums now: the photos fall into 5 clear groups" in chart.toolTip()
    assert "lowest point of the curve (4)" in chart.toolTip()
    # Below it: the albums are more distinct in the features (a large album the head had split, made whole).
    chart.set_curve(CodingLengthCurve(k=3, lengths=CURVE.lengths, fewer=2, more=4))
    assert "3 albums now: fewer than the lowest point of the curve (4) would make, because these albums" in (
        chart.toolTip()
    )
    # The user's choice (Fewer / More, or a number).
    chart.set_curve(CodingLengthCurve(k=6, lengths=CURVE.lengths, fewer=4, more=8, automatic=False))
    assert "6 albums now, as you chose; the lowest point of the curve is 4." in chart.toolTip()


def test_a_group_waiting_in_other_is_not_counted_as_an_album(qtbot) -> None:
    # k = 5 makes four albums: one group of odd photos waits in Other. Fewer (k = 3) makes three, More (k = 6) five.
    chart = CodingLengthChart()
    qtbot.addWidget(chart)
    chart.resize(chart.sizeHint())
    chart.set_curve(CodingLengthCurve(k=5, lengths=CURVE.lengths, fewer=3, more=6, albums={5: 4, 6: 5}))
    tip = chart.toolTip()
    assert tip.startswith("4 albums now: the photos fall into 5 clear groups")
    assert "The photos of 1 more group fit no album and wait in Other." in tip
    assert "Fewer albums: 3." in tip and "More albums: 5." in tip
    assert chart.choices() == {"fewer": 3, "more": 6}  # the points still re-cluster into those k
    image = QImage(chart.size(), QImage.Format.Format_ARGB32)
    chart.render(image)  # the legend draws the album counts without error
