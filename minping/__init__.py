"""minping (民评): third-party evaluation of government-service reform.

The command line and the pipeline that drives the three layers
(``surveys`` -> ``evaluation`` -> ``reports``).
"""

__version__ = "0.1.0"
