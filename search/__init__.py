"""Full-text search for conflict-news archives: parse, tag, index and search articles."""

__version__ = "0.1.0"
