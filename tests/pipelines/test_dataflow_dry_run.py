"""Offline proof that every pipeline builds as a Dataflow job (issue #6).

Each pipeline runs with ``--runner DataflowRunner --dry_run=True``: Beam's real DataflowRunner
applies its overrides, translates the pipeline to the portable proto and builds the job
(``apiclient.Job``), then returns without submitting; no credentials and no network are used.
The job's worker environment (container image, service options) is built offline from the same
options with Beam's ``apiclient.Environment``, exactly as ``create_job_description`` would.

Every gs:// operation other than naming (``join``) raises during these runs, so the tests also
prove that inputs and outputs stay URIs at construction (nothing is listed, read or written
before the job runs). ``--model`` is a local checkpoint here: the launcher reads and verifies
the checkpoint before building the job (a gs:// model works the same way but needs access to
the bucket from the launcher).
"""

from __future__ import annotations

import base64
import bz2
import contextlib
import zlib
from unittest import mock

import pytest

pytest.importorskip("apache_beam.runners.dataflow.internal.apiclient",
                    reason="needs apache-beam[gcp] (the dev extra installs it)")

from apache_beam.io.gcp.gcsfilesystem import GCSFileSystem  # noqa: E402
from apache_beam.portability import common_urns  # noqa: E402
from apache_beam.portability.api import beam_runner_api_pb2  # noqa: E402
from apache_beam.runners.dataflow import dataflow_runner  # noqa: E402
from apache_beam.runners.dataflow.internal import apiclient  # noqa: E402

from pipelines import generate, recolor, timeline  # noqa: E402
from transforms.inference import Music2PaletteModelHandler  # noqa: E402

IMAGE = "example.com/m2p:gpu"
ACCELERATOR = "worker_accelerator=type:nvidia-l4;count:1;install-nvidia-driver"
DATAFLOW = [
    "--runner", "DataflowRunner", "--dry_run=True", "--project", "test-project",
    "--region", "us-central1", "--temp_location", "gs://bucket/tmp",
    "--sdk_container_image", IMAGE, f"--dataflow_service_options={ACCELERATOR}",
    "--machine_type", "g2-standard-4", "--device", "GPU",
]
# GCS operations that would touch the bucket (join/split only build names).
_REMOTE_OPS = ("match", "open", "create", "exists", "size", "last_updated", "checksum",
               "metadata", "delete", "rename", "copy", "mkdirs", "has_dirs")


@pytest.fixture()
def dry_run(monkeypatch):
    """Run ``pipeline.run(argv)`` as a Dataflow dry run; return (job, handlers built)."""
    jobs, handlers, accessed = [], [], []

    def no_remote_access(op):
        def refuse(self, *args, **kwargs):
            accessed.append((op, args))  # recorded too: a caller may swallow the error
            raise AssertionError(f"gs:// {op}{args!r} while building the job")
        return refuse

    for op in _REMOTE_OPS:
        monkeypatch.setattr(GCSFileSystem, op, no_remote_access(op))
    real_run = dataflow_runner.DataflowRunner.run_pipeline

    def run_pipeline(self, pipeline, options, pipeline_proto=None):
        result = real_run(self, pipeline, options, pipeline_proto)
        jobs.append(result.job)  # set by the runner for dry runs
        return result

    real_init = Music2PaletteModelHandler.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        handlers.append(self)

    monkeypatch.setattr(dataflow_runner.DataflowRunner, "run_pipeline", run_pipeline)
    monkeypatch.setattr(Music2PaletteModelHandler, "__init__", init)

    def go(module, argv):
        module.run(argv)
        assert accessed == [], "gs:// was accessed while building the job"
        assert len(jobs) == 1, "the DataflowRunner did not build a job"
        return jobs[0], handlers

    return go


def _transform_names(job) -> list[str]:
    return [t.unique_name for t in job.proto_pipeline.components.transforms.values()]


def _payload_strings(job) -> bytes:
    """The pickled DoFns of every ParDo in the job (base64, bz2 or zlib), decoded: the values
    the workers will get (URIs, options), as bytes to search."""
    out = []
    for t in job.proto_pipeline.components.transforms.values():
        if t.spec.urn != common_urns.primitives.PAR_DO.urn:
            continue
        raw = base64.b64decode(beam_runner_api_pb2.ParDoPayload.FromString(
            t.spec.payload).do_fn.payload)
        if raw.startswith(b"BZh"):
            raw = bz2.decompress(raw)
        else:
            with contextlib.suppress(zlib.error):
                raw = zlib.decompress(raw)
        out.append(raw)
    return b"\n".join(out)


