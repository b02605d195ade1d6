"""Schema validation of rendered objects, as the API server would judge them.

Core objects are checked with kubernetes-validate in strict mode (unknown fields are errors, like
`kubernetes-validate --strict`); custom resources against the `openAPIV3Schema` of the CRDs that
kube-prometheus ships. Every function returns error strings: an empty list means valid.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

from pks_monitoring.kube_yaml import load_documents

# Schemas of this Kubernetes minor (kubernetes-validate ships 1.25 to 1.37). Every kind the stack
# renders is GA well before it (policy/v1 PDB 1.21, networking.k8s.io/v1 NetworkPolicy 1.7,
# apiregistration.k8s.io/v1 APIService 1.10, apiextensions.k8s.io/v1 CRD 1.16).
KUBERNETES_VERSION = "1.33"

Schemas = dict[tuple[str, str], dict[str, Any]]


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]  # "" for the core group ("v1")


def _format(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path) or "<root>"
    message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
    return f"{path}: {message}"


def validate_core(obj: dict[str, Any]) -> list[str]:
    """Errors of a built-in object against the Kubernetes OpenAPI schema (strict).

    kubernetes-validate stops at the first error, so this reports at most one. Custom resources
    have no schema here: they come back as "couldn't find schema" errors (use validate_custom).
    """
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [_format(error)]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [error.message]
    return []


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of a structural CRD schema that refuses unknown fields.

    The API server prunes (or, with fieldValidation=Strict, rejects) fields a CRD does not declare;
    plain JSON Schema lets them through, so a misspelt field would validate. Close every object
    that declares `properties`, except where the CRD keeps unknown fields. Only the structural
    keywords are followed: anyOf/allOf/oneOf/not branches may list a subset of the properties and
    must stay open.
    """
    schema = copy.copy(schema)
    if "properties" in schema:
        schema["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    if isinstance(schema.get("items"), dict):
        schema["items"] = _strict(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = _strict(schema["additionalProperties"])
    return schema


def crd_schemas(manifests_dir: Path) -> Schemas:
    """(apiVersion, kind) -> openAPIV3Schema (made strict) of every served version of the CRDs
    in manifests_dir/setup."""
    schemas: Schemas = {}
    for path in sorted((manifests_dir / "setup").glob("*.yaml")):
        for doc in load_documents(path.read_text()):
            if doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                    schemas[key] = _strict(version["schema"]["openAPIV3Schema"])
    return schemas


def validate_custom(obj: dict[str, Any], schemas: Schemas) -> list[str]:
    """Errors of a custom resource against its CRD schema: every error, not just the first.

    The whole object is validated; CRD schemas only say `metadata` is an object (the API server
    checks ObjectMeta itself), so metadata is checked loosely.
    """
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    schema = schemas.get(key)
    if schema is None:
        return [f"no CRD defines {key[1]} in {key[0]}"]
    # Draft 7: CRD schemas are OpenAPI v3 (draft-4/5 style); their x-kubernetes-* and `nullable`
    # keywords are unknown to jsonschema and ignored. int-or-string fields carry no `type`, so any
    # value passes them, which is good enough.
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))
    return [_format(error) for error in errors]


def validate_render(out_dir: Path, manifests_dir: Path) -> list[str]:
    """ "<path under out_dir>: <error>" for every object of a render (pks_monitoring.offline.render) that fails.

    Secrets too: the render writes their data in full (secret values as the placeholder in place).
    """
    schemas = crd_schemas(manifests_dir)
    crd_groups = {_group(api_version) for api_version, _ in schemas}
    errors = []
    for path in sorted((out_dir / "k8s").rglob("*.yaml")):
        relative = path.relative_to(out_dir)
        for obj in load_documents(path.read_text()):
            if _group(obj.get("apiVersion", "")) in crd_groups:
                problems = validate_custom(obj, schemas)
            else:
                problems = validate_core(obj)
            errors.extend(f"{relative}: {problem}" for problem in problems)
    return errors
