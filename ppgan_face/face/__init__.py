"""Face pipeline stages around the restoration networks: detection, alignment, restoration, paste-back and
background upsampling, put together by :class:`FacePipeline`."""
from ppgan_face.face.align import FaceAligner, umeyama_similarity
from ppgan_face.face.detector import FaceDetector, decode_boxes, decode_landmarks, nms, prior_boxes
from ppgan_face.face.helper import FacePipeline, FaceResult
from ppgan_face.face.paste import FacePaster, inverse_affine
from ppgan_face.face.upsampler import TiledUpsampler

__all__ = ["FaceAligner", "FaceDetector", "FacePaster", "FacePipeline", "FaceResult", "TiledUpsampler",
           "decode_boxes", "decode_landmarks", "inverse_affine", "nms", "prior_boxes", "umeyama_similarity"]
