"""Simulator profiles: which surface the simulated Alice serves ("guide" or a recording)."""
