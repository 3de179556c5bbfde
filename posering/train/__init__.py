"""Training: augmentation, data loading, the training loop, snapshots, ``train_network`` and
``compare_models``.

``loop.train`` is the loop itself, a plain function of (model config, dataset, device) with
hooks; ``train_network`` runs it for shuffles of a project and writes DeepLabCut 3's files, in
this process or on Ray Train (``ray_train``), for a number of epochs or a time budget
(``budget``); ``compare_models`` trains several models to one budget on Ray Tune and ranks them.
"""
