"""Reproducible benchmarks; run each as ``python -m benchmarks.<name>``. Results are printed, never asserted."""
