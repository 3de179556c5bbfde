"""The public labels API: ``posering.labels.read_labels``, ``save_labels``, ``points``, ...

The labels table and its DeepLabCut files live in :mod:`posering.formats.labels`; this module
re-exports every public name of it, so code written against ``posering.labels`` keeps working.
"""

from posering.formats.labels import *  # noqa: F401,F403  (the public names of the format module)
