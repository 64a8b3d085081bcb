"""Dashboard screens, one per file (numbered 1-6) plus the help and form dialogs."""
