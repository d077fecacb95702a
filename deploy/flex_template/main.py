"""Flex Template entry point: ``python main.py --inputs ... --output ... [Beam options]``.

Dataflow passes the template's parameters as ``--name=value`` flags. ``inputs`` is one
comma-separated parameter (template parameters are single strings); ``command`` picks the
pipeline (timeline by default). Everything else goes to the pipeline unchanged, as with `m2p`.
"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--command", default="timeline",
                        choices=["timeline", "recolor", "generate"])
    parser.add_argument("--inputs", required=True, help="comma-separated files/folders/globs")
    known, rest = parser.parse_known_args(argv)
    inputs = [i.strip() for i in known.inputs.split(",") if i.strip()]
    if known.command == "timeline":
        from pipelines import timeline as pipeline
    elif known.command == "recolor":
        from pipelines import recolor as pipeline
    else:
        from pipelines import generate as pipeline
    # The launcher submits the job and returns; it does not wait for the workers.
    summary = pipeline.run([*inputs, *rest, "--runner", "DataflowRunner"])
    print(summary.text())
    return 0


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    sys.exit(main())
