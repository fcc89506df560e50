"""tocsin: an incident-response bot for Slack, Discord, the web, a REST API and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tocsin")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
