"""Tencent Cloud OCR provider (see ``ocr_providers/README.md``)."""

from ocr_providers.tencent.provider import ACTIONS, TencentOcrProvider

__all__ = ["ACTIONS", "TencentOcrProvider"]
