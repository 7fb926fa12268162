"""mesosim: a training simulator for mesotherapy injection technique."""

__version__ = "0.1.0"
