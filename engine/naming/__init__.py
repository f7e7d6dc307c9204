"""The naming room: the vocabulary, its text features, album names (self-labeling) and text search."""
