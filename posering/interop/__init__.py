"""Moving models between posering and DeepLabCut 3 (import needs no step: DLC3 model folders are
posering model folders)."""
