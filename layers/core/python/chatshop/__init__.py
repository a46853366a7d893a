"""chatshop: the shared library of every chatshop function, deployed as the core Lambda layer."""

__version__ = "0.1.0"
