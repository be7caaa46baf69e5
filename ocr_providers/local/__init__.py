"""The built-in offline OCR provider (``local``): RapidOCR on onnxruntime with bundled models.

Import ``LocalOcrProvider`` from here or from ``ocr_providers.local.provider``; the engine itself is
only loaded on the first recognition (or by ``LocalOcrProvider.warm()`` at worker start).
"""

from __future__ import annotations

from ocr_providers.local.provider import LocalOcrProvider

__all__ = ["LocalOcrProvider"]
