"""Dashboard widgets, one per file; each draws from the snapshot it is given."""
