"""The reviewer-box options of `export` (--boxes, --coco) and `import` (--boxes), kept apart so the
two commands each carry only a few lines for them."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxrviz.commands._common import check_writable


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--boxes", type=Path, default=None, help="write reviewer boxes as a BBox_List_2017.csv-shaped CSV (1024-px frame)")
    parser.add_argument("--coco", type=Path, default=None, help="write reviewer boxes as COCO detection JSON (each image's own pixel frame)")


def export_boxes(args: argparse.Namespace, store, boxes=None) -> None:
    """`boxes`: those the export may hold (`export --as`); every box in the store when not given."""
    from cxrviz.review.box_export import boxes_coco, boxes_csv
    from cxrviz.review.store.boxes import list_boxes

    for path in (args.boxes, args.coco):
        if path is not None:
            check_writable(path)
    boxes = list_boxes(store) if boxes is None else boxes
    if args.boxes is not None:
        args.boxes.write_bytes(boxes_csv(boxes))
        print(f"exported {len(boxes)} boxes to {args.boxes}")
    if args.coco is not None:
        args.coco.write_bytes(boxes_coco(boxes))
        print(f"exported {sum(b.status != 'wrong' for b in boxes)} boxes as COCO to {args.coco}")


def import_boxes(args: argparse.Namespace, store, metadata, importer: str) -> int:
    """`import --boxes FILE`: every row checked against the metadata, then one transaction; a
    refusal prints each problem (row, line, column) and returns 2, having written nothing."""
    import sys

    from tqdm import tqdm

    from cxrviz.review.box_export import BoxImportRefusedError, import_boxes

    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = tqdm(total=total, desc=f"{stage} boxes", unit=" rows", disable=None, file=sys.stderr)
        bars[stage].total = max(total, done)
        bars[stage].update(done - bars[stage].n)

    try:
        added = import_boxes(store, args.boxes, metadata, importer, progress=progress, dry_run=args.dry_run)
    except BoxImportRefusedError as error:
        print(f"error: {str(error).split(chr(10), 1)[0]}", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    finally:
        for bar in bars.values():
            bar.close()
    if args.dry_run:
        print(f"would import {added} boxes from {args.boxes} into {store.where} (dry run: nothing written)")
    else:
        print(f"imported {added} boxes from {args.boxes} into {store.where}")
    return 0


def ground_truth(path: Path | None):
    """`load_boxes` of a BBox_List_2017.csv or of an `export --boxes` CSV; from the latter, rows that
    only mark an NIH box wrong are dropped (they are not boxes of a finding)."""
    import pandas as pd

    from cxrviz.data.boxes import load_boxes

    table = load_boxes(path)
    if path is not None:
        status = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c == "Status")
        if "Status" in status.columns and len(status) == len(table):
            table = table[(status["Status"] != "wrong").to_numpy()].reset_index(drop=True)
    return table
