#!/usr/bin/env python3
"""Adapts controller-gen's raw CRDs (argoproj.io_*.yaml) for nerve.

Usage: fix.py RAW_DIR OUT_DIR  (writes OUT_DIR/<plural>.yaml for each input file)

Per CRD: drops descriptions and required lists; string fields of format byte become
x-kubernetes-preserve-unknown-fields; the Rollout pod template (spec.template beside
spec.strategy) becomes a preserve-unknown object; every metric `provider` block keeps its
schema and also preserves unknown fields (plugin configs); the top-level status keeps its schema and
preserves unknown fields at every object level (Argo-only status written by Argo's controller); the metadata gets nerve labels and no
annotations; names get short names and categories; versions get printer columns and the status
(and, for Rollouts, scale) subresources. Run through hack/crds/generate.sh.
"""
import os
import sys

import yaml

HEADER = (
    "# Generated from api/v1alpha1 by controller-gen, then adapted for nerve (preserve-unknown\n"
    "# pod template and plugin configs, printer columns, subresources). Do not edit by hand.\n"
)

AGE = ("Age", "date", ".metadata.creationTimestamp", "Time since resource was created")

META = {
    "rollouts": dict(short=["ro"], status=True, scale=True, cols=[
        ("Desired", "integer", ".spec.replicas", "Number of desired pods"),
        ("Current", "integer", ".status.replicas",
         "Total number of non-terminated pods targeted by this rollout"),
        ("Up-to-date", "integer", ".status.updatedReplicas",
         "Total number of non-terminated pods targeted by this rollout that have the desired template spec"),
        ("Available", "integer", ".status.availableReplicas",
         "Total number of available pods (ready for at least minReadySeconds) targeted by this rollout"),
        AGE,
    ]),
    "analysisruns": dict(short=["ar"], status=False, cols=[
        ("Status", "string", ".status.phase", "AnalysisRun status"),
        AGE,
    ]),
    "analysistemplates": dict(short=["at"], cols=[AGE]),
    "clusteranalysistemplates": dict(short=["cat"], cols=[AGE]),
}


def fix(node, path):
    """Rewrites one schema node in place; path is the list of property names leading to it."""
    if isinstance(node, list):
        for item in node:
            fix(item, path)
        return
    if not isinstance(node, dict):
        return
    node.pop("description", None)
    node.pop("required", None)
    if node.get("format") == "byte" and node.get("type") == "string":
        node.clear()
        node["x-kubernetes-preserve-unknown-fields"] = True
        return
    props = node.get("properties")
    if isinstance(props, dict):
        fix_properties(props, path)
    for key, value in list(node.items()):
        if key != "properties":
            fix(value, path + [key])


def fix_properties(props, path):
    for name, value in props.items():
        sub = path + [name]
        if name == "template" and path == ["spec"] and "strategy" in props:
            props[name] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            continue
        fix(value, sub)
        if name == "status" and path == []:
            # status fields of Argo's types that nerve does not model (alb,
            # canary.stablePingPong, canary.stepPluginStatuses, ...) are kept at every level: a
            # controller writing them shares the object
            preserve_objects(value)
        if name == "provider":
            value["x-kubernetes-preserve-unknown-fields"] = True


def preserve_objects(node):
    """Marks node and every object schema below it as preserving unknown fields."""
    if not isinstance(node, dict):
        return
    if node.get("type") == "object" or "properties" in node:
        node["x-kubernetes-preserve-unknown-fields"] = True
    for value in node.get("properties", {}).values():
        preserve_objects(value)
    preserve_objects(node.get("items"))
    preserve_objects(node.get("additionalProperties"))


def subresources(meta):
    sub = {}
    if meta.get("status"):
        sub["status"] = {}
    if meta.get("scale"):
        sub["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.HPAReplicas",
            "labelSelectorPath": ".status.selector",
        }
    return sub


def adapt(crd):
    """Adapts one CRD document in place and returns its plural name."""
    plural = crd["spec"]["names"]["plural"]
    meta = META[plural]
    crd["metadata"].pop("annotations", None)
    crd["metadata"]["labels"] = {"app.kubernetes.io/name": "nerve", "app.kubernetes.io/part-of": "nerve"}
    crd["spec"]["names"]["shortNames"] = meta["short"]
    crd["spec"]["names"]["categories"] = ["nerve", "argoproj"]
    for version in crd["spec"]["versions"]:
        fix(version["schema"]["openAPIV3Schema"], [])
        version["additionalPrinterColumns"] = [
            dict(name=n, type=t, jsonPath=j, description=d) for n, t, j, d in meta["cols"]
        ]
        sub = subresources(meta)
        if sub:
            version["subresources"] = sub
    return plural


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: fix.py RAW_DIR OUT_DIR")
    src, dst = argv[1], argv[2]
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name)) as fh:
            crd = yaml.safe_load(fh)
        plural = adapt(crd)
        with open(os.path.join(dst, plural + ".yaml"), "w") as fh:
            fh.write(HEADER)
            yaml.safe_dump(crd, fh, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv)
