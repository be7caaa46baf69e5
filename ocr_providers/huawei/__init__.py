"""Huawei Cloud OCR provider (see ``ocr_providers/README.md`` for the 2024 discontinuation note)."""

from ocr_providers.huawei.provider import ENDPOINTS, HuaweiOcrProvider

__all__ = ["ENDPOINTS", "HuaweiOcrProvider"]
