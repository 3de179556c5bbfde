"""DeepLabCut's file formats, one module per kind of file (see docs/architecture.md).

* :mod:`~posering.formats.tables`: the HDF5/CSV table files the kinds below are stored in;
* :mod:`~posering.formats.labels`: ``CollectedData_<scorer>.h5/.csv`` and machine labels;
* :mod:`~posering.formats.poses`: a video's analysis files (poses h5/csv/parquet, ``_meta``);
* :mod:`~posering.formats.splits`: a training dataset's split records and ``metadata.yaml``;
* :mod:`~posering.formats.pickles`: DeepLabCut's pickles, read through one allow-list;
* :mod:`~posering.formats.snapshots`: ``snapshot-*.pt``, named, listed, read and written;
* :mod:`~posering.formats.model_config`: ``pytorch_config.yaml`` (and ``posering.yaml``), read
  once into the ``ModelConfig`` the steps carry.

A format is added or fixed in its one module; the steps call these modules and never write or
parse a DeepLabCut file themselves. File names come from :mod:`posering.project.paths`.
"""
