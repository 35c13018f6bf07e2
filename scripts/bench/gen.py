#!/usr/bin/env python3
"""Input manifests for scripts/bench-controller.sh (deterministic, no network).

  gen.py secrets NAMESPACE COUNT ITEMS      Secrets s0..s<COUNT-1>, ITEMS keys of 32 random bytes each
                                            (to be sealed with kubeseal --cert)
  gen.py unrelated PREFIX NAMESPACES COUNT  COUNT plain Secrets with ~1 KiB of data each, spread
                                            over namespaces PREFIX-0..PREFIX-<NAMESPACES-1>
  gen.py namespaces NAME...                 Namespace objects
Writes a multi-document YAML stream to stdout.
"""
import base64
import os
import sys


def b64(n):
    return base64.b64encode(os.urandom(n)).decode()


def main():
    out = sys.stdout
    mode = sys.argv[1]
    if mode == "secrets":
        ns, count, items = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        for i in range(count):
            out.write("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s%d\n  namespace: %s\ntype: Opaque\ndata:\n" % (i, ns))
            for k in range(items):
                out.write("  key%d: %s\n" % (k, b64(32)))
    elif mode == "unrelated":
        prefix, nss, count = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        for i in range(count):
            out.write(
                "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: unrelated-%d\n  namespace: %s-%d\n"
                "  labels:\n    app: bench-unrelated\ntype: Opaque\ndata:\n  payload: %s\n"
                % (i, prefix, i % nss, b64(1024))
            )
    elif mode == "namespaces":
        for name in sys.argv[2:]:
            out.write("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n" % name)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
