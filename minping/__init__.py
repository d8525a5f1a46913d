"""minping (民评): third-party evaluation of government-service reform.

The command line and the pipeline that drive the three layers
(``surveys`` -> ``evaluation`` -> ``reports``).  For Python use, import
the public API: ``import minping.api as mp``.
"""

from evaluation.result import toolkit_version

__version__ = toolkit_version()
