"""The whole-photo face restoration pipeline: detect → align → restore → inverse warp → paste.

Like facexlib's ``FaceRestoreHelper`` + GFPGAN's ``GFPGANer.enhance`` (and GPEN's face enhancement), with
explicit stages and every network behind a *runner* (numpy NCHW in, numpy out), so the same class serves
dygraph prediction and exported models. All faces of a photo go through the restorer as one batch (split
by ``batch_size``). Settings come from the ``face_helper`` section of a restorer config.
"""
from dataclasses import dataclass, field

import cv2
import numpy as np

from ppgan_face.face.align import FaceAligner, center_face_index, eye_distance, interpolation_flag
from ppgan_face.face.detector import FaceDetector
from ppgan_face.face.paste import FacePaster, inverse_affine
from ppgan_face.face.upsampler import TiledUpsampler


@dataclass
class FaceResult:
    """What one photo gave: aligned input crops, restored faces (uint8 BGR, same order), the detections they
    came from (N, 15), and the restored photo (``None`` in aligned mode)."""

    cropped_faces: list = field(default_factory=list)
    restored_faces: list = field(default_factory=list)
    detections: np.ndarray = field(default_factory=lambda: np.zeros((0, 15), np.float32))
    restored_image: np.ndarray = None


def to_working_image(image):
    """Any BGR / gray / BGRA, 8- or 16-bit image → 3-channel BGR in the 8-bit range, as facexlib's
    ``read_image``: 16-bit scaled by 255/65535 (float64, no precision lost), gray to BGR, alpha dropped."""
    if np.max(image) > 256:
        image = image / 65535 * 255
    if image.ndim == 2:
        image = cv2.cvtColor(image.astype(np.float32) if image.dtype == np.float64 else image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = image[:, :, :3]
    return image


class FacePipeline:
    """Restore every face of a photo and paste it back into the (upscaled) photo.

    Args:
        restorer: runner, N×3×S×S RGB float32 in [-1, 1] → same (S = ``face_size``).
        detector: a :class:`FaceDetector` (itself over a runner); not needed in aligned mode.
        upsampler: a :class:`TiledUpsampler` for the background, or None (Lanczos resize, as upstream).
        parser: face parsing runner (ParseNet) for the ``parsing`` paste mask.
        face_size: side of the aligned faces (the restorer's input size).
        align, paste: ``face_helper.align`` / ``face_helper.paste`` settings (:class:`FaceAligner`,
            :class:`FacePaster`).
        upscale: output size / input size.
        eye_dist_threshold: skip faces whose eyes are closer than this (px): side faces, tiny faces.
        only_center_face: restore only the face nearest the photo centre.
        batch_size: faces per restorer call.
        round_output: restored faces are rounded to uint8 (GFPGAN) or truncated (GPEN); the pasted photo is
            always truncated, as facexlib does.
        aligned_interpolation: resize of an already-aligned input face to ``face_size``.
        weight: fidelity control in [0, 1]: each restored face becomes ``weight · restored + (1 − weight) ·
            aligned input``, a per-pixel blend in aligned-face space before paste-back, rounded to uint8.
            1 (default) is the plain network output; 0 gives back the input (the upstream ``weight``
            argument of GFPGANer is ignored by its networks).
    """

    def __init__(self, restorer, detector=None, upsampler=None, parser=None, *, face_size, align, paste, upscale=2,
                 eye_dist_threshold=None, only_center_face=False, batch_size=4, round_output=True,
                 aligned_interpolation="linear", weight=1.0):
        self.restorer, self.detector, self.upsampler = restorer, detector, upsampler
        self.face_size = int(face_size)
        self.aligner = FaceAligner(face_size, **align)
        self.paster = FacePaster(**paste, parser=parser)
        self.upscale = upscale
        self.eye_dist_threshold = eye_dist_threshold
        self.only_center_face = only_center_face
        self.batch_size = max(1, int(batch_size))
        self.round_output = round_output
        self.aligned_flags = interpolation_flag(aligned_interpolation)
        if not 0 <= weight <= 1:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        self.weight = weight

    @classmethod
    def from_config(cls, config, restorer, detector=None, bg_upsampler=None, parser=None):
        """Build from a loaded restorer config (its ``face_helper`` and ``restorer.input_size``) and runners:
        ``detector`` runs the RetinaFace of the config named in ``face_helper.detector``, ``bg_upsampler``
        the RRDBNet of ``face_helper.bg_upsampler``, ``parser`` the network of the parsing mask's
        ``parser`` config."""
        from ppgan_face.config import load_config

        helper = config["face_helper"]
        det = None
        if detector is not None:
            det_config = load_config(helper["detector"])
            det = FaceDetector(detector, det_config["model"]["network_name"],
                               **{**det_config.get("detector", {}), **helper["detection"]})
        up = None
        if bg_upsampler is not None:
            bg = helper["bg"]
            scale = load_config(helper["bg_upsampler"])["model"]["scale"]
            up = TiledUpsampler(bg_upsampler, scale, bg["tile"], bg["tile_pad"], bg["pre_pad"])
        keys = ("upscale", "eye_dist_threshold", "only_center_face", "batch_size", "round_output",
                "aligned_interpolation", "weight")
        return cls(restorer, det, up, parser, face_size=config["restorer"]["input_size"], align=helper["align"],
                   paste=helper["paste"], **{k: helper[k] for k in keys if k in helper})

    # ---- stages ----
    def detect(self, image):
        """Detections (N, 15) kept for restoration: eye-distance filter, then the centre face if asked."""
        dets = self.detector.detect_large(image)
        if self.eye_dist_threshold is not None:
            dets = dets[[eye_distance(d) >= self.eye_dist_threshold for d in dets]].reshape(-1, 15)
        if self.only_center_face and len(dets):
            dets = dets[[center_face_index(dets, *image.shape[:2])]]
        return dets

    def align(self, image, detections):
        """(aligned crops, affine matrices) for each detection's five landmarks."""
        matrices = [self.aligner.matrix(d[5:15].reshape(5, 2)) for d in detections]
        return [self.aligner.warp(image, m) for m in matrices], matrices

    def restore(self, faces):
        """Aligned BGR faces (8-bit range) → restored uint8 BGR faces, ``batch_size`` per restorer call."""
        if not faces:
            return []
        x = (np.stack(faces) / 255.).astype(np.float32)[..., ::-1].transpose(0, 3, 1, 2)
        x = (x - 0.5) / 0.5
        out = np.concatenate([self.restorer(x[i:i + self.batch_size]) for i in range(0, len(x), self.batch_size)])
        out = (np.clip(out, -1, 1) + 1) / 2
        out = out.transpose(0, 2, 3, 1)[..., ::-1] * 255.0
        restored = out.round() if self.round_output else out
        if self.weight != 1:
            restored = (self.weight * restored.astype(np.float64) + (1 - self.weight) * np.stack(faces)).round()
        return list(np.clip(restored, 0, 255).astype(np.uint8))

    def background(self, image, working):
        """The background at output size (8-bit range, 3 channels) and the upscaled alpha channel or None."""
        h_up, w_up = int(working.shape[0] * self.upscale), int(working.shape[1] * self.upscale)
        alpha = image[:, :, 3] if image.ndim == 3 and image.shape[2] == 4 else None
        if self.upsampler is None:
            bg = working
            alpha = None if alpha is None else cv2.resize(alpha, (w_up, h_up), interpolation=cv2.INTER_LANCZOS4)
        else:
            bg = self.upsampler.enhance(image, outscale=self.upscale)
            if alpha is not None:
                bg, alpha = bg[:, :, :3], cv2.resize(bg[:, :, 3], (w_up, h_up), interpolation=cv2.INTER_LANCZOS4)
            bg = to_working_image(bg)
        return cv2.resize(bg, (w_up, h_up), interpolation=cv2.INTER_LANCZOS4), alpha

    def paste(self, background, restored_faces, matrices):
        inverses = [inverse_affine(m, self.upscale) for m in matrices]
        return self.paster(background, restored_faces, inverses, self.upscale)

    # ---- whole photo ----
    def enhance(self, image, aligned=False):
        """Restore one photo (BGR, gray or BGRA; uint8 or uint16). Returns a :class:`FaceResult` whose
        ``restored_image`` has the input's channels and bit depth (16-bit is processed in the 8-bit range and
        scaled back). With ``aligned=True`` the input is one aligned face, resized to ``face_size``."""
        working = to_working_image(image)
        if aligned:
            face = cv2.resize(working, (self.face_size, self.face_size), interpolation=self.aligned_flags)
            return FaceResult([face], self.restore([face]))
        detections = self.detect(working)
        crops, matrices = self.align(working, detections)
        restored = self.restore(crops)
        background, alpha = self.background(image, working)
        pasted = self.paste(background, restored, matrices)
        return FaceResult(crops, restored, detections, self.finish(pasted, image, alpha))

    @staticmethod
    def finish(pasted, image, alpha):
        """Back to the input's depth and channels: truncated to uint8 as facexlib, or scaled to uint16."""
        if image.dtype == np.uint16 and np.max(image) > 256:
            out = np.clip(np.round(pasted * (65535 / 255)), 0, 65535).astype(np.uint16)
        else:
            out = np.clip(pasted, 0, 255).astype(np.uint8)
        if alpha is not None:
            out = np.concatenate([out, alpha[:, :, None].astype(out.dtype)], axis=2)
        return out
