"""`localize`: localisation accuracy at IoBB thresholds (Wang et al. 2017, table 3)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from cxrviz.commands._common import data_arguments, follow, load_model, model_arguments
from cxrviz.config import Settings

NAME = "localize"
HELP = "localisation accuracy at IoBB thresholds (Wang et al. 2017, table 3)"


def add_arguments(parser: argparse.ArgumentParser, settings: Settings) -> None:
    data_arguments(parser, settings)
    model_arguments(parser, settings)
    parser.add_argument("--method", default="GradCAM", help="GradCAM, GradCAM++, EigenCAM or ScoreCAM")
    parser.add_argument("--bbox", "--boxes", dest="bbox", type=Path, default=settings.bbox,
                        help="BBox_List_2017.csv, or reviewer boxes from `export --boxes` (default: CXRVIZ_BBOX, else torchxrayvision's copy)")
    parser.add_argument("--fraction", type=float, default=0.5, help="heatmap threshold as a fraction of its peak")
    parser.add_argument("--cam-layer", default=None,
                        help="module path of the layer to explain instead of the model's own (e.g. backbone._blocks.10)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from cxrviz.commands._boxes import ground_truth
    from cxrviz.data.image_index import scan_images
    from cxrviz.explain.localization import accuracy_table, box_scores

    model = load_model(args)
    if args.cam_layer:
        import dataclasses

        from cxrviz.errors import CxrvizError

        try:
            model.layers_at(args.cam_layer)  # inside each member of an ensemble
        except AttributeError as error:
            raise CxrvizError(f"The model has no layer {args.cam_layer!r}.") from error
        model = dataclasses.replace(model, spec=dataclasses.replace(model.spec, cam_layer=args.cam_layer, score_cam_layer=None,
                                                                          fine_cam_layer=None))  # every method on it
    index = scan_images(args.images)
    boxes = ground_truth(args.bbox)  # NIH boxes, or reviewer boxes less NIH boxes marked wrong
    count = int(boxes["image"].isin(list(index.paths)).sum())
    print(f"{count} ground-truth boxes on images present under {args.images}; model {model.spec.name}, {args.method} "
          f"on {model.spec.cam_layer}")
    with tqdm(total=count, desc="localising") as bar:
        table = box_scores(model, boxes, index, args.method, args.fraction, follow(bar))
    print(accuracy_table(table).to_string(float_format=lambda v: f"{v:.2f}"))
    return 0
