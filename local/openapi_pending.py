"""Removes from an OpenAPI document the parts of the API contract this build does not serve yet, so the
conformance run fuzzes what exists. Everything it removes is named on the command line (see local/conformance.sh);
with nothing named it copies the document unchanged.

usage: openapi_pending.py IN OUT --operations 'REGEX ...' --parameters 'REGEX ...' --properties 'Schema.prop ...'
"""
import argparse
import json
import re

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--operations", default="", help="operationId regexes (full match), space-separated")
    ap.add_argument("--parameters", default="", help="parameter name regexes (full match), space-separated")
    ap.add_argument("--properties", default="", help="Schema.property pairs of components.schemas, space-separated")
    args = ap.parse_args()
    ops = [re.compile(p) for p in args.operations.split()]
    params = [re.compile(p) for p in args.parameters.split()]
    doc = json.load(open(args.src))
    removed = []

    def drop_param(p: dict) -> bool:
        ref = p.get("$ref", "")
        if ref:
            p = doc["components"]["parameters"][ref.rsplit("/", 1)[1]]
        return any(r.fullmatch(p.get("name", "")) for r in params)

    for path in list(doc["paths"]):
        item = doc["paths"][path]
        for method in [m for m in item if m in METHODS]:
            op = item[method]
            if any(r.fullmatch(op.get("operationId", "")) for r in ops):
                del item[method]
                removed.append(f"operation {method.upper()} {path}")
                continue
            kept = [p for p in op.get("parameters", []) if not drop_param(p)]
            if len(kept) != len(op.get("parameters", [])):
                removed.append(f"{len(op['parameters']) - len(kept)} parameter(s) of {method.upper()} {path}")
                op["parameters"] = kept
        if not any(m in METHODS for m in item):
            del doc["paths"][path]
    # Links to operations no longer in the document would dangle.
    present = {op.get("operationId") for item in doc["paths"].values() for m, op in item.items() if m in METHODS}
    for item in doc["paths"].values():
        for m in [m for m in item if m in METHODS]:
            for response in item[m].get("responses", {}).values():
                links = response.get("links", {})
                for name in [n for n, link in links.items() if link.get("operationId") not in present]:
                    del links[name]
                    removed.append(f"link {name} of {m.upper()}")
    for pair in args.properties.split():
        schema, prop = pair.split(".", 1)
        s = doc.get("components", {}).get("schemas", {}).get(schema)
        if s and prop in s.get("properties", {}):
            del s["properties"][prop]
            removed.append(f"property {pair}")
    json.dump(doc, open(args.dst, "w"), indent=1)
    for r in removed:
        print(f"  pending, not fuzzed: {r}")


if __name__ == "__main__":
    main()
