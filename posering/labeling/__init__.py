"""Labeling without a screen: the refinement of machine labels into human labels."""

from posering.labeling.refine_labels import Refinement, load_for_refinement, refine_labels, save_refined

__all__ = ["Refinement", "load_for_refinement", "refine_labels", "save_refined"]
