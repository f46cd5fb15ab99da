"""Pseudo-anomaly generators for the self-supervised methods (DRAEM, NSA, CutPaste).

Each generator takes a uint8 RGB image ``HxWx3`` and a :class:`numpy.random.Generator` and returns
``(augmented, mask)``: the augmented uint8 image of the same shape and a bool ``HxW`` mask that is non-empty and
marks exactly the pixels that changed (every pixel outside the mask equals the input). The same generator state
gives the same output, so training with a seed is reproducible. Nothing here imports torch.
"""

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.components.synthetic.common import changed_pixels
from goodsad_studio.methods.components.synthetic.cutpaste import cutpaste, cutpaste_scar
from goodsad_studio.methods.components.synthetic.nsa import nsa_logistic_label, nsa_patch_blend
from goodsad_studio.methods.components.synthetic.perlin import draem_anomaly, perlin_mask, perlin_noise
from goodsad_studio.methods.components.synthetic.textures import augment_texture, procedural_texture

__all__ = [
    "SyntheticAnomalyError",
    "augment_texture",
    "changed_pixels",
    "cutpaste",
    "cutpaste_scar",
    "draem_anomaly",
    "nsa_logistic_label",
    "nsa_patch_blend",
    "perlin_mask",
    "perlin_noise",
    "procedural_texture",
]
