#!/usr/bin/env python3
"""Times "create N SealedSecrets -> all N Secrets exist" (scripts/bench-controller.sh).

  unseal_timer.py KUBECTL NAMESPACE COUNT TIMEOUT_S -- CREATE_COMMAND...

Starts `kubectl get secrets -n NAMESPACE --watch -o name` (list + watch, so
nothing is missed even if the watch is slow to start), waits 1 s, runs CREATE_COMMAND (which
creates the SealedSecrets), and stops when COUNT distinct Secrets have been seen. Prints one JSON
object: created_s (CREATE_COMMAND's wall time), done_s (first creation to the last Secret),
p50_s / p90_s (when half / 90 % of the Secrets existed), all relative to the start of
CREATE_COMMAND. Exit status 1 on timeout (with what was seen so far).
"""
import json
import subprocess
import sys
import threading
import time


def main():
    sep = sys.argv.index("--")
    kubectl, ns, count, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    create = sys.argv[sep + 1:]
    watch = subprocess.Popen(
        [kubectl, "get", "secrets", "-n", ns, "--watch", "-o", "name", "--request-timeout=0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    seen = {}
    done = threading.Event()

    def reader():
        for line in watch.stdout:
            # `-o name` prints one `secret/NAME` line per event (no event type); the first
            # sighting of a name is its creation, later ones are updates.
            name = line.strip()
            if name and name not in seen:
                seen[name] = time.monotonic()
                if len(seen) >= count:
                    done.set()
                    return
        done.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(1.0)
    start = time.monotonic()
    rc = subprocess.call(create, stdout=subprocess.DEVNULL)
    created = time.monotonic() - start
    ok = rc == 0 and done.wait(timeout)
    watch.terminate()
    times = sorted(v - start for v in seen.values())

    def pct(p):
        return round(times[min(len(times) - 1, int(p * count) - 1)], 3) if len(times) >= p * count else None

    print(json.dumps({
        "count": len(times), "expected": count, "create_rc": rc,
        "created_s": round(created, 3),
        "done_s": round(times[-1], 3) if len(times) >= count else None,
        "p50_s": pct(0.5), "p90_s": pct(0.9),
        "first_s": round(times[0], 3) if times else None,
    }))
    sys.exit(0 if ok and len(times) >= count else 1)


if __name__ == "__main__":
    main()
