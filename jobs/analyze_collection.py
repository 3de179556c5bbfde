"""Analyze a collection of videos on a Ray cluster: the entry point for `ray job submit`.

    ray job submit --address http://<head>:8265 --working-dir . -- \
        python jobs/analyze_collection.py --config s3://lab/openfield/config.yaml \
        --videos s3://lab/raw-videos/ --destfolder s3://lab/poses/ --dynamic

Inside a Ray job, RAY_ADDRESS points at the cluster, so `analyze_videos` joins it and spreads
shards over every worker node (one model replica per GPU). Rerunning the same command resumes:
finished videos and shards are skipped. When a video fails the job still analyses the others,
then ends with exit status 1 (the Ray job FAILED) and a line naming the failed videos.
"""

from __future__ import annotations

import argparse
import logging
import sys

import posering as pr
from posering.errors import PoseringError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="config.yaml of the project (local or s3://)")
    parser.add_argument("--videos", required=True, nargs="+", help="video files, folders or s3:// prefixes")
    parser.add_argument("--videotype", default="", help="only this extension in folders, e.g. .mp4")
    parser.add_argument("--destfolder", default=None, help="where outputs go (default: beside each video)")
    parser.add_argument("--shuffle", type=int, default=1)
    parser.add_argument("--trainingsetindex", type=int, default=0)
    parser.add_argument("--num-workers", type=int, default=None, help="model replicas (default: one per GPU of the cluster)")
    parser.add_argument("--gpus-per-worker", type=float, default=None,
                        help="GPUs per replica (default: 1 if the cluster has GPUs now); set it when "
                             "GPU nodes are added on demand")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--dynamic", action="store_true", help="dynamic cropping with (threshold 0.5, margin 10)")
    parser.add_argument("--csv", action="store_true", help="also write CSV tables")
    parser.add_argument("--parquet", action="store_true", help="also write Parquet tables")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    formats = ("h5", "parquet") if args.parquet else ("h5",)
    try:
        scorer = pr.analyze_videos(args.config, args.videos, videotype=args.videotype, shuffle=args.shuffle,
                                   trainingsetindex=args.trainingsetindex, destfolder=args.destfolder,
                                   num_workers=args.num_workers,
                                   gpus_per_worker=args.gpus_per_worker, batch_size=args.batch_size,
                                   dynamic=(args.dynamic, 0.5, 10), save_as_csv=args.csv, output_format=formats)
    except PoseringError as exc:  # VideosFailed among them: the summary above lists every video
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(scorer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
