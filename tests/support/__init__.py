"""Helpers shared by the test folders (real servers to compare against, client drivers, corpora)."""
