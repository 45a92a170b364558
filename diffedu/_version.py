"""The library's version: pyproject.toml's, the tag a lesson's Colab cell installs and the data URLs name."""
__version__ = "0.3.0"
