"""How a copy of the page read by Tesseract relates to the scan: turned upright, straightened,
enlarged; points mapped both ways, so every reading's words land on the original scan.

variant = scale * R(angle) * turn(k) * original, with `turn` a quarter turn (numpy rot90,
counter-clockwise) and R a rotation about the turned image's centre (OpenCV, same size, white
fill). The scan itself is never changed: only the copy Tesseract reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

Floats = npt.NDArray[np.float64]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Transform:
    """Original scan -> the copy that was read."""

    size: tuple[int, int]  # the original's (width, height) in pixels
    k: int = 0  # quarter turns counter-clockwise
    angle: float = 0.0  # degrees counter-clockwise, about the turned image's centre
    scale: float = 1.0

    @property
    def identity(self) -> bool:
        return self.k % 4 == 0 and abs(self.angle) < 1e-6 and self.scale == 1.0

    def _turned_size(self) -> tuple[int, int]:
        w, h = self.size
        return (h, w) if self.k % 2 else (w, h)

    def matrix(self) -> Floats:
        """3x3 homogeneous matrix: original pixel -> copy pixel."""
        w, h = self.size
        turn = {
            0: np.eye(3),
            1: np.array([[0, 1, 0], [-1, 0, w - 1], [0, 0, 1]], float),
            2: np.array([[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]], float),
            3: np.array([[0, -1, h - 1], [1, 0, 0], [0, 0, 1]], float),
        }[self.k % 4]
        tw, th = self._turned_size()
        rot = np.vstack([cv2.getRotationMatrix2D((tw / 2.0, th / 2.0), self.angle, 1.0), [0, 0, 1]])
        result: Floats = np.diag([self.scale, self.scale, 1.0]) @ rot @ turn
        return result

    def forward(self, x: Floats, y: Floats) -> tuple[Floats, Floats]:
        m = self.matrix()
        return m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]

    def inverse(self, x: Floats, y: Floats) -> tuple[Floats, Floats]:
        m = np.linalg.inv(self.matrix())
        return m[0, 0] * x + m[0, 1] * y + m[0, 2], m[1, 0] * x + m[1, 1] * y + m[1, 2]

    def box_to_original(self, box: Box) -> Box:
        """The box in the original scan that encloses a box of the copy."""
        x0, y0, x1, y1 = box
        xs, ys = self.inverse(np.array([x0, x1, x1, x0], float), np.array([y0, y0, y1, y1], float))
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    def apply(self, g: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """Make the copy from the original page (8-bit gray)."""
        out = np.ascontiguousarray(np.rot90(g, self.k % 4)) if self.k % 4 else g
        if abs(self.angle) > 1e-6:
            th, tw = out.shape
            m = cv2.getRotationMatrix2D((tw / 2.0, th / 2.0), self.angle, 1.0)
            turned = cv2.warpAffine(out, m, (tw, th), flags=cv2.INTER_LINEAR, borderValue=255)
            out = np.asarray(turned, dtype=np.uint8)
        if self.scale != 1.0:
            th, tw = out.shape
            size = (round(tw * self.scale), round(th * self.scale))
            out = np.asarray(
                Image.fromarray(out).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8
            )
        return out

    def pdf_matrix(self, dpi: float) -> tuple[float, float, float, float, float, float]:
        """The PDF `cm` matrix that maps the text layer Tesseract made of the copy (points, y
        up, the copy read at `dpi` x scale) onto the original page (points at `dpi`)."""
        h = self.size[1]
        th = self._turned_size()[1]
        pt, s = 72.0 / dpi, self.scale
        # copy points -> copy pixels (y down) -> original pixels -> original points (y up)
        to_px = np.array([[s / pt, 0, 0], [0, -s / pt, th * s], [0, 0, 1]])
        to_pt = np.array([[pt, 0, 0], [0, -pt, h * pt], [0, 0, 1]])
        m = to_pt @ np.linalg.inv(self.matrix()) @ to_px
        return (m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])
