"""A synthetic, GoodsAD-shaped demo dataset, drawn on the fly: the first thing a newcomer opens.

Goods of the six GoodsAD categories (bottles with caps and labels, cans, printed boxes, snack bags, cigarette packs)
stand on a shop shelf, photographed from varying positions and angles under uneven shop light. Defective test
photos carry exact pixel masks of GoodsAD's defect types. See :func:`generate_demo`.

Modules: ``palette`` (colours, names, text), ``layer`` (the product canvas and shared drawing), ``labels``,
``bottles``, ``cans``, ``boxes``, ``packages`` (the goods), ``defects`` and ``openings`` (what goes wrong),
``scene`` (shelf, light, noise, placement), ``categories`` (what each category is made of), ``render`` (one photo
and its mask), ``generator`` (the dataset on disk).
"""

from goodsad_studio.dataset.demo.generator import DEMO_CATEGORIES, DEMO_DEFECTS, DEMO_VERSION, generate_demo
from goodsad_studio.dataset.demo.render import Sample, render_sample

__all__ = ["DEMO_CATEGORIES", "DEMO_DEFECTS", "DEMO_VERSION", "Sample", "generate_demo", "render_sample"]
