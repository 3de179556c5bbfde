"""Evaluation: errors on the train/test frames (``evaluate_network``), evaluation images and
score maps (``extract_save_all_maps``), written as DeepLabCut 3 writes them."""
