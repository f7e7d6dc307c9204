"""PhotoAtlas desktop application: a thin PySide6 shell over the engine (see engine.Library)."""
