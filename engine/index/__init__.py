"""The index room: bringing a library's files into the catalog (scan, decode, thumbnail, embed), resumably."""
