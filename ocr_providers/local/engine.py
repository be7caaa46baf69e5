"""The OCR engine adapter: RapidOCR 3.10 on onnxruntime, behind a two-call interface.

Everything above this module sees only ``OcrEngine.page(image) -> [Box]`` and
``OcrEngine.line(crop) -> (text, score)``, so the engine version can be pinned and swapped
(OFFLINE-OCR.md section 7.1). What this module guarantees:

* only the three models bundled in the ``rapidocr`` wheel are used, named by explicit path and
  verified by SHA-256 before loading, so rapidocr's downloader (it fetches any model missing from its
  package directory, pitfall 12) can never run;
* the per-line 0/180 degree classifier is off (it flips short strings such as ``***CZ``, pitfall 1);
  upside-down pages are handled at page level by the caller;
* every call passes all three ``use_*`` flags, because rapidocr 3.x stores them on the instance
  (pitfall 11), and a lock keeps two threads from interleaving calls on the shared instance;
* one engine per process (``get_engine``), warmed by ``warm()`` at worker start, with onnxruntime's
  intra-op threads sized as cores // OCR workers (pitfall 7).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from ocr_providers.exceptions import OcrMisconfigured

__all__ = [
    "ENGINE_VERSION",
    "MODEL_SHA256",
    "Box",
    "OcrEngine",
    "RapidOcrEngine",
    "get_engine",
    "model_paths",
    "threads_for",
    "verify_models",
    "warm",
]

log = logging.getLogger(__name__)

ENGINE_VERSION = "3.10.0"

# The bundled PP-OCRv6 small det/rec and the v2 mobile classifier of rapidocr 3.10.0 (also in NOTICE).
# The classifier is never run, but it is verified too: rapidocr would download it if it were missing.
MODEL_SHA256: dict[str, str] = {
    "PP-OCRv6_det_small.onnx": "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    "PP-OCRv6_rec_small.onnx": "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    "ch_ppocr_mobile_v2.0_cls_mobile.onnx": ("e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
}
_ROLE_FILE = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

Image = NDArray[np.uint8]
PAGE_SIDE = 1280  # long side the page is detected at (see RapidOcrEngine.page)


@dataclass(frozen=True)
class Box:
    """One recognised text line: its text, the recogniser's score and its four corners
    (top-left, top-right, bottom-right, bottom-left along the text direction) in image pixels."""

    text: str
    score: float
    quad: tuple[tuple[float, float], ...] = field(repr=False)

    @property
    def center(self) -> tuple[float, float]:
        xs, ys = zip(*self.quad, strict=True)
        return sum(xs) / 4, sum(ys) / 4

    @property
    def height(self) -> float:
        (x0, y0), _, _, (x3, y3) = self.quad
        return float(np.hypot(x3 - x0, y3 - y0))

    @property
    def width(self) -> float:
        (x0, y0), (x1, y1), _, _ = self.quad
        return float(np.hypot(x1 - x0, y1 - y0))

    @property
    def angle(self) -> float:
        """Direction of the text baseline in degrees (0 = left to right, y down)."""
        (x0, y0), (x1, y1), _, _ = self.quad
        return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


class OcrEngine(Protocol):
    """What the extractors need from an OCR engine."""

    version: str

    def page(self, image: Image) -> list[Box]: ...

    def line(self, crop: Image) -> tuple[str, float]: ...


def model_dir() -> Path:
    """The ``models`` directory inside the installed rapidocr wheel."""
    try:
        dist = metadata.distribution("rapidocr")
    except metadata.PackageNotFoundError:
        raise OcrMisconfigured("the local OCR provider needs rapidocr==3.10.0 installed") from None
    if dist.version != ENGINE_VERSION:
        raise OcrMisconfigured(f"the local OCR provider is pinned to rapidocr {ENGINE_VERSION}, found {dist.version}")
    return Path(str(dist.locate_file("rapidocr/models")))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_models(directory: Path | None = None) -> dict[str, Path]:
    """Check every pinned model file exists with its recorded hash; refuse to start otherwise."""
    directory = directory or model_dir()
    found: dict[str, Path] = {}
    for name, expected in MODEL_SHA256.items():
        path = directory / name
        if not path.is_file():
            raise OcrMisconfigured(f"bundled OCR model missing: {path}")
        if _sha256(path) != expected:
            raise OcrMisconfigured(f"bundled OCR model {path} does not match its pinned SHA-256")
        found[name] = path
    return found


def model_paths() -> dict[str, Path]:
    """Role (Det/Rec/Cls) -> verified model path."""
    files = verify_models()
    return {role: files[name] for role, name in _ROLE_FILE.items()}


def threads_for(options: Mapping[str, Any]) -> int:
    """onnxruntime intra-op threads: ``options["threads"]`` if given, else cores // OCR workers.

    ``ocr_workers`` is how many OCR worker processes share this machine (the django-q2 cluster size);
    giving each the default thread-per-core oversubscribes the CPU (OFFLINE-OCR.md section 5.5).
    """
    if options.get("threads"):
        return max(1, int(options["threads"]))
    cores = int(options.get("cores") or os.cpu_count() or 1)
    workers = max(1, int(options.get("ocr_workers") or 1))
    return max(1, cores // workers)


def _squarish(image: Image) -> Image:
    """Pad (white, bottom or right) so the short side is at least half the long side.

    The detector scales the short side *up* to 736 px: a 64 x 320 strip became a 736 x 3,680 input,
    and that one call set the worker's peak memory (711 MB). Padding keeps every input under about
    1,500 px without moving any box.
    """
    h, w = image.shape[:2]
    need = max(h, w) // 2
    if min(h, w) >= need:
        return image
    pad_h, pad_w = max(0, need - h), max(0, need - w)
    padded = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    return np.asarray(padded, dtype=np.uint8)


def _quad(points: Sequence[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in points)


class RapidOcrEngine:
    """rapidocr 3.10 with the bundled models, the line classifier off and fixed call flags."""

    version = f"rapidocr-{ENGINE_VERSION}/PP-OCRv6-small"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr import RapidOCR  # heavy import; only when an engine is actually built

        paths = model_paths()
        params: dict[str, Any] = {
            "Global.use_cls": False,
            "Global.log_level": "warning",
            # Keep weak boxes: the extractors weigh scores themselves and need every candidate.
            "Global.text_score": 0.3,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        for role, path in paths.items():
            params[f"{role}.model_path"] = str(path)
        self._ocr = RapidOCR(params=params)
        self._lock = threading.Lock()
        self.threads = threads

    def page(self, image: Image) -> list[Box]:
        """Detect and recognise every text line of a BGR image (coordinates in ``image`` pixels)."""
        # Detection cost grows with pixels and rapidocr never shrinks below 2,000 px: a 1600x1200
        # phone photo took 2.7 s. At PAGE_SIDE the smallest label is still ~12 px tall.
        factor = min(1.0, PAGE_SIDE / max(image.shape[:2]))
        shrunk = image if factor == 1.0 else cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        work = _squarish(np.asarray(shrunk, dtype=np.uint8))
        with self._lock:
            out: Any = self._ocr(work, use_det=True, use_cls=False, use_rec=True)
        if getattr(out, "boxes", None) is None or out.txts is None:
            return []
        return [
            Box(text=str(t), score=float(s), quad=_quad(np.asarray(q) / factor))
            for t, s, q in zip(out.txts, out.scores, out.boxes, strict=True)
        ]

    def line(self, crop: Image) -> tuple[str, float]:
        """Recognise one already-cropped text line (no detection)."""
        with self._lock:
            out: Any = self._ocr(crop, use_det=False, use_cls=False, use_rec=True)
        texts = getattr(out, "txts", None)
        if not texts:
            return "", 0.0
        return str(texts[0]), float(out.scores[0])


_engine: RapidOcrEngine | None = None
_engine_lock = threading.Lock()


def get_engine(threads: int = 1) -> RapidOcrEngine:
    """The process-wide engine, built on first use (models load once per worker process)."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = RapidOcrEngine(threads=threads)
    return _engine


def warm(threads: int = 1) -> RapidOcrEngine:
    """Build the engine and run one small inference so the first real request pays no load cost.

    rapidocr 3.x loads its ONNX sessions lazily on the first call; call this at worker start.
    """
    engine = get_engine(threads)
    # Card-shaped and small: the detector's input stays near its 736 px minimum (see ``_squarish``).
    canvas = np.full((240, 320, 3), 255, dtype=np.uint8)
    canvas[112:128, 20:300] = 0  # one dark bar: enough for detection and recognition to load
    engine.page(canvas)
    engine.line(canvas[100:140])
    return engine
