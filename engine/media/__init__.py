"""The media room: finding photo files under the roots, decoding them, thumbnails, and skip reasons."""
