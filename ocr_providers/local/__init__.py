"""The built-in offline OCR provider (``local``): RapidOCR on onnxruntime with bundled models.

Import ``LocalOcrProvider`` from here or from ``ocr_providers.local.provider``; the engine itself is
only loaded on the first recognition (or by ``LocalOcrProvider.warm()`` at worker start).

The provider is imported on first use, not with the package: the light submodules (``telecode``, the
machine-code readers) serve our own checks, and must not pull in OpenCV and numpy with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocr_providers.local.provider import LocalOcrProvider

__all__ = ["LocalOcrProvider"]


def __getattr__(name: str) -> Any:
    if name == "LocalOcrProvider":
        from ocr_providers.local.provider import LocalOcrProvider

        return LocalOcrProvider
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
