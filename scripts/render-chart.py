#!/usr/bin/env python3
"""Renders the Livedesk Helm chart with the project's own Helm, validates the
objects offline and generates the plain manifests in k8s/.

  render-chart.py render [HELM ARGS...]    JSON list of {source, object} on stdout
  render-chart.py validate [HELM ARGS...]  strict schema check (Kubernetes 1.35)
  render-chart.py k8s [OUT_DIR]            plain manifests from k8s/values.yaml

HELM ARGS go to `helm template` (e.g. -f helm/livedesk/ci/production-values.yaml,
--set auth.existingSecret=x). The tools come from scripts/deploy-tools.sh.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "helm", "livedesk")
HELM = os.path.join(ROOT, ".livedesk", "tools", "bin", "helm")
KUBERNETES_VERSION = "1.35.0"
# Custom resources have no schema in kubernetes-validate; their shape is
# asserted by the Rust tests instead.
CUSTOM_GROUPS = ("monitoring.coreos.com/",)
# Release and namespace of the plain manifests (k8s/README.md).
K8S_RELEASE = "livedesk"
K8S_NAMESPACE = "livedesk"
K8S_VALUES = os.path.join(ROOT, "k8s", "values.yaml")


def die(msg, code=2):
    print(f"render-chart: {msg}", file=sys.stderr)
    sys.exit(code)


try:
    import yaml
except ImportError:
    die("PyYAML is missing: run scripts/deploy-tools.sh")


def helm_template(args, release="livedesk", namespace="livedesk"):
    if not os.access(HELM, os.X_OK):
        die(f"{HELM} is missing: run scripts/deploy-tools.sh")
    cmd = [HELM, "template", release, CHART, "--namespace", namespace, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        die("helm template failed", 1)
    return proc.stdout


def documents(text):
    """Splits helm's output into (source template, object) pairs."""
    out = []
    for chunk in text.split("\n---\n"):
        source = None
        for line in chunk.splitlines():
            if line.startswith("# Source: "):
                source = line[len("# Source: "):].strip()
                break
        obj = yaml.safe_load(chunk)
        if obj is None:
            continue
        if not isinstance(obj, dict) or "kind" not in obj:
            die(f"not a Kubernetes object in {source}", 1)
        out.append({"source": source, "object": obj})
    return out


def cmd_render(args):
    json.dump(documents(helm_template(args)), sys.stdout)


def cmd_validate(args):
    try:
        import kubernetes_validate
    except ImportError:
        die("kubernetes-validate is missing: run scripts/deploy-tools.sh")
    docs = documents(helm_template(args))
    failures = 0
    skipped = 0
    for d in docs:
        obj = d["object"]
        name = f'{obj.get("kind")}/{obj.get("metadata", {}).get("name")}'
        if obj.get("apiVersion", "").startswith(CUSTOM_GROUPS):
            skipped += 1
            print(f"skipped (custom resource): {name}")
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            failures += 1
            path = ".".join(str(p) for p in e.path)
            print(f"invalid: {name}: {path}: {e.message}")
        except Exception as e:  # schema missing for a kind: a failure too
            failures += 1
            print(f"invalid: {name}: {e}")
    print(f"validated {len(docs) - skipped} objects against Kubernetes {KUBERNETES_VERSION} "
          f"(strict), {skipped} custom resources skipped, {failures} invalid")
    sys.exit(1 if failures else 0)


def plain(obj):
    """Turns a chart object into a plain manifest: hooks become plain Jobs,
    Helm's bookkeeping labels go."""
    meta = obj.setdefault("metadata", {})
    ordered = {"name": meta.get("name"), "namespace": meta.get("namespace", K8S_NAMESPACE)}
    ordered.update({k: v for k, v in meta.items() if k not in ordered})
    meta = obj["metadata"] = ordered
    ann = meta.get("annotations") or {}
    for k in [k for k in ann if k.startswith("helm.sh/")]:
        del ann[k]
    if not ann:
        meta.pop("annotations", None)
    for labels in label_maps(obj):
        labels.pop("helm.sh/chart", None)
        if labels.get("app.kubernetes.io/managed-by") == "Helm":
            labels["app.kubernetes.io/managed-by"] = "kubectl"
    return obj


def label_maps(obj):
    yield obj["metadata"].setdefault("labels", {})
    tmpl = obj.get("spec", {}).get("template") if isinstance(obj.get("spec"), dict) else None
    if isinstance(tmpl, dict) and "metadata" in tmpl:
        yield tmpl["metadata"].setdefault("labels", {})


def cmd_k8s(args):
    out_dir = args[0] if args else os.path.join(ROOT, "k8s")
    os.makedirs(out_dir, exist_ok=True)
    docs = documents(helm_template(["-f", K8S_VALUES], K8S_RELEASE, K8S_NAMESPACE))
    files = {}
    for d in docs:
        base = os.path.basename(d["source"] or "other.yaml")
        files.setdefault(base, []).append(plain(d["object"]))
    header = ("# Generated by `make k8s` (scripts/render-chart.py) from helm/livedesk\n"
              "# with k8s/values.yaml. Do not edit: change the chart or the values.\n")
    names = sorted(files)
    for name in names:
        body = "---\n".join(
            yaml.safe_dump(o, sort_keys=False, default_flow_style=False, width=1000)
            for o in files[name])
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(header + "---\n" + body)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": K8S_NAMESPACE,
        "resources": names,
    }
    with open(os.path.join(out_dir, "kustomization.yaml"), "w") as f:
        f.write(header + yaml.safe_dump(kustomization, sort_keys=False))
    print(f"wrote {len(names)} manifest files and kustomization.yaml into {out_dir}")


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("render", "validate", "k8s"):
        die(__doc__.strip())
    {"render": cmd_render, "validate": cmd_validate, "k8s": cmd_k8s}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
