"""`nodeExporter.masters` set in a stack's config reaches the scrape configs Prometheus reads, as
the engine runs the program."""

from __future__ import annotations

import json

import pytest
import yaml
from pulumi.runtime import rpc

from pks_monitoring.offline.mock_engine import run_program, stack_config
from pks_monitoring.parts.node_exporter import JOB, SCRAPE_CONFIGS_KEY, SCRAPE_CONFIGS_SECRET

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


def test_stack_with_masters_scrapes_each_master_by_name(dev_stack_file):
    config, secret_keys = stack_config(dev_stack_file)
    config["pks-monitoring:nodeExporter"] = json.dumps({"port": 9101, "masters": {"count": 3}})
    run = run_program(config, secret_keys)
    [secret] = [
        r for r in run.recorder.kubernetes_objects() if r.inputs["metadata"]["name"] == SCRAPE_CONFIGS_SECRET
    ]
    jobs = yaml.safe_load(rpc.unwrap_rpc_secret(secret.inputs["stringData"])[SCRAPE_CONFIGS_KEY])
    [vms] = [j for j in jobs if j["job_name"] == f"{JOB}-vms"]
    assert vms["static_configs"] == [
        {"targets": [f"master-{i}.etcd.cfcr.internal:9101"], "labels": {"name": f"master-{i}"}}
        for i in range(3)
    ]
    assert {"target_label": "job", "replacement": JOB} in vms["relabel_configs"]