def _check_job(job, handlers, inputs: list[str], output: str) -> None:
    # The job is the real DataflowRunner's, with our options.
    assert isinstance(job, apiclient.Job)
    assert job.google_cloud_options.project == "test-project"
    assert job.google_cloud_options.region == "us-central1"
    # RunInference is in the graph.
    names = _transform_names(job)
    assert any(n.endswith("/RunInference") or "RunInference" in n for n in names), names
    # The worker environment: our container image, for every environment of the pipeline.
    envs = job.proto_pipeline.components.environments.values()
    assert envs
    for env in envs:
        assert env.urn == common_urns.environments.DOCKER.urn
        payload = beam_runner_api_pb2.DockerPayload.FromString(env.payload)
        assert payload.container_image == IMAGE
    # The Dataflow environment the service would get: the GPU service option, as given.
    env = apiclient.Environment(
        packages=[], options=job.options, environment_version="8",
        proto_pipeline_staged_url="gs://bucket/tmp/staging/pipeline.pb",
        proto_pipeline=job.proto_pipeline).proto
    assert list(env.service_options) == [ACCELERATOR]
    assert "bucket/tmp/" in env.temp_storage_prefix
    assert [p.machine_type for p in env.worker_pools] == ["g2-standard-4"]
    # gs:// inputs and outputs are kept as URIs in the job (pickled into the transforms).
    blob = _payload_strings(job)
    for uri in [*inputs, output]:
        assert uri.rstrip("/").encode() in blob, uri
    # The model handler targets the GPU (it falls back to the CPU on a worker without one).
    assert handlers and all(h._device.type == "cuda" for h in handlers)


def test_timeline_builds_a_dataflow_gpu_job(dry_run, tiny_checkpoint):
    inputs = ["gs://bucket/catalogue/", "gs://bucket/more/*.mp3"]
    job, handlers = dry_run(timeline, [*inputs, "--output", "gs://bucket/out",
                                       "--model", tiny_checkpoint, "--model-copies", "1",
                                       "--batch-size", "256", *DATAFLOW])
    _check_job(job, handlers, inputs, "gs://bucket/out/timelines")
    # One model per worker machine, shared by its SDK processes; GPU-sized batches.
    handler, = handlers
    assert handler.share_model_across_processes() and handler.model_copies() == 1
    assert handler.batch_elements_kwargs()["max_batch_size"] == 256
    assert b"gs://bucket/out/failures" in _payload_strings(job)


def test_recolor_builds_a_dataflow_gpu_job(dry_run, tiny_checkpoint):
    inputs = ["gs://bucket/videos/*.mp4"]
    job, handlers = dry_run(recolor, [*inputs, "--music", "gs://bucket/music/theme.mp3",
                                      "--output", "gs://bucket/rec", "--model", tiny_checkpoint,
                                      *DATAFLOW])
    _check_job(job, handlers, [*inputs, "gs://bucket/music/theme.mp3"], "gs://bucket/rec/media")
    assert any("Recolor" in n for n in _transform_names(job))


def test_generate_builds_a_dataflow_gpu_job(dry_run, tiny_checkpoint):
    inputs = ["gs://bucket/music/"]
    job, handlers = dry_run(generate, [*inputs, "--output", "gs://bucket/gen",
                                       "--model", tiny_checkpoint, *DATAFLOW])
    _check_job(job, handlers, inputs, "gs://bucket/gen/media")
    assert any("Generate" in n for n in _transform_names(job))


@pytest.mark.parametrize("device", ["GPU", "auto"])
def test_gpu_device_falls_back_to_cpu_without_cuda(tiny_checkpoint, device):
    """--device GPU/auto on a machine without a usable GPU runs on the CPU (never fails)."""
    handler = Music2PaletteModelHandler(tiny_checkpoint, device=device)
    assert handler._device.type == "cuda"  # decided on the worker, not when building the job
    with mock.patch("transforms.inference.cuda_usable", return_value=False):
        model = handler.load_model()
    assert handler._device.type == "cpu"
    assert next(model.parameters()).device.type == "cpu"


def test_cpu_device_stays_on_the_cpu(tiny_checkpoint):
    handler = Music2PaletteModelHandler(tiny_checkpoint, device="CPU")
    with mock.patch("transforms.inference.cuda_usable", return_value=True):
        model = handler.load_model()
    assert next(model.parameters()).device.type == "cpu"


def test_default_device_is_auto(dry_run, tiny_checkpoint):
    """Without --device the job's handler also targets the GPU (auto: used where present)."""
    argv = [a for a in DATAFLOW if a not in ("--device", "GPU")]
    job, handlers = dry_run(timeline, ["gs://bucket/in/", "--output", "gs://bucket/out",
                                       "--model", tiny_checkpoint, *argv])
    assert handlers and all(h._device.type == "cuda" and h._auto_device for h in handlers)


def test_flex_template_launcher_builds_the_job(dry_run, tiny_checkpoint):
    """deploy/flex_template/main.py: template parameters (--name=value, comma-separated
    inputs) become the same Dataflow job."""
    import runpy
    from pathlib import Path

    main_py = Path(__file__).resolve().parents[2] / "deploy" / "flex_template" / "main.py"
    launcher = runpy.run_path(str(main_py))
    argv = [a for a in DATAFLOW if a not in ("--runner", "DataflowRunner")]

    class Launcher:  # dry_run calls module.run(argv)
        @staticmethod
        def run(args):
            return launcher["main"](args)

    inputs = ["gs://bucket/catalogue/", "gs://bucket/new/*.mp3"]
    job, handlers = dry_run(Launcher, [f"--inputs={','.join(inputs)}",
                                       "--output=gs://bucket/out", f"--model={tiny_checkpoint}",
                                       "--batch-size=256", *argv])
    _check_job(job, handlers, inputs, "gs://bucket/out/timelines")
