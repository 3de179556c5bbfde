"""DeepLabCut's file formats, one module per kind of file (see docs/architecture.md).

* :mod:`~posering.formats.tables`: the HDF5/CSV table files every kind below is stored in;
* :mod:`~posering.formats.labels`: ``CollectedData_<scorer>.h5/.csv`` and machine labels.

A format is added or fixed in its one module; the steps call these modules and never write or
parse a DeepLabCut file themselves.
"""
