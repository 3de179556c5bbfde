"""Training: augmentation, data loading, the training loop, snapshots and ``train_network``.

``loop.train`` is the loop itself, a plain function of (model config, dataset, device) with
hooks; ``train_network`` runs it for one shuffle of a project and writes DeepLabCut 3's files.
"""
