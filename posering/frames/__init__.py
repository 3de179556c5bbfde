"""Choosing and saving frames: extraction for labeling, outlier frames for refinement."""
